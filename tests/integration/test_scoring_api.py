"""Scoring's REST API on the running service: self-estimates, rule sets, access."""
from __future__ import annotations

import httpx
import pytest
from sqlalchemy import MetaData, func, select
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local.platform import demo_key
from services.scoring.tables import scores
from shared.auth import ApiKeys, api_keys_table

pytestmark = pytest.mark.integration
PARTNER = {"Authorization": f"Bearer {demo_key('scoring', 'demoreader')}"}
FACTS = {"permit_status": "valid", "birth_date": "1990-05-01", "education": ["bachelor", "junior_college"],
         "residence_spans": [{"start": "2016-03-01", "end": None}], "own_home": False,
         "rental_spans": [{"start": "2019-01-01", "end": None}],
         "offences": [{"date": "2024-02-01", "act": "a", "case": "detention"}]}


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
    by = {l["indicator"]: l["points"] for l in ex["lines"]}
    # age 36: 30; bachelor: 50; 10 full years of residence before 2026-10-01: 50; 7 years renting: 30 (capped); one detention: -60
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
        r = await client.post("/v1/evaluate", json={"facts": {"residence_spans": [{"start": "not a date"}]}}, headers=PARTNER)
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
        assert set(listed) >= {"hangzhou-2018", "hangzhou-2021"} and listed["hangzhou-2021"]["indicators"] == 22
        full = (await client.get("/v1/rule-sets/hangzhou-2021")).json()
        assert {i["category"] for i in full["indicators"]} == {"basic", "bonus", "deduction", "veto"}
        assert (await client.get("/v1/rule-sets/nope")).status_code == 404
