"""Reviews (复核): the holder asks, through a partner app, for their own score to be reviewed;
the departments look again, and the answer is due within 5 working days. Officers see the desk.
Objections to a score's own notice go the same way."""

from __future__ import annotations

import httpx
import pytest

from deploy.local.platform import demo_key
from services.verification.seed import demo_id_number
from shared import clock
from shared.calendar import add_working_days
from tests.integration.helpers import WINDOW, application_body, follow_to_notice, wait_for

pytestmark = pytest.mark.integration
SERVICE_APP = {"Authorization": f"Bearer {demo_key('publicity', 'demoserviceapp')}"}
OFFICER = {"Authorization": f"Bearer {demo_key('publicity', 'demoofficer')}"}
CITY = {"Authorization": f"Bearer {demo_key('publicity', 'democity')}"}


async def test_a_holder_asks_for_a_review_and_gets_an_answer(platform):
    base, n = platform.url("publicity"), 2541
    async with httpx.AsyncClient(timeout=20) as client:
        app_id = (
            await client.post(f"{platform.url('intake')}/v1/applications", json=application_body(n), headers=WINDOW)
        ).json()["id"]
        await follow_to_notice(client, platform, app_id, timeout=60)
        ask = {
            "application_id": app_id,
            "id_number": demo_id_number(n),
            "items": ["social_insurance"],
            "reason": "我的社保缴费月数少算了，请复核。",
        }
        assert (await client.post(f"{base}/v1/reviews", json=ask)).status_code == 401
        assert (await client.post(f"{base}/v1/reviews", json=ask, headers=CITY)).status_code == 403
        # Someone else's application answers like a missing one.
        other = await client.post(
            f"{base}/v1/reviews", json={**ask, "id_number": demo_id_number(n + 1)}, headers=SERVICE_APP
        )
        assert other.status_code == 404
        r = await client.post(f"{base}/v1/reviews", json=ask, headers=SERVICE_APP)
        assert r.status_code == 201, r.text
        review = r.json()
        assert review["kind"] == "review" and review["id"].startswith("REV-")
        assert review["due_by"] == add_working_days(clock.today(), 5).isoformat()

        assert (await client.get(f"{base}/v1/objections", headers=SERVICE_APP)).status_code == 403

        async def answered():
            doc = (await client.get(f"{base}/v1/objections/{review['id']}")).json()
            return doc["status"] == "resolved" and doc

        done = await wait_for("the departments answer the review", answered, timeout=60)
        # Nothing changed in the registry: the score stands, and a new version says so.
        assert done["score_after"] == done["score_before"] and "不变" in done["outcome"]
        desk = (await client.get(f"{base}/v1/objections", params={"status": "resolved"}, headers=OFFICER)).json()
        assert review["id"] in [d["id"] for d in desk]
        late_answer = await client.post(
            f"{base}/v1/objections/{review['id']}/answer", json={"outcome": "已答复"}, headers=OFFICER
        )
        assert late_answer.status_code == 409


async def test_an_objection_to_a_score_notice_is_taken_and_shown_on_the_officers_desk(platform):
    base, n = platform.url("publicity"), 2542
    async with httpx.AsyncClient(timeout=20) as client:
        app_id = (
            await client.post(f"{platform.url('intake')}/v1/applications", json=application_body(n), headers=WINDOW)
        ).json()["id"]
        doc = await follow_to_notice(client, platform, app_id, timeout=60)
        notice_id = doc["notice_url"].rsplit("/", 1)[-1]
        both = await client.post(
            f"{base}/v1/objections",
            json={
                "notice_id": notice_id,
                "round_id": "RND-X",
                "entry": 1,
                "items": ["education"],
                "reason": "同时指向两个对象的异议",
            },
        )
        assert both.status_code == 422 and both.json()["errors"][0]["field"] == "round_id"
        too_long = await client.post(
            f"{base}/v1/objections", json={"notice_id": notice_id, "items": ["education"], "reason": "长" * 501}
        )
        assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "reason"
        r = await client.post(
            f"{base}/v1/objections",
            json={
                "notice_id": notice_id,
                "items": ["education"],
                "reason": "学历信息与实际不符，请核查。",
                "contact_phone": "13900000000",
            },
        )
        assert r.status_code == 201, r.text
        receipt = r.json()
        assert "contact_phone" not in receipt and "13900000000" not in r.text
        desk = (await client.get(f"{base}/v1/objections", headers=OFFICER)).json()
        mine = next((d for d in desk if d["id"] == receipt["id"]), None)
        if mine is not None:  # it may have been answered already
            assert mine["application_id"] == app_id and mine["overdue"] is False
        answered = await client.post(
            f"{base}/v1/objections/{receipt['id']}/answer", json={"outcome": "经核查，学历信息无误。"}, headers=OFFICER
        )
        assert answered.status_code in (200, 409)
        final = (await client.get(f"{base}/v1/objections/{receipt['id']}")).json()
        assert final["status"] in ("answered", "resolved") and final["outcome"]
