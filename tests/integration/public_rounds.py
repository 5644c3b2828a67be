"""Helpers for the tests of the public pages: people who apply, and a round of an X-module of the
test's own, ranked and on notice.

Each test registers its own copy of the Binjiang module: a round ranks every application that
chose its module and was made during acceptance (today, in a test), so rounds of the shared
`binjiang-talent` module would take in each other's applicants across test files.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import httpx

from deploy.local.platform import Platform, demo_key
from services.verification.seed import demo_id_number, demo_permit_number
from shared import clock
from tests.integration.helpers import WINDOW, application_body, close_round, follow_to_notice

ROOT = Path(__file__).resolve().parents[2]
MODULE_TEMPLATE = ROOT / "services" / "scoring" / "modules" / "binjiang-talent.yaml"
MODULE_OWNER_SCORING = {"Authorization": f"Bearer {demo_key('scoring', 'demobinjiang')}"}
MODULE_OWNER = {"Authorization": f"Bearer {demo_key('publicity', 'demobinjiang')}"}


@dataclass
class Person:
    """A demo holder applying under a name of the test's choosing, with a phone of their own."""

    n: int
    name: str
    application_id: str = ""
    notice_id: str = ""

    @property
    def id_number(self) -> str:
        return demo_id_number(self.n)

    @property
    def permit_number(self) -> str:
        return demo_permit_number(self.n)

    @property
    def phone(self) -> str:
        return f"139{self.n:08d}"


def from_address(address: str, timeout: float = 20) -> httpx.AsyncClient:
    """A client the services see at another loopback address (all of 127.0.0.0/8 is this machine).

    Objections are limited per client address and hour, across the whole session; a test that
    lodges objections from an address of its own neither uses up nor depends on the others' count.
    Taken: .2 and .4 (public pages), .3 (masking), .6 (abuse limits), .7 (publicity access),
    .8 (personal data on the bus), .9 (the trusted proxy of TRUSTED_PROXIES), .12 (模拟积分's
    limit), .13 (the notice board's and the 360 px pages' objections, the estimate page's limit)."""
    return httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(local_address=address), timeout=timeout)


async def own_module(client: httpx.AsyncClient, platform: Platform, label: str) -> tuple[str, str]:
    """Register a copy of the Binjiang talent module under a fresh id; return its id and Chinese name."""
    suffix = secrets.token_hex(3)
    module_id, name_zh = f"binjiang-{label}-{suffix}", f"滨江区人才导向指标（{label} {suffix}）"
    text = MODULE_TEMPLATE.read_text(encoding="utf-8")
    assert "id: binjiang-talent" in text and "zh: 滨江区人才导向指标" in text, "the module template changed"
    text = text.replace("id: binjiang-talent", f"id: {module_id}").replace("zh: 滨江区人才导向指标", f"zh: {name_zh}")
    r = await client.put(
        f"{platform.url('scoring')}/v1/modules/{module_id}", content=text.encode(), headers=MODULE_OWNER_SCORING
    )
    assert r.status_code == 201, r.text
    return module_id, name_zh


async def apply(
    client: httpx.AsyncClient, platform: Platform, people: list[Person], modules: list[str] | None = None
) -> None:
    """Every person applies; wait until each has a score and its public notice."""
    for p in people:
        body = application_body(p.n, name=p.name)
        body["applicant"]["phone"] = p.phone
        if modules is not None:
            body["modules"] = modules
        r = await client.post(f"{platform.url('intake')}/v1/applications", json=body, headers=WINDOW)
        assert r.status_code == 201, r.text
        p.application_id = r.json()["id"]
    for p in people:
        doc = await follow_to_notice(client, platform, p.application_id, timeout=90)
        p.notice_id = doc["notice_url"].rsplit("/", 1)[-1]


async def round_on_notice(
    client: httpx.AsyncClient, platform: Platform, people: list[Person], label: str, quota: int
) -> dict:
    """A module of the test's own, everyone applying for it, and its round closed: the list is on notice."""
    module_id, name_zh = await own_module(client, platform, label)
    await apply(client, platform, people, [module_id])
    base, today = platform.url("publicity"), clock.today().isoformat()
    opened = await client.post(
        f"{base}/v1/rounds",
        headers=MODULE_OWNER,
        json={
            "module_id": module_id,
            "acceptance_opens": today,
            "acceptance_closes": today,
            "quota": quota,
            "notice_working_days": 7,
        },
    )
    assert opened.status_code == 201, opened.text
    doc = await close_round(client, base, opened.json()["id"], MODULE_OWNER)
    assert doc["status"] == "notice" and doc["entries"] == len(people), (
        f"{doc['entries']} of {len(people)} applicants ranked: is every demo holder used eligible?"
    )
    assert doc["name"]["zh"] == name_zh
    return doc
