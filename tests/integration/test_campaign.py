"""The policy office's 模拟积分 campaign with real holders, end to end, on the seeded register.

The office opens a campaign for a draft (social insurance at 2 points a month up to 400, instead of
0.5 up to 120) with four strata covering the register; verification draws the sample and publicity
texts each holder drawn. Nine in ten of the invited take part through a partner app (some declare
facts of their own), a few join of their own accord, one presents a permit the register does not
know; the departments' answers come back as campaign look-ups (on the audit chains, scored for no
service). One withdraws. The report's weighted estimates must cover the register's true means, which
the test computes itself: every valid permit on the register looked up as the departments answer
and scored under each rule set.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local.platform import demo_key
from services.scoring import domain as scoring
from services.scoring.engine.rules import in_force, load_shipped, parse_rule_set
from services.scoring.simulation.drafts import as_if_in_force
from services.verification.registries import SqlRegistries
from services.verification.use_cases.answers import look_up
from shared import clock
from shared.demo import DEMO_SALT
from shared.departments import DEPARTMENTS
from shared.events.catalogue import ApplicationSubmitted, Holder
from shared.pseudonyms import holder_key
from tests.fakes import FakeUnitOfWork
from tests.integration.access_matrix import issue_keys
from tests.integration.helpers import wait_for
from tests.unit.verification.fakes import FakeStore

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
OFFICE = {"Authorization": f"Bearer {demo_key('scoring', 'demopolicy')}"}
APP = {"Authorization": f"Bearer {demo_key('scoring', 'democampaignjoin')}"}
SI_RULE = "formula: {kind: per_unit, unit: 1, points: 0.5, cap: 120}"
SI_DRAFT = "formula: {kind: per_unit, unit: 1, points: 2, cap: 400}"
YOUNG, OLDER = ["18–24", "25–34"], ["35–44", "45–54", "55+"]
STRATA = [
    {"name": "未成年", "where": {"age_band": ["unknown"]}, "target": 20},
    {
        "name": "青年·租房或无房",
        "where": {"age_band": YOUNG, "housing": ["registered renter", "neither"]},
        "target": 70,
    },
    {"name": "青年·自有住房", "where": {"age_band": YOUNG, "housing": ["owner"]}, "target": 40},
    {"name": "35岁以上", "where": {"age_band": OLDER}, "target": 110},
]


def draft_text(draft_id: str) -> str:
    source = (ROOT / "services/scoring/rulesets/hangzhou-2021.yaml").read_text(encoding="utf-8")
    assert source.count(SI_RULE) == 1 and source.count("\nid: hangzhou-2021\n") == 1, "the rule set changed"
    return source.replace(SI_RULE, SI_DRAFT).replace("\nid: hangzhou-2021\n", f"\nid: {draft_id}\n")


def campaign_body(draft_id: str, **changes) -> dict:
    today = clock.today()
    return {
        "title_zh": "2027年积分指标调整模拟",
        "drafts": [{"id": draft_id}],
        "period": {"opens_on": today.isoformat(), "closes_on": (today + timedelta(days=30)).isoformat()},
        "consent_text": "本人同意将登记信息仅用于本次模拟积分调查，调查结束后按期删除。",
        "plan": {"strata": STRATA, "seed": 20261130},
        "line": {"threshold": 150, "share": 0.1},
        "retention_days": 90,
        **changes,
    }


async def register_of(engine, cut_off: date) -> dict[str, tuple[str, str]]:
    """Every valid permit on the register on the cut-off: holder key -> (ID number, permit number)."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT id_number, permit_number FROM registries.police_permits "
                    "WHERE status = 'valid' AND valid_to >= :d"
                ),
                {"d": cut_off},
            )
        ).all()
    return {holder_key(r.id_number, DEMO_SALT): (r.id_number, r.permit_number) for r in rows}


async def true_means(engine, holders: list[tuple[str, str]], cut_off: date, rule_sets: list) -> list[float]:
    """The register's mean score under each rule set: every holder looked up as the departments answer
    (verification's own look-ups over the registries, on a chain of the test's own) and scored."""
    registries = SqlRegistries(engine)
    limit = asyncio.Semaphore(8)

    async def answers_of(id_number: str, permit: str) -> list[dict]:
        question = ApplicationSubmitted(
            application_id="truth",
            holder=Holder(id_number=id_number, permit_number=permit, name_masked="*", id_number_masked="*"),
            applied_on=cut_off + timedelta(days=1),
            cut_off_date=cut_off,
            expected_departments=list(DEPARTMENTS),
        )
        out = []
        async with limit:
            for department in DEPARTMENTS:
                answer, _ = await look_up(FakeUnitOfWork(FakeStore()), department, registries, question, "truth")
                out.append({"department": department, "items": answer.items, "facts": answer.facts})
        return out

    answers = await asyncio.gather(*(answers_of(i, p) for i, p in holders))
    today = clock.today()
    means = []
    for rs in rule_sets:
        explained = scoring.score_applications({rs.id: as_if_in_force(rs, today)}, cut_off, answers, None, today, today)
        means.append(sum(float(e["total"]) for e in explained) / len(explained))
    return means


async def test_a_campaign_from_invitation_to_a_weighted_report(platform):
    scoring_url, engine = platform.url("scoring"), create_async_engine(platform.database_url)
    async with httpx.AsyncClient(timeout=120) as client:
        draft_id = f"hangzhou-2021-si-{secrets.token_hex(3)}"
        r = await client.put(
            f"{scoring_url}/v1/rule-sets/drafts/{draft_id}", content=draft_text(draft_id).encode(), headers=OFFICE
        )
        assert r.status_code == 201, r.text
        async with engine.connect() as conn:
            scores_before = await conn.scalar(text("SELECT count(*) FROM scoring.scores"))

        # -- opening: the draw -----------------------------------------------------------------
        r = await client.post(f"{scoring_url}/v1/campaigns", json=campaign_body(draft_id), headers=OFFICE)
        assert r.status_code == 201, r.text
        campaign = r.json()
        cid, cut_off = campaign["id"], date.fromisoformat(campaign["cut_off_date"])
        register = await register_of(engine, cut_off)
        assert campaign["population"]["holders"] == len(register) > 2500
        sizes = [s["on_register"] for s in campaign["strata"]]
        assert sum(sizes) == len(register) and all(sizes)
        assert [s["invited"] for s in campaign["strata"]] == [
            min(s["target"], n) for s, n in zip(STRATA, sizes, strict=True)
        ]
        invited_total = sum(s["invited"] for s in campaign["strata"])

        async with engine.connect() as conn:
            drawn = dict(
                (
                    await conn.execute(
                        text(
                            "SELECT holder_key, stratum FROM verification.campaign_invitations WHERE campaign_id = :c"
                        ),
                        {"c": cid},
                    )
                ).all()
            )
        assert len(drawn) == invited_total and set(drawn) <= set(register)

        async def texted():
            async with engine.connect() as conn:
                rows = (
                    await conn.execute(
                        text("SELECT phone, body FROM publicity.notifications WHERE application_id = :c"), {"c": cid}
                    )
                ).all()
            return len(rows) == invited_total and rows

        sms = await wait_for("publicity texts every holder drawn", texted, timeout=60)
        assert all(row.phone.startswith("139") and "模拟积分调查" in row.body and "自愿" in row.body for row in sms)

        # -- participation ----------------------------------------------------------------------
        invited = sorted(drawn)
        absent = set(invited[::10])  # one in ten never answers the invitation
        taking_part = [k for k in invited if k not in absent]
        outsiders = [k for k in sorted(register) if k not in drawn][:6]
        volunteers, stranger_key = outsiders[:5], outsiders[5]
        declaring = taking_part[:25]
        for key in taking_part + volunteers:
            id_number, permit = register[key]
            body = {"id_number": id_number, "permit_number": permit, "consent": True}
            if key in declaring:  # says twenty years of residence and nothing else
                born = f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}"
                body["declared"] = {"birth_date": born, "residence_years": 20}
            r = await client.post(f"{scoring_url}/v1/campaigns/{cid}/participants", json=body, headers=APP)
            assert r.status_code == 202 and r.json()["joined"], r.text
        again = await client.post(
            f"{scoring_url}/v1/campaigns/{cid}/participants",
            json={
                "id_number": register[taking_part[0]][0],
                "permit_number": register[taking_part[0]][1],
                "consent": True,
            },
            headers=APP,
        )
        assert again.status_code == 202 and again.json()["joined"] is False
        # One of those who never answered joins and withdraws at once, before the departments answer:
        # their answers, when they come, find nothing to attach to.
        hasty = sorted(absent)[0]
        r = await client.post(
            f"{scoring_url}/v1/campaigns/{cid}/participants",
            json={"id_number": register[hasty][0], "permit_number": register[hasty][1], "consent": True},
            headers=APP,
        )
        assert r.status_code == 202, r.text
        r = await client.delete(
            f"{scoring_url}/v1/campaigns/{cid}/participants", headers={**APP, "X-Holder-Id-Number": register[hasty][0]}
        )
        assert r.status_code == 204, r.text
        stranger = register[stranger_key][0]  # presents a permit the register does not give them
        r = await client.post(
            f"{scoring_url}/v1/campaigns/{cid}/participants",
            json={"id_number": stranger, "permit_number": "ZJ330100-999999", "consent": True},
            headers=APP,
        )
        assert r.status_code == 202 and r.json()["joined"], r.text

        async def verified():
            doc = (await client.get(f"{scoring_url}/v1/campaigns/{cid}", headers=OFFICE)).json()
            return "verifying" not in doc["participants"] and doc["participants"]

        states = await wait_for("the departments answer every participant", verified, timeout=240)
        assert states == {"verified": len(taking_part) + len(volunteers), "not_on_register": 1}

        async def hasty_gone():
            async with engine.connect() as conn:
                return not await conn.scalar(
                    text(
                        "SELECT (SELECT count(*) FROM scoring.campaign_participants p "
                        "        WHERE p.campaign_id = :c AND p.holder_key = :k)"
                        "     + (SELECT count(*) FROM verification.campaign_invitations i "
                        "        WHERE i.campaign_id = :c AND i.holder_key = :k)"
                    ),
                    {"c": cid, "k": hasty},
                )

        await wait_for("nothing is kept of a holder who withdrew before the answers came", hasty_gone)

        # Campaign look-ups are audited as such, and nobody was scored for a service.
        async with engine.connect() as conn:
            audited = await conn.scalar(
                text(
                    "SELECT count(DISTINCT department) FROM verification.audit_log "
                    "WHERE application_id = :a AND requester LIKE '%(campaign)'"
                ),
                {"a": f"campaign:{cid}"},
            )
            assert audited == len(DEPARTMENTS)
            assert await conn.scalar(text("SELECT count(*) FROM scoring.scores")) == scores_before

        # -- withdrawal ---------------------------------------------------------------------------
        leaving = taking_part[-1]
        r = await client.delete(
            f"{scoring_url}/v1/campaigns/{cid}/participants",
            headers={**APP, "X-Holder-Id-Number": register[leaving][0]},
        )
        assert r.status_code == 204, r.text
        r = await client.delete(
            f"{scoring_url}/v1/campaigns/{cid}/participants",
            headers={**APP, "X-Holder-Id-Number": register[leaving][0]},
        )
        assert r.status_code == 404
        async with engine.connect() as conn:
            assert not await conn.scalar(
                text("SELECT count(*) FROM scoring.campaign_participants WHERE campaign_id = :c AND holder_key = :k"),
                {"c": cid, "k": leaving},
            )

        async def forgotten():
            async with engine.connect() as conn:
                return not await conn.scalar(
                    text(
                        "SELECT count(*) FROM verification.campaign_invitations "
                        "WHERE campaign_id = :c AND holder_key = :k"
                    ),
                    {"c": cid, "k": leaving},
                )

        await wait_for("verification forgets the withdrawn holder was drawn", forgotten)
        taking_part = taking_part[:-1]

        # -- the report ---------------------------------------------------------------------------
        r = await client.post(f"{scoring_url}/v1/campaigns/{cid}/reports", headers=OFFICE)
        assert r.status_code == 201, r.text
        report = r.json()
        assert r.headers["location"] == f"/v1/campaigns/{cid}/reports/{report['number']}"

        # Response per stratum, from the test's own bookkeeping.
        for h, row in enumerate(report["strata"]):
            mine = [k for k in taking_part if drawn[k] == h]
            assert row["responded"] == len(mine) and row["invited"] == campaign["strata"][h]["invited"]
            assert row["response_rate"] == pytest.approx(len(mine) / row["invited"], abs=1e-4)
            assert row["weight"] == pytest.approx(row["on_register"] / len(mine), abs=1e-3)
        assert report["participants"]["sampled_respondents"] == len(taking_part)
        assert report["participants"]["volunteers"] == len(volunteers)  # 5 verified volunteers, 1 stranger aside
        assert report["population"]["covered_share"] == 1.0

        # The weighted estimates cover the register's true means within their stated margins.
        rules = in_force(load_shipped(), clock.today())
        draft = parse_rule_set(draft_text(draft_id), "draft")
        truth = await true_means(engine, list(register.values()), cut_off, [rules, draft])
        by_rules = {s["rule_set"]: s["mean"] for s in report["scores"]}
        assert list(by_rules) == [rules.id, draft_id]
        for (rule_set, estimate), true in zip(by_rules.items(), truth, strict=True):
            assert 0 < estimate["margin"] < 0.2 * true, (rule_set, estimate, true)
            assert abs(estimate["value"] - true) <= estimate["margin"], (rule_set, estimate, true)
        comparison = report["comparisons"][0]
        change = comparison["mean_change"]
        assert abs(change["value"] - (truth[1] - truth[0])) <= change["margin"], (change, truth)
        assert comparison["gainers_share"]["value"] > 0.5 and comparison["losers_share"]["value"] == 0
        assert set(comparison["groups"]) == {"district", "age_band", "education", "housing", "residence_years"}
        assert (
            comparison["line"]["after"]["qualified_share"]["value"]
            > comparison["line"]["before"]["qualified_share"]["value"]
        )
        assert comparison["line"]["movement"] > 0

        # Declared their birth date (as the ID number has it) and twenty years of residence: the
        # registries agree on the age, and disagree on the residence for most who said so; nothing
        # else was declared, so nothing else is compared.
        rows = {r["indicator"]: r for r in report["declared_vs_verified"]["indicators"]}
        assert report["declared_vs_verified"]["participants"] == len(declaring)
        assert set(rows) == {"age", "residence"}, rows
        assert rows["age"]["declared"] == len(declaring) and rows["age"]["disagree"] == 0
        assert rows["residence"]["declared"] == len(declaring) and rows["residence"]["disagree"] > len(declaring) // 2
        assert rows["residence"]["mean_difference"] > 0 and rows["residence"]["name_zh"] == "居住登记年限"

        # No personal data in the report, in either form.
        page = await client.get(
            f"{scoring_url}/v1/campaigns/{cid}/reports/{report['number']}/report.html", headers=OFFICE
        )
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "2027年积分指标调整模拟" in page.text and "<svg" in page.text
        figures = (
            await client.get(f"{scoring_url}/v1/campaigns/{cid}/reports/{report['number']}", headers=OFFICE)
        ).text
        for key in taking_part + volunteers:
            id_number, permit = register[key]
            for doc in (figures, page.text):
                assert id_number not in doc and permit not in doc and key not in doc
        assert stranger not in figures

        # Another office sees nothing of it: the same 404 as an unknown campaign.
        other = (await issue_keys(platform.database_url, "scoring", {"o": ("other-office", ["campaigns:manage"])}))["o"]
        theirs = await client.get(f"{scoring_url}/v1/campaigns/{cid}", headers=other)
        unknown = await client.get(f"{scoring_url}/v1/campaigns/CMP-20260101-NOSUCH", headers=other)
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.text.replace(cid, "CMP-20260101-NOSUCH") == unknown.text
        r = await client.post(f"{scoring_url}/v1/campaigns/{cid}/reports", headers=other)
        assert r.status_code == 404

        # -- retention: past the campaign's period, the participants' data goes ---------------------
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE scoring.campaign_participants SET keep_until = now() - interval '1 second' "
                    "WHERE campaign_id = :c"
                ),
                {"c": cid},
            )

        async def swept():
            async with engine.connect() as conn:
                return not await conn.scalar(
                    text("SELECT count(*) FROM scoring.campaign_participants WHERE campaign_id = :c"), {"c": cid}
                )

        await wait_for("the retention sweep removes the participants", swept, timeout=30)
        kept = await client.get(f"{scoring_url}/v1/campaigns/{cid}/reports/{report['number']}", headers=OFFICE)
        assert kept.status_code == 200 and kept.json()["participants"]["sampled_respondents"] == len(taking_part)
    await engine.dispose()


async def test_bad_campaigns_are_refused_naming_the_field(platform):
    scoring_url, engine = platform.url("scoring"), create_async_engine(platform.database_url)
    async with httpx.AsyncClient(timeout=60) as client:
        draft_id = f"hangzhou-2021-si-{secrets.token_hex(3)}"
        r = await client.put(
            f"{scoring_url}/v1/rule-sets/drafts/{draft_id}", content=draft_text(draft_id).encode(), headers=OFFICE
        )
        assert r.status_code == 201, r.text

        async def counts():
            async with engine.connect() as conn:
                return (
                    await conn.scalar(text("SELECT count(*) FROM scoring.campaigns")),
                    await conn.scalar(text("SELECT count(*) FROM verification.campaign_draws")),
                )

        before = await counts()
        cases = {
            # The minors are in no stratum: the register is not covered.
            "plan.strata": campaign_body(draft_id, plan={"strata": STRATA[1:], "seed": 1}),
            "drafts[0].document": campaign_body(draft_id, drafts=[{"document": "id: broken\nindicators: 3\n"}]),
            "drafts[0].id": campaign_body(draft_id, drafts=[{"id": "no-such-draft"}]),
            "consent_text": {k: v for k, v in campaign_body(draft_id).items() if k != "consent_text"},
            "plan.strata[0].where.age_band": campaign_body(
                draft_id, plan={"strata": [{"name": "x", "where": {"age_band": ["old"]}, "target": 1}]}
            ),
            "period.closes_on": campaign_body(draft_id, period={"opens_on": "2026-12-10", "closes_on": "2026-12-01"}),
        }
        cases["blank consent_text"] = campaign_body(draft_id, consent_text="   ")
        for field, body in cases.items():
            r = await client.post(f"{scoring_url}/v1/campaigns", json=body, headers=OFFICE)
            assert r.status_code == 422, (field, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            fields = [e["field"] for e in r.json()["errors"]]
            assert field.removeprefix("blank ") in fields, (field, r.json())
        uncovered = (
            await client.post(
                f"{scoring_url}/v1/campaigns",
                json=campaign_body(draft_id, plan={"strata": STRATA[1:], "seed": 1}),
                headers=OFFICE,
            )
        ).json()
        assert "in no stratum" in uncovered["detail"] and "age_band=unknown" in uncovered["detail"]
        assert await counts() == before  # nothing half-written, in either service

        # Taking part needs explicit consent.
        r = await client.post(f"{scoring_url}/v1/campaigns", json=campaign_body(draft_id), headers=OFFICE)
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        r = await client.post(
            f"{scoring_url}/v1/campaigns/{cid}/participants",
            json={"id_number": "330106198503150077", "permit_number": "ZJ330100-000007", "consent": False},
            headers=APP,
        )
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["consent"]
        # Only a key for partner apps signs holders up; only the office opens campaigns.
        r = await client.post(
            f"{scoring_url}/v1/campaigns/{cid}/participants",
            json={"id_number": "330106198503150077", "permit_number": "ZJ330100-000007", "consent": True},
            headers=OFFICE,
        )
        assert r.status_code == 403
        r = await client.post(f"{scoring_url}/v1/campaigns", json=campaign_body(draft_id), headers=APP)
        assert r.status_code == 403
    await engine.dispose()
