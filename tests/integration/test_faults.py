"""Faults under load: kill -9 each service, the broker, and PostgreSQL (an immediate stop, then a
start), once each, while applications keep coming. After recovery every accepted application is
scored once and noticed once, intake's status says so, nothing is dead-lettered, and nobody had
to do anything but what the embedded platform's supervisor does (restart what died).

It runs on a platform of its own (database, ports, topics) and last in the session (see
conftest.py), because stopping PostgreSQL and the broker touches everything on the machine.
`make bench BENCH_ARGS="--only faults"` runs the long version.
"""

from __future__ import annotations

import secrets

import pytest

from bench import faults
from deploy.local.platform import Platform
from tests.integration.helpers import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.faults]


@pytest.fixture(scope="module")
def fault_platform(platform):
    # `platform` first: the session's own services are up, and must come through the faults too.
    p = Platform(
        port_base=int(platform.port_base) + 500,
        database="points_faults",
        topic_prefix=f"f{secrets.token_hex(3)}.",
        extra_env={"LOG_LEVEL": "INFO", "OUTBOX_POLL_INTERVAL_MS": "100", "CONSUMER_OUTAGE_BACKOFF_MAX_MS": "1000"},
    )
    p.infra_up(fresh_database=True)
    p.migrate_and_seed(holders=1500)
    p.start_services()
    yield p
    p.stop_services()


async def test_every_application_survives_each_fault_once(fault_platform, platform):
    out = await faults.run(
        fault_platform, rate=8, duration=60, faults=faults.FAULTS, first_holder=1, bystanders=[platform]
    )
    print("\nfaults:", out.row(), "client errors:", out.client_errors)
    assert out.answered_201 >= 300, out.row()  # the load really ran through the faults
    assert set(out.recovery_seconds) == set(faults.FAULTS), out.row()
    assert out.stuck == [], f"accepted, but the applicant never heard: {out.stuck[:10]} ({out.row()})"
    assert out.unnoticed == [], f"scored but never put on notice: {out.unnoticed[:10]}"
    assert out.scored == out.notified == out.accepted, out.row()
    assert out.stale == [], f"intake's status behind the score or its notice: {out.stale[:10]}"
    assert out.duplicates == 0, out.row()
    assert out.dead_letters == 0, out.row()
    # The session's own platform went through the database and broker faults too, and is ready again.
    await wait_for("the session's own platform to recover", lambda: faults.all_ready(platform), timeout=60)
