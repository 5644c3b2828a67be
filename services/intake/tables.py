"""Intake's schema: applications, their per-item state, the status timeline, the bus tables."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from shared.auth import api_keys_table
from shared.bus.tables import inbox_table, outbox_table
from shared.idempotency import idempotency_table
from shared.ratelimit import rate_limits_table
from shared.rekey import KeyColumn

SCHEMA = "intake"
metadata = MetaData(schema=SCHEMA)

applications = Table(
    "applications",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("holder_id_number", String(18), nullable=False),
    Column("holder_name", String(100), nullable=False),
    Column("holder_phone", String(20), nullable=False),
    Column("permit_number", String(40), nullable=False),
    Column("intent", String(40), nullable=False),
    Column("principal", String(200), nullable=False),
    Column("acting_as", String(40), nullable=False),
    Column("declared_facts", JSONB, nullable=False),
    Column("family", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("consent", Boolean, nullable=False),
    # Who acted for whom and on what authority (委托办); null when holders apply for themselves.
    Column("delegation", JSONB),
    Column("modules", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("applied_on", Date, nullable=False),
    Column("cut_off_date", Date, nullable=False),
    Column("status", String(20), nullable=False),
    Column("score_version", Integer),
    Column("score_status", String(20)),
    Column("score_total", Float),
    Column("rule_set_id", String(60)),
    Column("notice_url", String(300)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
# One open application per holder: a second one while the first is in progress is a 409.
Index(
    "uq_applications_open_per_holder",
    applications.c.holder_id_number,
    unique=True,
    postgresql_where=text("status IN ('submitted', 'verifying')"),
)
Index("ix_applications_principal_created", applications.c.principal, applications.c.created_at)

application_items = Table(
    "application_items",
    metadata,
    # No foreign key, as for the timeline: rows come from other services' events.
    Column("application_id", String(40), primary_key=True),
    Column("indicator", String(60), primary_key=True),
    Column("department", String(40), nullable=False),
    Column("state", String(20), nullable=False),
    Column("reason", String(500)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

timeline = Table(
    "timeline",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    # No foreign key: the timeline is fed by other services' events, and an event about an
    # application intake does not hold (another channel's, or one not yet committed) must not
    # poison the consumer. It simply never shows on any status page.
    Column("application_id", String(40), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("event_type", String(60), nullable=False),
    Column("source", String(40), nullable=False),
    Column("summary", JSONB, nullable=False),
)

# Holders barred from applying (forged materials: five years), learnt from scoring's events.
holder_bars = Table(
    "holder_bars",
    metadata,
    Column("holder_id_number", String(18), primary_key=True),
    Column("barred_until", Date, nullable=False),
    Column("reason", String(300), nullable=False),
    Column("application_id", String(40), nullable=False),
)

# Supporting materials, kept whole with their SHA-256: a department reviews exactly what was sent.
# Stored in the database for simplicity of operation; an object store would hold them at scale.
materials = Table(
    "materials",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("application_id", String(40), nullable=False, index=True),
    Column("indicator", String(60), nullable=False),
    Column("purpose", String(20), nullable=False),  # evidence / supplement / authorisation
    Column("media_type", String(40), nullable=False),  # sniffed from the content
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("filename", String(200)),
    Column("principal", String(200), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

idempotency_keys = idempotency_table(metadata)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
api_keys = api_keys_table(metadata)
# Abuse limits: requests per bucket (action, key or client address) and hour (shared.ratelimit).
rate_limits = rate_limits_table(metadata)

# Where this service keeps pseudonymous holder keys (shared.pseudonyms): `python -m shared.rekey`
# replaces them after a salt rotation. A table that stores a key must be listed here.
HOLDER_KEYS = [KeyColumn(outbox.c.payload)]  # the events: keys of the holder and family
