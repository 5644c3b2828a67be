"""Least privilege in the database, and an audit chain anchored so that a tail cut off shows.

Each service connects as a role of its own that owns nothing (shared/migrate.py); the tests
connect as those roles to prove what they cannot do, and as the superuser to do what only an
administrator could: cut the last entries off a department's audit chain.
"""

from __future__ import annotations

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local import postgres
from shared.migrate import OWNER_ROLE, SERVICE_ROLES
from tests.integration.helpers import POLICE, WINDOW, application_body, follow_to_notice, verify_audit_chain, wait_for

pytestmark = pytest.mark.integration


async def _refused(url: str, statement: str) -> str:
    engine = create_async_engine(url)
    try:
        with pytest.raises(DBAPIError) as refused:
            async with engine.begin() as conn:
                await conn.execute(text(statement))
        return str(refused.value.orig)
    finally:
        await engine.dispose()


async def _allowed(url: str, statement: str) -> object:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(statement))).scalar()
    finally:
        await engine.dispose()


async def test_each_service_connects_as_its_own_role_with_rights_on_its_own_schema_only(platform):
    superuser = create_async_engine(platform.database_url)
    async with superuser.connect() as conn:
        connected = set(
            (
                await conn.execute(
                    text("SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = :d"), {"d": platform.database}
                )
            ).scalars()
        )
        owners = set(
            (
                await conn.execute(
                    text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = ANY(:s)"),
                    {"s": list(SERVICE_ROLES)},
                )
            ).scalars()
        )
    await superuser.dispose()
    assert set(SERVICE_ROLES.values()) <= connected, connected  # the running services, each as its own role
    assert owners == {OWNER_ROLE}  # the migrations' role owns every table; no service owns one

    verification = postgres.url(platform.database, SERVICE_ROLES["verification"])
    for statement, why in [
        ("UPDATE verification.audit_log SET requester = 'someone else'", "permission denied for table audit_log"),
        ("DELETE FROM verification.audit_log", "permission denied for table audit_log"),
        ("TRUNCATE verification.audit_log", "permission denied for table audit_log"),
        (
            "ALTER TABLE verification.audit_log DISABLE TRIGGER audit_log_append_only",
            "must be owner of table audit_log",
        ),
        ("DROP TRIGGER audit_log_append_only ON verification.audit_log", "must be owner of relation audit_log"),
        ("SET session_replication_role = replica", "permission denied to set parameter"),
        ("DELETE FROM verification.audit_anchors", "permission denied for table audit_anchors"),
        ("UPDATE verification.audit_anchors SET entry_id = 0", "permission denied for table audit_anchors"),
        ("SELECT count(*) FROM scoring.scores", "permission denied for schema scoring"),
    ]:
        assert why in await _refused(verification, statement), statement
    # What it needs: its own tables, and reading the departments' registries (the SQL adapter).
    assert await _allowed(verification, "SELECT count(*) FROM verification.audit_log") >= 0
    assert await _allowed(verification, "SELECT count(*) FROM registries.police_permits") > 0

    intake = postgres.url(platform.database, SERVICE_ROLES["intake"])
    for schema, table in [
        ("scoring", "scores"),
        ("verification", "audit_log"),
        ("publicity", "notices"),
        ("registries", "police_permits"),
    ]:
        assert f"permission denied for schema {schema}" in await _refused(intake, f"SELECT 1 FROM {schema}.{table}")
    assert await _allowed(intake, "SELECT count(*) FROM intake.applications") >= 0
    scoring = postgres.url(platform.database, SERVICE_ROLES["scoring"])
    assert "permission denied for schema intake" in await _refused(scoring, "SELECT 1 FROM intake.applications")
    # Nor may a service touch its schema's migration history.
    assert "permission denied" in await _refused(scoring, "DELETE FROM scoring.alembic_version")


async def test_a_tail_cut_off_the_audit_chain_is_named_against_its_anchor(platform):
    base = platform.url("verification")
    engine = create_async_engine(platform.database_url)
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(f"{platform.url('intake')}/v1/applications", json=application_body(2411), headers=WINDOW)
        assert r.status_code == 201, r.text
        await follow_to_notice(client, platform, r.json()["id"])

        async def anchored_head():
            async with engine.connect() as conn:
                head = await conn.scalar(text("SELECT max(id) FROM verification.audit_log WHERE department = 'police'"))
                anchor = await conn.scalar(
                    text("SELECT max(entry_id) FROM verification.audit_anchors WHERE department = 'police'")
                )
            return head if head is not None and anchor == head else None

        head = await wait_for("police's chain head to be anchored", anchored_head, timeout=20)

        async def published():  # the day's head went on the bus, through the outbox
            async with engine.connect() as conn:
                return await conn.scalar(
                    text(
                        "SELECT count(*) FROM verification.outbox WHERE event_type = 'audit.chain_anchored' "
                        "AND payload -> 'data' ->> 'department' = 'police' AND published_at IS NOT NULL"
                    )
                )

        await wait_for("police's chain head to be published", published, timeout=20)
        chain = (await client.get(f"{base}/v1/departments/police/audit/verify", headers=POLICE)).json()
        assert chain["intact"] and chain["last_entry"] == head and chain["anchored_entry"] == head, chain

        # Someone who may do anything in the database cuts the last two entries off; the rest is a valid chain.
        async with engine.begin() as conn:
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
            cut = (
                (
                    await conn.execute(
                        text(
                            "DELETE FROM verification.audit_log WHERE id IN (SELECT id FROM verification.audit_log "
                            "WHERE department = 'police' ORDER BY id DESC LIMIT 2) RETURNING *"
                        )
                    )
                )
                .mappings()
                .all()
            )
            remaining = await conn.scalar(
                text("SELECT max(id) FROM verification.audit_log WHERE department = 'police'")
            )
        try:
            named = f"the chain ends at entry {remaining} but was anchored at entry {head}"
            chain = (await client.get(f"{base}/v1/departments/police/audit/verify", headers=POLICE)).json()
            assert chain["intact"] is False and chain["first_broken_entry"] is None, chain
            assert chain["last_entry"] == remaining and chain["anchored_entry"] == head and named in chain["reason"]
            cli = verify_audit_chain(platform)
            assert cli.returncode == 1 and "police: TRUNCATED" in cli.stdout and named in cli.stdout, cli.stdout
        finally:  # put the entries back as they were
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO verification.audit_log SELECT * FROM jsonb_populate_recordset("
                        "NULL::verification.audit_log, CAST(:rows AS jsonb))"
                    ),
                    {"rows": _as_json([dict(row) for row in cut])},
                )
        chain = (await client.get(f"{base}/v1/departments/police/audit/verify", headers=POLICE)).json()
        assert chain["intact"] and chain["last_entry"] == head, chain
    await engine.dispose()


def _as_json(rows: list[dict]) -> str:
    return orjson.dumps(rows, default=str).decode()
