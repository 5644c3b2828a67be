"""Rotating CANDIDATE_KEY_SALT and re-keying (`python -m shared.rekey`): a holder's own read works
with the new salt and not with the old one, every stored key changes, and a second run changes
nothing. The session's services keep the old salt, so the test re-keys back before it ends."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local import postgres
from deploy.local.platform import Platform, demo_key
from services.verification.seed import demo_id_number
from shared.demo import DEMO_SALT
from shared.migrate import OWNER_ROLE
from shared.pseudonyms import holder_key
from tests.integration.helpers import WINDOW, application_body, follow_to_notice, wait_for

pytestmark = pytest.mark.integration
N = 2963  # this module's demo holder
NEW_SALT = "rotated-salt-for-the-rekey-test-0123456789"
HOLDER_APP = {"Authorization": f"Bearer {demo_key('scoring', 'demoserviceapp')}", "X-Holder-Id-Number": ""}
# Every place a key of this holder is kept, as (what, query): each query gives the keys found.
STORED = {
    "scoring applications": "SELECT holder->>'key' FROM scoring.applications WHERE application_id = :app",
    "scoring scores": "SELECT holder->>'key' FROM scoring.scores WHERE application_id = :app",
    "scoring received answers": "SELECT holder->>'key' FROM scoring.received_verifications WHERE application_id = :app",
    "verification's kept question": "SELECT context->'holder'->>'key' FROM verification.results "
    "WHERE application_id = :app",
    "publicity applicants": "SELECT holder_key FROM publicity.applicants WHERE application_id = :app",
    "intake's events": "SELECT payload->'data'->'holder'->>'key' FROM intake.outbox "
    "WHERE event_type = 'application.submitted' AND payload->'data'->>'application_id' = :app",
}


async def stored_keys(url: str, app_id: str) -> dict[str, set[str]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return {
                what: set((await conn.execute(text(query), {"app": app_id})).scalars())
                for what, query in STORED.items()
            }
    finally:
        await engine.dispose()


def rekey(database: str, old: str, new: str) -> str:
    """The command as an operator runs it: the owner role, salts from the environment."""
    env = {**os.environ, "DATABASE_URL": postgres.url(database, OWNER_ROLE), "OLD_SALT": old, "NEW_SALT": new}
    result = subprocess.run(
        [sys.executable, "-m", "shared.rekey", "--old-salt-env", "OLD_SALT", "--new-salt-env", "NEW_SALT"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def read_own_score(client: httpx.AsyncClient, base_url: str, app_id: str) -> int:
    headers = {**HOLDER_APP, "X-Holder-Id-Number": demo_id_number(N)}
    return (await client.get(f"{base_url}/v1/scores/{app_id}", headers=headers)).status_code


@pytest.fixture(scope="module")
def rotated_scoring(platform):
    """A scoring replica that already runs with the new salt (its own topics: it consumes nothing)."""
    replica = Platform(
        port_base=platform.port_base + 700,
        database=platform.database,
        topic_prefix=f"{platform.topic_prefix}rotated.",
        extra_env={**platform.extra_env, "CANDIDATE_KEY_SALT": NEW_SALT},
    )
    replica.start_service("scoring")
    replica.wait_ready(["scoring"])
    yield replica
    replica.stop_service("scoring")


async def test_rekeying_moves_every_key_to_the_new_salt_and_back(platform, rotated_scoring):
    id_number = demo_id_number(N)
    old_key, new_key = holder_key(id_number, DEMO_SALT), holder_key(id_number, NEW_SALT)
    async with httpx.AsyncClient(timeout=30) as client:
        r = await client.post(f"{platform.url('intake')}/v1/applications", json=application_body(N), headers=WINDOW)
        assert r.status_code == 201, r.text
        app_id = r.json()["id"]
        await follow_to_notice(client, platform, app_id)
        await wait_for("the holder known to publicity", lambda: _all_stored(platform.database_url, app_id), timeout=30)
        before = await stored_keys(platform.database_url, app_id)
        assert all(keys == {old_key} for keys in before.values()), before
        assert await read_own_score(client, platform.url("scoring"), app_id) == 200
        assert await read_own_score(client, rotated_scoring.url("scoring"), app_id) == 404

        try:
            out = rekey(platform.database, DEMO_SALT, NEW_SALT)
            assert "scoring.applications.holder: " in out and "publicity.applicants.holder_key: " in out, out

            after = await stored_keys(platform.database_url, app_id)
            assert all(keys == {new_key} for keys in after.values()), after
            # The holder reads their own score where the new salt is in use, and no longer where the old one is.
            assert await read_own_score(client, rotated_scoring.url("scoring"), app_id) == 200
            assert await read_own_score(client, platform.url("scoring"), app_id) == 404

            again = rekey(platform.database, DEMO_SALT, NEW_SALT)  # idempotent: nothing left to change
            assert all(line.split(": ")[1].startswith("0 re-keyed") for line in again.splitlines()), again
            assert await stored_keys(platform.database_url, app_id) == after
        finally:
            rekey(platform.database, NEW_SALT, DEMO_SALT)  # the session's services keep the demo salt
        assert await stored_keys(platform.database_url, app_id) == before
        assert await read_own_score(client, platform.url("scoring"), app_id) == 200


async def _all_stored(url: str, app_id: str) -> bool:
    return all((await stored_keys(url, app_id)).values()) or None
