"""Publicity's schema: notices (masked at write time), the bus tables."""
from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Float, Integer, MetaData, String, Table, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB

from shared.auth import api_keys_table
from shared.bus.tables import inbox_table, outbox_table

SCHEMA = "publicity"
metadata = MetaData(schema=SCHEMA)

# Only masked personal data is ever stored here: a public page cannot leak what it never had.
notices = Table(
    "notices",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("application_id", String(40), nullable=False, index=True),
    Column("score_version", Integer, nullable=False),
    Column("holder_name_masked", String(100), nullable=False),
    Column("id_number_masked", String(18), nullable=False),
    Column("total", Float, nullable=False),
    Column("categories", JSONB, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("rule_set_id", String(60), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("application_id", "score_version", name="uq_notices_application_version"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
api_keys = api_keys_table(metadata)
