"""Verification's schema: results per department, the hash-chained audit log, the bus tables."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from shared.auth import api_keys_table
from shared.bus.tables import inbox_table, outbox_table
from shared.rekey import KeyColumn

SCHEMA = "verification"
metadata = MetaData(schema=SCHEMA)

results = Table(
    "results",
    metadata,
    Column("application_id", String(40), primary_key=True),
    Column("department", String(40), primary_key=True),
    Column("items", JSONB, nullable=False),
    Column("facts", JSONB, nullable=False),
    Column("verified_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # What a later decision needs to answer again: {holder, expected_departments, cut_off_date, applied_on}
    Column("context", JSONB),
)

# A module owner's registry, registered by the owner (`PUT /v1/owners/{owner}/source`): where its
# verifier asks for the owner's facts, and the bearer credential it presents. The credential is
# a secret: no response ever carries it, only that one is set.
owner_sources = Table(
    "owner_sources",
    metadata,
    Column("owner", String(40), primary_key=True),
    Column("url", Text, nullable=False),
    Column("credential", Text, nullable=False),
    Column("registered_by", String(200), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# The desk: a task an officer must decide (today: a returned item the applicant supplemented).
# The table keeps its name from before the desk had one (renaming it would be a migration for a word).
desk_tasks = Table(
    "review_tasks",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("department", String(40), nullable=False),
    Column("application_id", String(40), nullable=False),
    Column("indicator", String(60), nullable=False),
    Column("material", JSONB, nullable=False),  # {id, media_type, size, sha256, url}
    Column("deadline", Date),
    Column("state", String(20), nullable=False, server_default="pending"),  # pending / decided
    Column("decision", JSONB),
    Column("decided_by", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("decided_at", DateTime(timezone=True)),
    Column("material_id", String(40), nullable=False),
    UniqueConstraint("department", "material_id", name="uq_review_task_material"),
)
Index("ix_review_tasks_queue", desk_tasks.c.department, desk_tasks.c.state, desk_tasks.c.id)

# Append-only: every registry query, who asked, for what, what came back. Each row's hash
# covers the previous row's hash, so an edited or deleted row breaks the chain.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("department", String(40), nullable=False, index=True),
    Column("application_id", String(40), nullable=False, index=True),
    Column("requester", String(100), nullable=False),
    Column("fact", String(60), nullable=False),
    Column("query", JSONB, nullable=False),
    Column("response", JSONB, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# The head of each department's chain; locking it serialises appends to that chain only.
audit_heads = Table(
    "audit_heads",
    metadata,
    Column("department", String(40), primary_key=True),
    Column("last_hash", String(64), nullable=False),
)

# Each department's chain head as it was (entry id and hash), recorded every few minutes; the
# service may only add rows, so a tail cut off the log later still shows against its anchor.
audit_anchors = Table(
    "audit_anchors",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("department", String(40), nullable=False),
    Column("entry_id", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("anchored_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published", Boolean, nullable=False, server_default=false()),  # also sent on the bus (daily)
)
Index("ix_audit_anchors_head", audit_anchors.c.department, audit_anchors.c.entry_id)
Index("ix_audit_log_chain", audit_log.c.department, audit_log.c.id)

# Dishonesty records owed to the credit registry (forged materials): written with the desk's
# decision, in its transaction, then sent by the credit department's reporter (credit_reports.py),
# however long the registry is away. `act` makes the record one per forged item, sent once.
credit_reports = Table(
    "credit_reports",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("act", String(120), nullable=False, unique=True),
    Column("application_id", String(40), nullable=False),
    Column("id_number", String(18), nullable=False),
    Column("listed_on", Date, nullable=False),
    Column("reason", String(300), nullable=False),
    Column("state", String(20), nullable=False, server_default="pending"),  # pending / sent
    Column("attempts", BigInteger, nullable=False, server_default="0"),
    Column("last_error", String(500)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True)),
)
Index("ix_credit_reports_pending", credit_reports.c.state, credit_reports.c.id)

# A 模拟积分 campaign's draw from the permit register (services/verification/campaigns.py): the plan's
# strata and who was drawn, by pseudonymous key only. Kept until `keep_until` (the campaign's end
# and retention period), then the retention sweep removes them.
campaign_draws = Table(
    "campaign_draws",
    metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("title_zh", String(200), nullable=False),
    Column("strata", JSONB, nullable=False),
    Column("cut_off_date", Date, nullable=False),
    Column("keep_until", DateTime(timezone=True), nullable=False),
    Column("drawn_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
campaign_invitations = Table(
    "campaign_invitations",
    metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("holder_key", String(64), primary_key=True),
    Column("stratum", BigInteger, nullable=False),
    Column("keep_until", DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
api_keys = api_keys_table(metadata)

# Where this service keeps pseudonymous holder keys (shared.pseudonyms): `python -m shared.rekey`
# replaces them after a salt rotation. A table that stores a key must be listed here.
HOLDER_KEYS = [
    KeyColumn(results.c.context),
    KeyColumn(outbox.c.payload),
    KeyColumn(campaign_invitations.c.holder_key),
]
