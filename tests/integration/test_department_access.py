"""A department officer sees only its own department's results; the audit chain holds."""

from __future__ import annotations

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local.platform import demo_key
from shared.departments import DEPARTMENTS
from tests.integration.helpers import WINDOW, application_body, follow_to_notice, verify_audit_chain

pytestmark = pytest.mark.integration
POLICE = {"Authorization": f"Bearer {demo_key('verification', 'demopolice')}"}


async def test_departments_are_scoped_and_every_lookup_is_audited(platform):
    base = platform.url("verification")
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(f"{platform.url('intake')}/v1/applications", json=application_body(31), headers=WINDOW)
        app_id = r.json()["id"]
        await follow_to_notice(client, platform, app_id)

        own = await client.get(f"{base}/v1/departments/police/verifications/{app_id}", headers=POLICE)
        assert own.status_code == 200 and own.json()["facts"]["permit_status"] == "valid"
        # Another department's result answers exactly like one that does not exist.
        other = await client.get(f"{base}/v1/departments/social_insurance/verifications/{app_id}", headers=POLICE)
        unknown = await client.get(f"{base}/v1/departments/police/verifications/APP-NO-SUCH", headers=POLICE)
        assert other.status_code == unknown.status_code == 404
        assert {**other.json(), "instance": None} == {**unknown.json(), "instance": None}
        assert other.headers["content-type"] == "application/problem+json"
        assert (await client.get(f"{base}/v1/departments/police/verifications/{app_id}")).status_code == 401
        # An intake key is not a verification key: keys belong to the service that issued them.
        assert (
            await client.get(f"{base}/v1/departments/police/verifications/{app_id}", headers=WINDOW)
        ).status_code == 401

        chain = (await client.get(f"{base}/v1/departments/police/audit/verify", headers=POLICE)).json()
        assert chain["intact"] and chain["entries_checked"] >= 2

        engine = create_async_engine(platform.database_url)
        async with engine.begin() as conn:
            queried = (
                await conn.execute(
                    text("SELECT department, fact FROM verification.audit_log WHERE application_id = :a"), {"a": app_id}
                )
            ).all()
            # Every department looked up its own registries, and each look-up is on record.
            assert {d for d, _f in queried} == set(DEPARTMENTS)
            assert {"permit", "residence", "offences"} <= {f for d, f in queried if d == "police"}
            assert {f for d, f in queried if d == "housing"} == {"homes", "rentals"}
            # The log keeps a digest of what came back, not a second copy of the person's records.
            permit_answer = await conn.scalar(
                text("SELECT response FROM verification.audit_log WHERE application_id = :a AND fact = 'permit'"),
                {"a": app_id},
            )
            assert set(permit_answer) == {"sha256"} and len(permit_answer["sha256"]) == 64
            # The database itself refuses to change the log.
            for change in (
                "UPDATE verification.audit_log SET response = '\"terminated\"'::jsonb WHERE application_id = :a",
                "DELETE FROM verification.audit_log WHERE application_id = :a",
            ):
                with pytest.raises(DBAPIError, match="append-only"):
                    async with conn.begin_nested():
                        await conn.execute(text(change), {"a": app_id})
        # Someone with the power to switch triggers off edits a past answer: the chain shows where.
        forged = '{"sha256": "' + "0" * 64 + '"}'
        await _as_superuser_bypassing_triggers(
            engine,
            "UPDATE verification.audit_log SET response = CAST(:r AS jsonb) "
            "WHERE application_id = :a AND fact = 'permit'",
            app_id,
            forged,
        )
        try:
            chain = (await client.get(f"{base}/v1/departments/police/audit/verify", headers=POLICE)).json()
            assert chain["intact"] is False and chain["first_broken_entry"] is not None
            cli = verify_audit_chain(platform)
            assert cli.returncode == 1 and f"BROKEN at entry {chain['first_broken_entry']}" in cli.stdout
        finally:
            await _as_superuser_bypassing_triggers(
                engine,
                "UPDATE verification.audit_log SET response = CAST(:r AS jsonb) "
                "WHERE application_id = :a AND fact = 'permit'",
                app_id,
                orjson.dumps(permit_answer).decode(),
            )
            await engine.dispose()
        cli = verify_audit_chain(platform)
        assert cli.returncode == 0 and "intact" in cli.stdout


async def _as_superuser_bypassing_triggers(engine, statement: str, app_id: str, response: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        await conn.execute(text(statement), {"a": app_id, "r": response})
