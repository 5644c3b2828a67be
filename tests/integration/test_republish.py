"""Refilling a broker that lost its log: the operator's command queues recent events again from the
outboxes; the relays publish them again and the inboxes make the repeats harmless."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.integration.helpers import WINDOW, WINDOW_SCORES, application_body, follow_to_notice, wait_for

pytestmark = pytest.mark.integration


async def test_republished_events_travel_again_and_change_nothing(platform):
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(f"{platform.url('intake')}/v1/applications", json=application_body(41), headers=WINDOW)
        assert r.status_code == 201, r.text
        app_id = r.json()["id"]
        await follow_to_notice(client, platform, app_id)

        before = await _duplicates(client, platform)
        # The last minute only: this application's events (the tests run one at a time).
        env = {**os.environ, "DATABASE_URL": platform.database_url}
        queued = subprocess.run(
            [
                sys.executable,
                "-m",
                "shared.bus.republish",
                "--hours",
                "0.02",
                "--schema",
                "intake",
                "--schema",
                "scoring",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert queued.returncode == 0, queued.stdout + queued.stderr
        counts = dict(line.split(": ") for line in queued.stdout.strip().splitlines())
        assert int(counts["intake"].split()[0]) >= 1 and int(counts["scoring"].split()[0]) >= 1, queued.stdout

        engine = create_async_engine(platform.database_url)
        try:

            async def sent_again():
                async with engine.connect() as conn:
                    waiting = await conn.scalar(
                        text(
                            "SELECT (SELECT count(*) FROM intake.outbox WHERE published_at IS NULL)"
                            " + (SELECT count(*) FROM scoring.outbox WHERE published_at IS NULL)"
                        )
                    )
                return waiting == 0

            await wait_for("the relays publish the queued events again", sent_again)
            # The repeats reached publicity, whose inbox dropped them as duplicates.
            await wait_for(
                "publicity drops the repeated score as a duplicate",
                lambda: _more_duplicates(client, platform, before),
            )
        finally:
            await engine.dispose()
        score = (await client.get(f"{platform.url('scoring')}/v1/scores/{app_id}", headers=WINDOW_SCORES)).json()
        assert score["versions"] == [1]
        notices = (
            await client.get(f"{platform.url('publicity')}/v1/notices", params={"application_id": app_id})
        ).json()
        assert len(notices) == 1


async def _duplicates(client: httpx.AsyncClient, platform) -> float:
    """score.computed events publicity's consumer found already handled (its inbox), as /metrics counts them."""
    text_ = (await client.get(f"{platform.ops_url('publicity')}/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text_.splitlines()
        if line.startswith("points_events_consumed_total{")
        and 'type="score.computed"' in line
        and 'outcome="duplicate"' in line
    )


async def _more_duplicates(client: httpx.AsyncClient, platform, before: float) -> bool:
    return await _duplicates(client, platform) > before
