"""模拟积分 without a key: scoring's public POST /v1/estimate and publicity's /estimate page, on real
services and PostgreSQL. Nothing is stored; bad input is a problem naming the field (a Chinese
summary on the page); each address is limited per hour, through publicity too.

The limit is proved on a platform of its own (scoring and publicity, 5 estimates an hour per
address, publicity among scoring's trusted proxies), from 127.0.0.12 and 127.0.0.13.
"""

from __future__ import annotations

import asyncio
import secrets

import httpx
import pytest
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local.platform import Platform
from shared.ratelimit import Counter, rate_limits_table
from tests.conftest import TEST_DATABASE, TEST_PORT_BASE
from tests.integration.public_rounds import from_address

pytestmark = pytest.mark.integration

PER_CLIENT = 5
ANSWERS = {
    "birth_date": "1990-05-01",
    "education": "bachelor",
    "employed": True,
    "insurance_months": 103,
    "residence_years": 8,
    "rental_years": 7,
    "offences": ["detention"],
}
PAGE_QUERY = (
    "birth_date=1990-05-01&education=bachelor&employed=1&insurance_months=103&residence_years=8"
    "&rental_years=7&offences=detention&patents_first_inventor=1"
)


async def scoring_rows(database_url: str) -> dict[str, int]:
    """Rows in every scoring table but the abuse counter: an estimate must leave them as they were."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            tables = (
                await conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'scoring' AND tablename <> 'rate_limits'")
                )
            ).scalars()
            return {t: (await conn.execute(text(f'SELECT count(*) FROM scoring."{t}"'))).scalar_one() for t in tables}
    finally:
        await engine.dispose()


async def test_a_holder_estimates_without_a_key_and_nothing_is_kept(platform):
    before = await scoring_rows(platform.database_url)
    async with httpx.AsyncClient(base_url=platform.url("scoring"), timeout=20) as client:
        r = await client.post("/v1/estimate", json=ANSWERS)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["rule_set"]["id"] == "hangzhou-2021" and len(doc["rule_set"]["content_hash"]) == 64
    assert doc["total"] == pytest.approx(sum(line["points"] for line in doc["lines"]))
    residence = next(line for line in doc["lines"] if line["indicator"] == "residence")
    assert (
        residence["points"] == 40
        and residence["computation_zh"] == "居住登记年限：8年；每满1年计5分，最高100分；计40分。"
    )
    assert {c["name_zh"]: c["points"] for c in doc["categories"]}["减分指标"] == -60
    assert await scoring_rows(platform.database_url) == before


async def test_an_estimate_uses_the_rules_in_force_on_its_application_date(platform):
    # 12 January 2021: hangzhou-2021 took effect that day, though the cut-off (1 December 2020) is before it.
    body = {"birth_date": "1990-05-01", "residence_years": 5, "application_date": "2021-01-12"}
    async with httpx.AsyncClient(base_url=platform.url("scoring"), timeout=10) as client:
        on = (await client.post("/v1/estimate", json=body)).json()
        before = (await client.post("/v1/estimate", json={**body, "application_date": "2021-01-11"})).json()
    assert on["rule_set"]["id"] == "hangzhou-2021" and on["cut_off_date"] == "2020-12-01"
    assert next(x for x in on["lines"] if x["indicator"] == "residence")["points"] == 25  # 5 a year in 2021
    assert before["rule_set"]["id"] == "hangzhou-2018"
    assert next(x for x in before["lines"] if x["indicator"] == "residence")["points"] == 15  # 3 a year in 2018


async def test_a_bad_answer_is_a_problem_naming_the_field(platform):
    async with httpx.AsyncClient(base_url=platform.url("scoring"), timeout=20) as client:
        r = await client.post("/v1/estimate", json={**ANSWERS, "education": "phd"})
        missing = await client.post("/v1/estimate", json={"residence_years": 3})
        personal = await client.post("/v1/estimate", json={**ANSWERS, "id_number": "330106199005010011"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["education"]
    assert [e["field"] for e in missing.json()["errors"]] == ["birth_date"]
    # Nothing that identifies anyone is asked for, or taken.
    assert personal.status_code == 422 and personal.json()["errors"][0]["field"] == "id_number"


async def test_the_page_shows_the_estimate_line_by_line_in_chinese_prefilled_from_a_link(platform):
    async with httpx.AsyncClient(base_url=platform.url("publicity"), timeout=20) as client:
        empty = await client.get("/estimate")
        r = await client.get(f"/estimate?{PAGE_QUERY}")
        bad = await client.get("/estimate?birth_date=&residence_years=abc")
    assert empty.status_code == 200 and 'id="result"' not in empty.text
    assert r.status_code == 200, r.text
    page = r.text
    assert '<html lang="zh-CN">' in page and "估算结果" in page
    assert "杭州市居住证积分指标体系（2021年版）" in page
    assert "居住登记年限：8年；每满1年计5分，最高100分；计40分。" in page
    assert "行政拘留或司法拘留：回溯期内1次；回溯期内每有一次扣60分" in page
    # The link's facts are in the form, ready to change and send again.
    assert 'value="1990-05-01"' in page and 'value="bachelor" selected' in page
    assert bad.status_code == 422
    assert 'id="error-summary"' in bad.text and "请填写出生日期" in bad.text and "居住登记年限" in bad.text


@pytest.fixture(scope="module")
def estimates_platform(platform):
    """Scoring and publicity with 5 estimates an hour per address; publicity (at 127.0.0.1) is
    among scoring's trusted proxies, so scoring counts the holder publicity forwards."""
    from shared.migrate import upgrade_all

    p = Platform(
        port_base=TEST_PORT_BASE + 80,
        database=f"{TEST_DATABASE}_estimates",
        topic_prefix=f"e{secrets.token_hex(3)}.",
        extra_env={
            "ESTIMATES_PER_CLIENT_HOUR": str(PER_CLIENT),
            "TRUSTED_PROXIES": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
        },
    )
    p.infra_up(fresh_database=True)
    upgrade_all(p.database_url)
    try:
        p.start_services(["scoring", "publicity"])
        yield p
    finally:
        for s in ("scoring", "publicity"):
            p.stop_service(s)


async def test_an_address_past_its_hourly_limit_is_refused_directly_and_through_the_page(estimates_platform):
    p = estimates_platform
    async with from_address("127.0.0.12") as holder, from_address("127.0.0.13") as on_the_page:
        for i in range(PER_CLIENT):
            r = await holder.post(f"{p.url('scoring')}/v1/estimate", json=ANSWERS)
            assert r.status_code == 200, f"estimate {i + 1}: {r.text}"
        over = await holder.post(f"{p.url('scoring')}/v1/estimate", json=ANSWERS)
        assert over.status_code == 429 and 0 < int(over.headers["retry-after"]) <= 3600
        assert over.json()["type"] == "/problems/rate-limited"
        for i in range(PER_CLIENT):
            r = await on_the_page.get(f"{p.url('publicity')}/estimate?{PAGE_QUERY}", headers={"Accept": "text/html"})
            assert r.status_code == 200, f"page estimate {i + 1}: {r.text}"
        refused = await on_the_page.get(f"{p.url('publicity')}/estimate?{PAGE_QUERY}", headers={"Accept": "text/html"})
        assert refused.status_code == 429 and "操作过于频繁" in refused.text and "retry-after" in refused.headers
        # Scoring counted the page's holder, not publicity: it refuses that address directly too.
        direct = await on_the_page.post(f"{p.url('scoring')}/v1/estimate", json=ANSWERS)
        assert direct.status_code == 429


async def test_a_batch_counts_each_address_once_per_request_and_never_past_the_limit(platform):
    """Counter.hit_each, as the estimate batches use it, against PostgreSQL: batches of mixed
    addresses, one already near its limit, and two replicas' batches at once on one bucket."""
    table = rate_limits_table(MetaData(schema="scoring"))
    a, b, c = (f"batch:{secrets.token_hex(4)}" for _ in range(3))
    engine = create_async_engine(platform.database_url, pool_size=10, max_overflow=0)
    try:
        counter = Counter(table)
        admitted, retry_after = await counter.hit_each(engine, [a, b, a, a], limit=3)
        assert admitted == [True, True, True, True] and 0 < retry_after <= 3600
        # a has 3 of 3: nothing more; b has room for two of its three; c, fresh, for three of four.
        admitted, _ = await counter.hit_each(engine, [a, b, b, c, b, c, c, c], limit=3)
        assert admitted == [False, True, True, True, False, True, True, False]
        # Two replicas' batches on one fresh bucket at once: exactly the limit passes.
        race = f"batch:{secrets.token_hex(4)}"
        results = await asyncio.gather(*(Counter(table).hit_each(engine, [race] * 7, limit=10) for _ in range(2)))
        assert sum(sum(ok) for ok, _ in results) == 10
    finally:
        await engine.dispose()
