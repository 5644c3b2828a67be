"""Scoring's REST API on the running service: self-estimates, rule sets, access."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import MetaData, func, select
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local.platform import demo_key
from services.scoring.engine.rules import load_shipped
from services.scoring.tables import scores
from shared.auth import ApiKeys, api_keys_table

pytestmark = pytest.mark.integration
PARTNER = {"Authorization": f"Bearer {demo_key('scoring', 'demoreader')}"}
FACTS = {
    "permit_status": "valid",
    "birth_date": "1990-05-01",
    "education": ["bachelor", "junior_college"],
    "residence_spans": [{"start": "2016-03-01", "end": None}],
    "own_home": False,
    "rental_spans": [{"start": "2019-01-01", "end": None}],
    "offences": [{"date": "2024-02-01", "act": "a", "case": "detention"}],
}


async def test_a_partner_app_gets_a_self_estimate_and_nothing_is_stored(platform):
    engine = create_async_engine(platform.database_url)
    async with engine.connect() as conn:
        before = await conn.scalar(select(func.count()).select_from(scores))
    async with httpx.AsyncClient(base_url=platform.url("scoring"), timeout=10) as client:
        r = await client.post("/v1/evaluate", json={"facts": FACTS, "application_date": "2026-11-26"}, headers=PARTNER)
        assert r.status_code == 200, r.text
        ex = r.json()
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(scores)) == before
    await engine.dispose()
    by = {line["indicator"]: line["points"] for line in ex["lines"]}
    # age 36: 30; bachelor: 50; 10 full years of residence before 2026-10-01: 50;
    # 7 years renting: 30 (capped); one detention: -60
    assert (by["age"], by["education"], by["residence"], by["housing"], by["detention"]) == (30, 50, 50, 30, -60)
    assert ex["cut_off_date"] == "2026-10-01" and ex["rule_set_id"] == "hangzhou-2021"
    assert ex["total"] == sum(by.values()) == 100


async def test_evaluate_under_a_named_rule_set_and_in_the_past(platform):
    async with httpx.AsyncClient(base_url=platform.url("scoring"), timeout=10) as client:
        r = await client.post("/v1/evaluate", json={"facts": FACTS, "application_date": "2020-07-15"}, headers=PARTNER)
        assert r.status_code == 200 and r.json()["rule_set_id"] == "hangzhou-2018"
        r = await client.post("/v1/evaluate", json={"facts": FACTS, "rule_set_id": "nope"}, headers=PARTNER)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rule_set_id"
        r = await client.post("/v1/evaluate", json={"facts": FACTS, "application_date": "2016-01-01"}, headers=PARTNER)
        assert r.status_code == 422 and "no rule set is in force" in r.json()["detail"]
        r = await client.post(
            "/v1/evaluate", json={"facts": {"residence_spans": [{"start": "not a date"}]}}, headers=PARTNER
        )
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        r = await client.post("/v1/evaluate", json={"fact": {}}, headers=PARTNER)
        assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} >= {"facts", "fact"}


async def test_evaluate_needs_a_key_with_the_evaluate_scope(platform):
    engine = create_async_engine(platform.database_url)
    reader_only = await ApiKeys(engine, api_keys_table(MetaData(schema="scoring"))).issue("reader", ["scores:read"])
    await engine.dispose()
    async with httpx.AsyncClient(base_url=platform.url("scoring"), timeout=10) as client:
        assert (await client.post("/v1/evaluate", json={"facts": FACTS})).status_code == 401
        r = await client.post("/v1/evaluate", json={"facts": FACTS}, headers={"Authorization": f"Bearer {reader_only}"})
        assert r.status_code == 403


async def test_rule_sets_are_public_and_complete(platform):
    async with httpx.AsyncClient(base_url=platform.url("scoring"), timeout=10) as client:
        listed = {rs["id"]: rs for rs in (await client.get("/v1/rule-sets")).json()}
        assert set(listed) >= {"hangzhou-2018", "hangzhou-2021"} and listed["hangzhou-2021"]["indicators"] == len(
            load_shipped()["hangzhou-2021"].indicators
        )
        full = (await client.get("/v1/rule-sets/hangzhou-2021")).json()
        assert {i["category"] for i in full["indicators"]} == {"basic", "bonus", "deduction", "veto"}
        assert (await client.get("/v1/rule-sets/nope")).status_code == 404


ADMIN = {"Authorization": f"Bearer {demo_key('scoring', 'demoscoringadmin')}"}


def _rule_file(rule_set_id: str, effective_from: str, residence_points: int = 7) -> str:
    return f"""
id: {rule_set_id}
name: {{zh: 测试指标体系, en: Test indicator system}}
effective_from: {effective_from}
eligibility: {{fact: permit_status, department: police, void: [terminated], pause: [suspended]}}
indicators:
  - id: residence
    category: basic
    name: {{zh: 居住登记年限, en: Years of residence}}
    department: police
    fact: residence_spans
    measure: {{kind: span_years}}
    formula: {{kind: per_unit, unit: 1, points: {residence_points}, cap: 140}}
"""


async def test_a_draft_is_validated_published_by_an_admin_and_then_never_changes(platform):
    from secrets import token_hex

    rid = f"test-{token_hex(3)}"
    async with httpx.AsyncClient(base_url=platform.url("scoring"), timeout=10) as client:
        bad = _rule_file(rid, "2099-01-01").replace("unit: 1,", "unit: -1,")
        r = await client.put(f"/v1/rule-sets/drafts/{rid}", content=bad, headers=ADMIN)
        assert r.status_code == 422 and "'residence'" in r.json()["detail"] and "unit" in r.json()["detail"]
        assert (
            await client.put(f"/v1/rule-sets/drafts/{rid}", content=_rule_file(rid, "2099-01-01"), headers=PARTNER)
        ).status_code == 403
        r = await client.put(f"/v1/rule-sets/drafts/{rid}", content=_rule_file(rid, "2099-01-01"), headers=ADMIN)
        assert r.status_code == 201 and r.json()["state"] == "draft"
        drafts = (await client.get("/v1/rule-sets/drafts", headers=ADMIN)).json()
        assert rid in [d["id"] for d in drafts]
        assert (await client.get(f"/v1/rule-sets/{rid}")).status_code == 404  # not in use until published

        past = f"{rid}p"
        await client.put(f"/v1/rule-sets/drafts/{past}", content=_rule_file(past, "2020-01-01"), headers=ADMIN)
        r = await client.post(f"/v1/rule-sets/{past}/publish", headers=ADMIN)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "effective_from"

        assert (await client.post(f"/v1/rule-sets/{rid}/publish", headers=PARTNER)).status_code == 403
        r = await client.post(f"/v1/rule-sets/{rid}/publish", headers=ADMIN)
        assert r.status_code == 200 and r.json()["state"] == "published"
        assert (await client.post(f"/v1/rule-sets/{rid}/publish", headers=ADMIN)).status_code == 409
        r = await client.put(f"/v1/rule-sets/drafts/{rid}", content=_rule_file(rid, "2099-01-01", 9), headers=ADMIN)
        assert r.status_code == 409
        published = (await client.get(f"/v1/rule-sets/{rid}")).json()
        assert published["indicators"][0]["formula"]["points"] == 7

        # From its effective date on it is the rule set in force; before, the 2021 one still is.
        facts = {"permit_status": "valid", "residence_spans": [{"start": "2080-01-01", "end": None}]}
        later = (
            await client.post("/v1/evaluate", json={"facts": facts, "application_date": "2099-03-10"}, headers=PARTNER)
        ).json()
        assert later["rule_set_id"] == rid and later["total"] == 7 * 19
        now = (
            await client.post("/v1/evaluate", json={"facts": facts, "application_date": "2026-11-26"}, headers=PARTNER)
        ).json()
        assert now["rule_set_id"] == "hangzhou-2021"
