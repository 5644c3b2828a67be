"""Secrets in a real deployment, and revocation: real service processes, the real database."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import create_async_engine

from shared.auth import ApiKeys, api_keys_table
from shared.demo import DEMO_MATERIALS_KEY, DEMO_SALT
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration


def _start_as_deployment(platform, service: str, port: int, **env: str) -> subprocess.CompletedProcess:
    """Start a service the way the image does, with the platform's addresses but no POINTS_ENVIRONMENT."""
    base = {k: v for k, v in {**os.environ, **platform.env(service)}.items() if k != "POINTS_ENVIRONMENT"}
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        f"services.{service}.app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-proxy-headers",
    ]
    # Bounded: a refused service exits at once (or once its database check has run), never serves.
    return subprocess.run(argv, env={**base, **env}, capture_output=True, text=True, timeout=90)


@pytest.mark.parametrize(
    "service, env, variable",
    [
        ("publicity", {}, "CANDIDATE_KEY_SALT is not set"),
        ("intake", {}, "CANDIDATE_KEY_SALT is not set"),
        ("publicity", {"CANDIDATE_KEY_SALT": DEMO_SALT}, "CANDIDATE_KEY_SALT is the public demo value"),
        ("verification", {"INTAKE_MATERIALS_KEY": DEMO_MATERIALS_KEY}, "INTAKE_MATERIALS_KEY is the public demo value"),
    ],
)
def test_a_deployment_with_missing_or_demo_secrets_refuses_to_start(platform, service, env, variable):
    done = _start_as_deployment(platform, service, platform.port_base + 60, **env)
    assert done.returncode != 0
    assert variable in done.stderr and "refusing to start" in done.stderr


def test_a_deployment_whose_database_still_has_the_demo_keys_refuses_to_start(platform):
    # The test database was seeded with the embedded platform's demo keys, as a careless copy would be.
    done = _start_as_deployment(
        platform, "scoring", platform.port_base + 61, CANDIDATE_KEY_SALT="a-real-salt-of-thirty-two-characters"
    )
    assert done.returncode != 0
    assert "demo API keys" in done.stderr and "demoreader" in done.stderr
    assert "shared.keys revoke --service scoring" in done.stderr


async def test_a_revoked_key_is_refused_within_a_second(platform):
    engine = create_async_engine(platform.database_url)
    try:
        key = await ApiKeys(engine, api_keys_table(MetaData(schema="intake"))).issue("revocation-test", ["window"])
    finally:
        await engine.dispose()
    key_id = key.split("_")[1]
    url = f"{platform.url('intake')}/v1/applications/APP-20260101-NOSUCH"
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=5) as client:
        assert (await client.get(url)).status_code == 404  # accepted (and now cached): just no such application
        revoke = subprocess.run(
            [sys.executable, "-m", "shared.keys", "revoke", "--service", "intake", "--key-id", key_id],
            env={**os.environ, "DATABASE_URL": platform.database_url},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert revoke.stdout.strip() == "revoked", revoke.stderr
        revoked_at = time.monotonic()

        async def refused():
            return (await client.get(url)).status_code == 401

        await wait_for("the running intake refuses the revoked key", refused, timeout=1.0, every=0.05)
        print(f"revoked key refused after {time.monotonic() - revoked_at:.2f}s")
