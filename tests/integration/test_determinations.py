"""A determination reproducible from outside: the exact rule-set text behind a score's hash is
public, and the operators' recompute command says whether a stored score still matches."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.integration.helpers import WINDOW, WINDOW_SCORES, application_body, follow_to_notice

pytestmark = pytest.mark.integration


def recompute(platform, application_id: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.scoring.recompute", application_id, "--database-url", platform.database_url],
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_a_score_is_reproducible_from_its_published_texts_and_stored_answers(platform):
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(f"{platform.url('intake')}/v1/applications", json=application_body(2917), headers=WINDOW)
        assert r.status_code == 201, r.text
        app_id = r.json()["id"]
        await follow_to_notice(client, platform, app_id)
        score = (await client.get(f"{platform.url('scoring')}/v1/scores/{app_id}", headers=WINDOW_SCORES)).json()
        determination = score["determination"]
        assert len(determination["id"]) == 64 == len(score["explanation"]["determination_id"])
        assert determination["engine_version"] and determination["module_hashes"]

        # The text whose hash the score names, byte for byte, to anyone; and each module's.
        rule_set = score["rule_set"]
        r = await client.get(f"{platform.url('scoring')}/v1/rule-sets/{rule_set['id']}/source")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/yaml")
        assert hashlib.sha256(r.content).hexdigest() == rule_set["hash"] == r.headers["etag"].strip('"')
        r = await client.get(
            f"{platform.url('scoring')}/v1/rule-sets/{rule_set['id']}/source", params={"hash": rule_set["hash"]}
        )
        assert hashlib.sha256(r.content).hexdigest() == rule_set["hash"]
        for module_id, content_hash in determination["module_hashes"].items():
            r = await client.get(
                f"{platform.url('scoring')}/v1/modules/{module_id}/source", params={"hash": content_hash}
            )
            assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == content_hash
        r = await client.get(
            f"{platform.url('scoring')}/v1/rule-sets/{rule_set['id']}/source", params={"hash": "0" * 64}
        )
        assert r.status_code == 404

    done = recompute(platform, app_id)
    assert done.returncode == 0 and "matches" in done.stdout, done.stdout + done.stderr

    # A stored result changed behind the platform's back no longer matches what it was made of.
    engine = create_async_engine(platform.database_url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE scoring.scores SET explanation = jsonb_set(explanation, '{total}', "
                "to_jsonb((explanation->>'total')::float + 10)) WHERE application_id = :a"
            ),
            {"a": app_id},
        )
    await engine.dispose()
    changed = recompute(platform, app_id)
    assert changed.returncode == 1 and "DIFFERS: total" in changed.stdout, changed.stdout + changed.stderr
