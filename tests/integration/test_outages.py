"""Outages are waits: a service serves without the broker, and joins its consumer groups at once."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

from deploy.local import broker
from deploy.local.platform import Platform
from deploy.local.processes import read_pid
from tests.integration.helpers import WINDOW, application_body, follow_to_notice, wait_for
from tests.integration.tcp_cut import CuttableRelay

pytestmark = pytest.mark.integration


async def _ready(client: httpx.AsyncClient, url: str) -> dict | None:
    try:
        r = await client.get(url + "/readyz")
        return r.json() if r.status_code == 200 else None
    except httpx.HTTPError:
        return None


async def test_intake_accepts_while_the_broker_is_away_and_publishes_when_it_comes(platform):
    """A second intake replica whose broker is unreachable at start: it serves, says it is accepting but
    not publishing, takes an application into its outbox, and delivers it once the broker is there."""
    host, port = broker.bootstrap().split(":")
    relay = CuttableRelay(host, int(port))
    await relay.open()
    await relay.cut()  # the port is known and refuses connections: the broker is "away"
    replica = Platform(
        port_base=platform.port_base + 600,
        database=platform.database,
        topic_prefix=platform.topic_prefix,
        extra_env={**platform.extra_env, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{relay.port}"},
    )
    replica.start_service("intake")
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            state = await wait_for(
                "the replica serves without a broker", lambda: _ready(client, replica.ops_url("intake"))
            )
            assert state["status"] == "accepting" and state["accepting"] and not state["publishing"], state
            assert state["checks"]["broker"].startswith("waiting"), state
            r = await client.post(
                f"{replica.url('intake')}/v1/applications", json=application_body(2203), headers=WINDOW
            )
            assert r.status_code == 201, r.text
            app_id = r.json()["id"]
            await relay.open()  # the broker is back (its advertised address is the real one)
            state = await wait_for("the replica to publish", lambda: _ready(client, replica.ops_url("intake")))
            await wait_for(
                "the replica to be fully ready",
                lambda: _ready_status(client, replica.ops_url("intake"), "ready"),
                timeout=30,
            )
            doc = await follow_to_notice(client, platform, app_id)
            assert doc["status"] == "scored" and doc["notice_url"]
    finally:
        replica.stop_service("intake")
        await relay.cut()


async def _ready_status(client, url, wanted):
    state = await _ready(client, url)
    return state if state and state["status"] == wanted else None


async def test_verification_is_ready_within_ten_seconds_of_a_restart(platform):
    """Ten consumer groups join at once, not one after another (it took 25-30 s)."""
    os.kill(read_pid(platform.proc_name("verification")), signal.SIGKILL)
    started = time.monotonic()
    platform.start_service("verification")
    async with httpx.AsyncClient(timeout=5) as client:
        await wait_for(
            "verification ready after a restart",
            lambda: _ready_status(client, platform.ops_url("verification"), "ready"),
            timeout=30,
            every=0.1,
        )
    took = time.monotonic() - started
    print(f"\nverification ready {took:.1f} s after a kill -9 and restart")
    assert took < 10, f"verification took {took:.1f} s to be ready"
