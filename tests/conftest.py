"""Shared fixtures. Integration tests use the real PostgreSQL and broker that `make test`
starts (`python -m deploy.local infra`), in their own database and under their own topic
prefix, so a `make run` on the same machine is left alone."""

from __future__ import annotations

import os
import secrets

import pytest

from deploy.local import broker, postgres
from deploy.local.platform import Platform

# The test process is part of the embedded platform (it imports service apps, e.g. the public-masking
# scan): demo secrets are allowed in it, as in the services Platform.env starts.
os.environ.setdefault("POINTS_ENVIRONMENT", "embedded")

# Overridable so two test runs (say, a fuzzing run beside the suite) can share one machine.
TEST_DATABASE = os.environ.get("TEST_DATABASE", "points_test")
TEST_PORT_BASE = int(os.environ.get("TEST_PORT_BASE", "18000"))


def pytest_collection_modifyitems(config, items):
    """Fault tests last: they stop PostgreSQL and the broker that every other test shares."""
    items.sort(key=lambda item: item.get_closest_marker("faults") is not None)


def _infra_up() -> bool:
    from deploy.local.processes import port_open

    return port_open(postgres.PORT) and port_open(broker.PORT)


@pytest.fixture(scope="session")
def infra():
    if not _infra_up():
        pytest.fail(
            "PostgreSQL and the broker are not running: run the tests with `make test` "
            "(or start them with `make infra`)",
            pytrace=False,
        )
    return True


@pytest.fixture(scope="session")
def platform(infra):
    """The four services, started as real uvicorn processes on test ports."""
    p = Platform(
        port_base=TEST_PORT_BASE,
        database=TEST_DATABASE,
        topic_prefix=f"t{secrets.token_hex(3)}.",
        extra_env={
            "LOG_LEVEL": "INFO",
            "OUTBOX_POLL_INTERVAL_MS": "100",
            "OVERDUE_SWEEP_SECONDS": "1",
            "PUBLICITY_SWEEP_SECONDS": "1",
            # Objections are limited per client address and hour, and most tests lodge theirs
            # from 127.0.0.1: room for them all. The limit itself is proved from an address
            # of its own (test_public_pages_browser.py).
            "OBJECTIONS_PER_CLIENT_HOUR": "20",
            # The other abuse limits: room for the whole suite at 127.0.0.1 and the demo keys;
            # the limits themselves are proved on a platform of their own (test_abuse_limits.py).
            **{
                f"{what}_PER_{whom}_HOUR": "100000"
                for what in ("REVIEWS", "EVALUATIONS", "SIMULATIONS", "MATERIAL_UPLOADS", "REPLAYS")
                for whom in ("PRINCIPAL", "CLIENT")
            },
            # 模拟积分 without a key, per address (its limit: test_estimate.py, on a platform of its own).
            "ESTIMATES_PER_CLIENT_HOUR": "100000",
            # A request from 127.0.0.9 comes through our proxy: its X-Forwarded-For is believed.
            "TRUSTED_PROXIES": "127.0.0.9",
            # A simulation whose runner went away is taken over after this many seconds.
            "SIMULATION_LEASE_SECONDS": "3",
            "SIMULATION_DIR": ".local/test-simulations",
            # Audit chain heads anchored every second, so a test need not wait minutes for one.
            "AUDIT_ANCHOR_SECONDS": "1",
            # The retention sweep every second, so test_retention.py sees it prune at once.
            "RETENTION_SWEEP_SECONDS": "1",
            # Room for the simulation tests' 1.5 million; a fuzzed job stays a few seconds.
            "SIMULATION_MAX_HOLDERS": "2000000",
        },
    )
    p.infra_up(fresh_database=True)
    p.migrate_and_seed(holders=3000)
    p.start_services()
    yield p
    p.stop_services()


@pytest.fixture(scope="session")
def database_url(platform) -> str:
    return platform.database_url
