"""Retention: the running services prune sent outbox rows, inbox ids and idempotency keys once
their periods are over, and keep everything younger, and every event not yet sent."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.bus.tables import inbox_table, outbox_table
from shared.idempotency import idempotency_table
from shared.retention import prune, rules_for
from shared.settings import Settings
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration

SERVICES = ("intake", "verification", "scoring", "publicity")
# Older than every default period (7 days of outbox and idempotency keys, 30 days of inbox ids).
LONG_AGO = "now() - interval '45 days'"
RECENT = "now() - interval '2 days'"


async def test_each_service_prunes_what_its_periods_let_go_and_keeps_the_rest(platform):
    engine = create_async_engine(platform.database_url)
    marks: dict[str, dict[str, uuid.UUID]] = {}
    try:
        async with engine.begin() as conn:
            for service in SERVICES:
                ids = marks[service] = {
                    what: uuid.uuid4() for what in ("sent_old", "sent_recent", "inbox_old", "inbox_recent")
                }
                for what in ("sent_old", "sent_recent"):
                    stamp = LONG_AGO if what == "sent_old" else RECENT
                    await conn.execute(
                        text(
                            f"INSERT INTO {service}.outbox (event_id, topic, key, event_type, payload,"
                            " created_at, published_at)"
                            f" VALUES (:id, 'retention.test', 'k', 'retention.test', '{{}}', {stamp}, {stamp})"
                        ),
                        {"id": ids[what]},
                    )
                for what in ("inbox_old", "inbox_recent"):
                    stamp = LONG_AGO if what == "inbox_old" else RECENT
                    await conn.execute(
                        text(
                            f"INSERT INTO {service}.inbox (consumer, event_id, event_type, processed_at)"
                            f" VALUES ('retention-test', :id, 'retention.test', {stamp})"
                        ),
                        {"id": ids[what]},
                    )
            for key, stamp in (("retention-old", LONG_AGO), ("retention-recent", RECENT)):
                await conn.execute(
                    text(
                        "INSERT INTO intake.idempotency_keys"
                        " (principal, key, body_sha256, status_code, response, created_at)"
                        f" VALUES ('retention-test', :key, repeat('0', 64), 201, '{{}}', {stamp})"
                    ),
                    {"key": key},
                )

        async def left() -> dict[str, set]:
            async with engine.connect() as conn:
                found: dict[str, set] = {}
                for service in SERVICES:
                    outbox = await conn.execute(
                        text(f"SELECT event_id FROM {service}.outbox WHERE topic = 'retention.test'")
                    )
                    inbox = await conn.execute(
                        text(f"SELECT event_id FROM {service}.inbox WHERE consumer = 'retention-test'")
                    )
                    found[service] = {r[0] for r in outbox} | {r[0] for r in inbox}
                keys = await conn.execute(
                    text("SELECT key FROM intake.idempotency_keys WHERE principal = 'retention-test'")
                )
                found["idempotency"] = {r[0] for r in keys}
                return found

        async def pruned():
            found = await left()
            gone = all(marks[s]["sent_old"] not in found[s] and marks[s]["inbox_old"] not in found[s] for s in SERVICES)
            return gone and "retention-old" not in found["idempotency"] and found

        # The platform sweeps every second (RETENTION_SWEEP_SECONDS in tests/conftest.py).
        found = await wait_for("every service prunes its old bookkeeping", pruned, timeout=20)
        for service in SERVICES:
            assert {marks[service]["sent_recent"], marks[service]["inbox_recent"]} <= found[service], service
        assert found["idempotency"] == {"retention-recent"}

    finally:
        await engine.dispose()


async def test_an_event_not_yet_sent_is_kept_however_old(platform):
    """The rules themselves, on tables of a scratch schema: the relay still owes an unsent event to the bus."""
    metadata = MetaData(schema="retention_probe")
    outbox, inbox, keys = outbox_table(metadata), inbox_table(metadata), idempotency_table(metadata)
    engine = create_async_engine(platform.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS retention_probe CASCADE"))
            await conn.execute(text("CREATE SCHEMA retention_probe"))
            await conn.run_sync(metadata.create_all)
            for n, (created, published) in enumerate(
                [(LONG_AGO, None), (LONG_AGO, LONG_AGO), (LONG_AGO, RECENT), (RECENT, None)]
            ):
                await conn.execute(
                    text(
                        "INSERT INTO retention_probe.outbox (event_id, topic, key, event_type, payload, created_at,"
                        f" published_at) VALUES (:id, 't', :key, 'e', '{{}}', {created}, {published or 'NULL'})"
                    ),
                    {"id": uuid.uuid4(), "key": str(n)},
                )
        settings = Settings(outbox_retention_hours=72, inbox_retention_days=30, idempotency_retention_hours=72)
        pruned = await prune(engine, rules_for(outbox, inbox, keys, settings))
        assert pruned == {"outbox": 1, "inbox": 0, "idempotency_keys": 0}
        async with engine.connect() as conn:
            kept = sorted((await conn.execute(text("SELECT key FROM retention_probe.outbox"))).scalars())
        # 0: never sent, long ago; 1 (sent long ago) is gone; 2: sent two days ago, inside 72 h; 3: new, unsent.
        assert kept == ["0", "2", "3"]
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS retention_probe CASCADE"))
        await engine.dispose()
