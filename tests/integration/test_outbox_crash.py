"""Crash the intake relay at the worst moments; the application's effect still happens exactly once."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local.processes import alive, read_pid
from services.intake.tables import applications, outbox, timeline
from services.publicity.tables import notices
from services.scoring.tables import scores
from services.verification.seed import demo_id_number
from shared.departments import DEPARTMENTS
from tests.integration.helpers import WINDOW, application_body, follow_to_notice, wait_for

pytestmark = pytest.mark.integration


CONSUMERS_OF_APPLICATIONS = ("verification", "scoring", "publicity")


async def _repeats_dropped(client: httpx.AsyncClient, platform) -> tuple[set[str], int]:
    """The consumers that read application.submitted, and how many repeats of it their inboxes dropped."""
    consumers, dropped = set(), 0
    for service in CONSUMERS_OF_APPLICATIONS:
        for line in (await client.get(f"{platform.ops_url(service)}/metrics")).text.splitlines():
            if line.startswith("points_events_consumed_total{") and 'type="application.submitted"' in line:
                consumers.add(line.split('consumer="', 1)[1].split('"', 1)[0])
                if 'outcome="duplicate"' in line:
                    dropped += int(float(line.rsplit(" ", 1)[1]))
    return consumers, dropped


async def _crash_and_recover(platform, failpoint: str, n: int, republished: bool) -> tuple[str, dict]:
    async with httpx.AsyncClient(timeout=10) as client:
        _, dropped_before = await _repeats_dropped(client, platform)
    platform.stop_service("intake")
    platform.start_service("intake", env={"FAILPOINTS": failpoint})
    platform.wait_ready(["intake"])
    pid = read_pid(platform.proc_name("intake"))
    async with httpx.AsyncClient(timeout=10) as client:
        try:  # the process may die before or after it answers: the commit is what matters
            await client.post(f"{platform.url('intake')}/v1/applications", json=application_body(n), headers=WINDOW)
        except httpx.HTTPError:
            pass
        await wait_for(f"intake dies at failpoint {failpoint}", lambda: asyncio.sleep(0, not alive(pid)), 15)

        engine = create_async_engine(platform.database_url)
        async with engine.connect() as conn:
            app_id = await conn.scalar(
                select(applications.c.id).where(applications.c.holder_id_number == demo_id_number(n))
            )
            assert app_id, "the application must have been committed before the crash"
            unpublished = await conn.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.key == app_id, outbox.c.published_at.is_(None))
            )
            assert unpublished == 1, "the event must still be waiting in the outbox"

        platform.start_service("intake")  # restart without the failpoint
        platform.wait_ready(["intake"])
        await follow_to_notice(client, platform, app_id)

        # Before counting effects: the relay has marked the event sent (nothing more will be
        # published), and a copy published twice has reached every consumer and been dropped.
        async def marked_sent() -> bool:
            async with engine.connect() as conn:
                return bool(
                    await conn.scalar(
                        select(func.count())
                        .select_from(outbox)
                        .where(outbox.c.key == app_id, outbox.c.published_at.is_not(None))
                    )
                )

        await wait_for("the relay marks the event sent", marked_sent, 15)
        if republished:

            async def repeat_dropped_everywhere() -> bool:
                consumers, dropped = await _repeats_dropped(client, platform)
                return bool(consumers) and dropped - dropped_before >= len(consumers)

            await wait_for("every consumer drops the republished event", repeat_dropped_everywhere, 15)
        async with engine.connect() as conn:
            counts = {
                "scores": await conn.scalar(
                    select(func.count()).select_from(scores).where(scores.c.application_id == app_id)
                ),
                "notices": await conn.scalar(
                    select(func.count()).select_from(notices).where(notices.c.application_id == app_id)
                ),
                "timeline": dict(
                    (
                        await conn.execute(
                            select(timeline.c.event_type, func.count())
                            .where(timeline.c.application_id == app_id)
                            .group_by(timeline.c.event_type)
                        )
                    ).all()
                ),
                "published": await conn.scalar(
                    select(func.count())
                    .select_from(outbox)
                    .where(outbox.c.key == app_id, outbox.c.published_at.is_not(None))
                ),
            }
        await engine.dispose()
    return app_id, counts


def assert_exactly_once(counts: dict) -> None:
    assert counts["published"] == 1
    assert counts["scores"] == 1 and counts["notices"] == 1
    # (the submission's own entry is the application row itself)
    assert counts["timeline"] == {
        "verification.completed": len(DEPARTMENTS),
        "score.computed": 1,
        "notice.published": 1,
    }


async def test_relay_dies_after_commit_before_publish(platform):
    _, counts = await _crash_and_recover(platform, "outbox.before_publish", 21, republished=False)
    assert_exactly_once(counts)


async def test_relay_dies_after_publish_before_marking_it_sent(platform):
    # The event reaches the broker, the crash loses the "sent" mark, the restart publishes it
    # again: the departments, scoring and publicity must each act once.
    _, counts = await _crash_and_recover(platform, "outbox.after_publish_before_mark", 22, republished=True)
    assert_exactly_once(counts)
