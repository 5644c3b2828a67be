"""模拟积分调查 from the public estimate page: an invited holder proves who they are with their
invitation SMS's one-time code, consents, and joins (or withdraws); from there they are cross-checked
by the departments like a participant a partner app signed up. Strangers are refused without being
told whether the person exists; each address is limited.

Posts from 127.0.0.20 (the rate limit's own test from 127.0.0.19).
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local.platform import demo_key
from services.publicity.api.campaign_page import NOT_PROVED_ZH
from shared import clock
from tests.integration.helpers import wait_for
from tests.integration.public_rounds import from_address

pytestmark = pytest.mark.integration
OFFICE = {"Authorization": f"Bearer {demo_key('scoring', 'demopolicy')}"}
TITLE = "积分指标调整网页参与测试"
CONSENT = "本人同意将登记信息仅用于本次模拟积分调查。\n调查结束后九十日内删除。"
ANSWERS = "birth_date=1990-05-01&education=bachelor&employed=1&insurance_months=60&residence_years=20"
CODE = re.compile(r"验证码(\d{8})")


def summary_of(page: str) -> str:
    found = re.search(r'<div class="card error-summary"[^>]*>(.*?)</div>', page, re.S)
    assert found, "no error summary at the top of the page"
    return found.group(1)


@pytest.fixture(scope="module")
async def campaign(platform):
    """A campaign drawing 12 of the register, open today; its invitees with their SMS codes."""
    scoring, engine = platform.url("scoring"), create_async_engine(platform.database_url)
    today = clock.today()
    async with httpx.AsyncClient(timeout=120) as client:
        r = await client.post(
            f"{scoring}/v1/campaigns",
            headers=OFFICE,
            json={
                "title_zh": TITLE,
                "drafts": [{"id": "hangzhou-2021"}],
                "period": {"opens_on": today.isoformat(), "closes_on": (today + timedelta(days=20)).isoformat()},
                "consent_text": CONSENT,
                "plan": {"strata": [{"name": "全部", "target": 12}], "seed": 2026},
            },
        )
        assert r.status_code == 201, r.text
    cid = r.json()["id"]

    async def texted():
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT p.id_number, p.permit_number, n.body FROM publicity.notifications n "
                        "JOIN registries.police_contacts c ON c.phone = n.phone "
                        "JOIN registries.police_permits p ON p.id_number = c.id_number AND p.status = 'valid' "
                        "WHERE n.application_id = :c ORDER BY n.score_version"
                    ),
                    {"c": cid},
                )
            ).all()
        return len(rows) == 12 and rows

    rows = await wait_for("publicity texts each holder drawn, with a code", texted, timeout=60)
    await engine.dispose()
    invitees = []
    for row in rows:
        found = CODE.search(row.body)
        assert found and "模拟积分" in row.body, row.body
        invitees.append((row.id_number, row.permit_number, found.group(1)))
    return cid, invitees


async def participants(client: httpx.AsyncClient, scoring: str, cid: str) -> dict[str, int]:
    return (await client.get(f"{scoring}/v1/campaigns/{cid}", headers=OFFICE)).json()["participants"]


async def test_an_invited_holder_joins_from_the_estimate_page_and_is_cross_checked(platform, campaign):
    cid, invitees = campaign
    id_number, permit, code = invitees[0]
    base, scoring = platform.url("publicity"), platform.url("scoring")
    async with from_address("127.0.0.20") as holder, httpx.AsyncClient(timeout=30) as office:
        # The estimate page offers the open campaign, carrying the answers typed there along.
        page = (await holder.get(f"{base}/estimate?{ANSWERS}")).text
        assert TITLE in page and f'href="/estimate/campaigns/{cid}?{ANSWERS.replace("&", "&amp;")}"' in page
        page = (await holder.get(f"{base}/estimate/campaigns/{cid}?{ANSWERS}")).text
        assert "本人同意将登记信息仅用于本次模拟积分调查。" in page and "调查结束后九十日内删除。" in page
        assert 'type="checkbox" id="consent"' in page and 'name="residence_years" value="20"' in page

        form = {
            "id_number": id_number,
            "permit_number": permit,
            "code": code,
            "consent": "1",
            "declare": "1",
            **dict(pair.split("=") for pair in ANSWERS.split("&")),
        }
        r = await holder.post(f"{base}/estimate/campaigns/{cid}", data=form)
        assert r.status_code == 200 and "您已参加本次调查" in r.text, r.text[-2000:]
        again = await holder.post(f"{base}/estimate/campaigns/{cid}", data=form)
        assert again.status_code == 200 and "您已在调查中" in again.text

        async def verified():
            return (await participants(office, scoring, cid)).get("verified") == 1

        await wait_for("the departments answer the participant from the page", verified, timeout=120)
        # Like a partner app's participant: looked up by every department as a campaign, and their
        # declaration (the estimate's answers) compared with the registries in the report.
        r = await office.post(f"{scoring}/v1/campaigns/{cid}/reports", headers=OFFICE)
        assert r.status_code == 201, r.text
        report = r.json()
        assert report["participants"]["verified"] == 1
        declared = {row["indicator"]: row for row in report["declared_vs_verified"]["indicators"]}
        assert report["declared_vs_verified"]["participants"] == 1 and declared, report["declared_vs_verified"]

        # Withdrawn from the page with the same proof: their data goes from the campaign.
        r = await holder.post(
            f"{base}/estimate/campaigns/{cid}/withdrawal", data={"w_id_number": id_number, "w_code": code}
        )
        assert r.status_code == 200 and "您已退出本次调查" in r.text
        assert await participants(office, scoring, cid) == {}
        r = await holder.post(
            f"{base}/estimate/campaigns/{cid}/withdrawal", data={"w_id_number": id_number, "w_code": code}
        )
        assert r.status_code == 200 and "您未在调查中" in r.text


async def test_without_consent_the_form_says_why_in_chinese_and_nobody_joins(platform, campaign):
    cid, invitees = campaign
    id_number, permit, code = invitees[1]
    async with from_address("127.0.0.20") as holder, httpx.AsyncClient(timeout=30) as office:
        r = await holder.post(
            f"{platform.url('publicity')}/estimate/campaigns/{cid}",
            data={"id_number": id_number, "permit_number": permit, "code": code},
        )
        assert r.status_code == 422
        assert "未经本人同意不能参加调查" in summary_of(r.text) and 'href="#consent"' in summary_of(r.text)
        assert 'id="consent" name="consent" value="1" aria-invalid="true"' in r.text
        assert await participants(office, platform.url("scoring"), cid) == {}


async def test_a_wrong_proof_is_refused_without_saying_whether_the_person_exists(platform, campaign):
    cid, invitees = campaign
    base, scoring = platform.url("publicity"), platform.url("scoring")
    (id_number, permit, code), (other_id, _p, other_code) = invitees[2], invitees[3]
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    nobody = "110101199001011237"  # a well-formed ID number no register holds
    async with from_address("127.0.0.20") as stranger, httpx.AsyncClient(timeout=30) as office:
        attempts = {
            "a wrong code": {"id_number": id_number, "permit_number": permit, "code": wrong},
            "another invitee's code": {"id_number": id_number, "permit_number": permit, "code": other_code},
            "a person on no register": {"id_number": nobody, "permit_number": "ZJ330100-999999", "code": code},
        }
        summaries = set()
        for what, form in attempts.items():
            r = await stranger.post(f"{base}/estimate/campaigns/{cid}", data={**form, "consent": "1"})
            assert r.status_code == 403, what
            summaries.add(summary_of(r.text))
        assert summaries == {summary_of(r.text)} and NOT_PROVED_ZH in summaries.pop()
        r = await stranger.post(
            f"{base}/estimate/campaigns/{cid}/withdrawal", data={"w_id_number": other_id, "w_code": code}
        )
        assert r.status_code == 403 and NOT_PROVED_ZH in summary_of(r.text)
        # Guessing stops: after five wrong codes, the holder's code is refused even when right.
        for _ in range(3):
            r = await stranger.post(
                f"{base}/estimate/campaigns/{cid}",
                data={"id_number": id_number, "permit_number": permit, "code": wrong, "consent": "1"},
            )
            assert r.status_code == 403
        r = await stranger.post(
            f"{base}/estimate/campaigns/{cid}",
            data={"id_number": id_number, "permit_number": permit, "code": code, "consent": "1"},
        )
        assert r.status_code == 403 and NOT_PROVED_ZH in summary_of(r.text)
        assert await participants(office, scoring, cid) == {}


async def test_an_address_is_limited_in_its_tries(platform, campaign):
    cid, invitees = campaign
    id_number, permit, _code = invitees[4]
    url = f"{platform.url('publicity')}/estimate/campaigns/{cid}"
    async with from_address("127.0.0.19") as client:
        for i in range(20):  # CAMPAIGN_PROOFS_PER_CLIENT_HOUR's default
            r = await client.post(url, data={"id_number": id_number, "permit_number": permit, "code": "00000000"})
            assert r.status_code == 422, f"try {i + 1}"
        over = await client.post(url, data={"id_number": id_number, "permit_number": permit, "code": "00000000"})
        assert over.status_code == 429 and 0 < int(over.headers["retry-after"]) <= 3600


async def test_a_closed_campaign_is_not_offered_and_its_codes_go(platform):
    """A campaign whose last day was yesterday: its invitations are texted, then publicity's sweep
    forgets the campaign and the codes' hashes (they prove nothing any more)."""
    yesterday = clock.today() - timedelta(days=1)
    engine = create_async_engine(platform.database_url)
    async with httpx.AsyncClient(timeout=120) as client:
        r = await client.post(
            f"{platform.url('scoring')}/v1/campaigns",
            headers=OFFICE,
            json={
                "title_zh": "已结束的调查",
                "drafts": [{"id": "hangzhou-2021"}],
                "period": {"opens_on": (yesterday - timedelta(days=5)).isoformat(), "closes_on": yesterday.isoformat()},
                "consent_text": CONSENT,
                "plan": {"strata": [{"name": "全部", "target": 2}]},
            },
        )
        assert r.status_code == 201, r.text
        cid = r.json()["id"]

        async def forgotten():
            async with engine.connect() as conn:
                texted, kept = (
                    await conn.execute(
                        text(
                            "SELECT (SELECT count(*) FROM publicity.notifications WHERE application_id = :c),"
                            " (SELECT count(*) FROM publicity.campaign_codes WHERE campaign_id = :c)"
                            "  + (SELECT count(*) FROM publicity.campaigns WHERE id = :c)"
                        ),
                        {"c": cid},
                    )
                ).one()
            return texted == 2 and kept == 0

        await wait_for("the invitations are texted and the closed campaign forgotten", forgotten, timeout=60)
        await engine.dispose()
        assert "已结束的调查" not in (await client.get(f"{platform.url('publicity')}/estimate")).text
        page = await client.get(f"{platform.url('publicity')}/estimate/campaigns/{cid}")
        assert page.status_code == 404
