"""A 模拟积分 campaign open today, for tests of publicity's public pages (the estimate page offers it)."""

from __future__ import annotations

import httpx

from deploy.local.platform import Platform, demo_key
from shared import clock
from tests.integration.helpers import wait_for

OFFICE = {"Authorization": f"Bearer {demo_key('scoring', 'demopolicy')}"}


async def open_public_campaign(client: httpx.AsyncClient, platform: Platform, title_zh: str) -> str:
    """Open a campaign (one stratum, one holder drawn) for today only; its id, once publicity's
    estimate page offers it. The title is shown on public pages: Chinese only."""
    today = clock.today().isoformat()
    r = await client.post(
        f"{platform.url('scoring')}/v1/campaigns",
        headers=OFFICE,
        json={
            "title_zh": title_zh,
            "drafts": [{"id": "hangzhou-2021"}],
            "period": {"opens_on": today, "closes_on": today},
            "consent_text": "本人同意将登记信息仅用于本次模拟积分调查，调查结束后按期删除。",
            "plan": {"strata": [{"name": "全部", "target": 1}]},
        },
    )
    assert r.status_code == 201, r.text

    async def offered() -> bool:
        return title_zh in (await client.get(f"{platform.url('publicity')}/estimate")).text

    await wait_for("the estimate page offers the campaign", offered, timeout=30)
    return str(r.json()["id"])
