"""Helpers for tests that drive the running services over HTTP."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from deploy.local.platform import Platform, demo_key
from services.verification.seed import demo_id_number, demo_permit_number

WINDOW = {"Authorization": f"Bearer {demo_key('intake', 'demowindow')}"}
EMPLOYER = {"Authorization": f"Bearer {demo_key('intake', 'demoemployer')}"}
GUARDIAN = {"Authorization": f"Bearer {demo_key('intake', 'demoguardian')}"}
READER = {"Authorization": f"Bearer {demo_key('scoring', 'demoreader')}"}  # self-estimates only
# The window's key in scoring: it reads the scores of the applications WINDOW submitted (one principal, two keys).
WINDOW_SCORES = {"Authorization": f"Bearer {demo_key('scoring', 'demowindowscores')}"}
SCORING_ADMIN = {"Authorization": f"Bearer {demo_key('scoring', 'demoscoringadmin')}"}
POLICE = {"Authorization": f"Bearer {demo_key('verification', 'demopolice')}"}
SOCIAL_INSURANCE = {"Authorization": f"Bearer {demo_key('verification', 'demosi')}"}
# Binjiang district in verification: its registry (source) and its officers' desk.
BINJIANG = {"Authorization": f"Bearer {demo_key('verification', 'demobinjiang')}"}


def pdf(text: str = "scan") -> bytes:
    """A small document that is a PDF by its content (what intake sniffs)."""
    return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n% " + text.encode() + b"\n%%EOF\n"


def application_body(n: int, name: str = "测试") -> dict[str, Any]:
    return {
        "applicant": {"name": name, "id_number": demo_id_number(n), "phone": "13800000000"},
        "permit_number": demo_permit_number(n),
        "consent": True,
    }


async def wait_for(stage: str, probe: Callable[[], Awaitable[Any]], timeout: float = 30.0, every: float = 0.2) -> Any:
    """Poll until `probe` returns something truthy; fail naming the stage that stalled."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"stalled at stage '{stage}': nothing after {timeout:.0f}s (last seen: {last!r})")


async def status(client: httpx.AsyncClient, platform: Platform, app_id: str) -> dict:
    r = await client.get(f"{platform.url('intake')}/v1/applications/{app_id}", headers=WINDOW)
    r.raise_for_status()
    return r.json()


async def follow_to_notice(client: httpx.AsyncClient, platform: Platform, app_id: str, timeout: float = 30.0) -> dict:
    """Wait through each stage of the road; return the final status document."""
    await wait_for("verification: both departments answer", lambda: _items_done(client, platform, app_id), timeout)
    await wait_for(
        "scoring: the score reaches the application's status",
        lambda: _field(client, platform, app_id, "score"),
        timeout,
    )
    return await wait_for(
        "publicity: the notice is published and linked", lambda: _with_notice(client, platform, app_id), timeout
    )


async def _items_done(client, platform, app_id):
    doc = await status(client, platform, app_id)
    return all(i["state"] != "pending" for i in doc["items"]) and doc


async def _field(client, platform, app_id, name):
    doc = await status(client, platform, app_id)
    return doc.get(name) and doc


async def _with_notice(client, platform, app_id):
    doc = await status(client, platform, app_id)
    return doc.get("notice_url") and doc


def verify_audit_chain(platform: Platform, department: str = "police") -> subprocess.CompletedProcess[str]:
    """The operators' command that recomputes a department's audit chain, run as they would."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "services.verification.audit",
            "verify",
            "--department",
            department,
            "--database-url",
            platform.database_url,
        ],
        capture_output=True,
        text=True,
    )


async def close_round(client: httpx.AsyncClient, base: str, round_id: str, headers: dict, timeout: float = 60) -> dict:
    """Close a round and wait until its list is on notice: closing sends the candidates to scoring to be
    re-scored at the round's cut-off; the list is ranked and published when scoring has answered."""
    closed = await client.post(f"{base}/v1/rounds/{round_id}/close", headers=headers)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] in ("scoring", "notice"), closed.text

    async def on_notice():
        doc = (await client.get(f"{base}/v1/rounds/{round_id}")).json()
        return doc["status"] == "notice" and doc

    return await wait_for("publicity: the round's candidates re-scored and the list published", on_notice, timeout)
