"""Integers beyond the database's columns and dates no person means are refused as 422s naming the
parameter, before they reach PostgreSQL or date arithmetic (they were 500s)."""

from __future__ import annotations

import httpx
import pytest

from deploy.local.platform import demo_key
from tests.integration.helpers import POLICE, WINDOW

pytestmark = pytest.mark.integration

WINDOW_SCORES = {"Authorization": f"Bearer {demo_key('scoring', 'demowindowscores')}"}
READER = {"Authorization": f"Bearer {demo_key('scoring', 'demoreader')}"}
TOO_BIG = 2**31  # one past PostgreSQL's integer


@pytest.mark.parametrize(
    "service, path, headers, field",
    [
        ("scoring", f"/v1/scores/APP-X/versions/{TOO_BIG}", WINDOW_SCORES, "version"),
        ("scoring", "/v1/scores/APP-X/versions/0", WINDOW_SCORES, "version"),
        ("verification", f"/v1/departments/police/reviews/{TOO_BIG}", POLICE, "task_id"),
        ("verification", f"/v1/departments/police/reviews?after={TOO_BIG}", POLICE, "after"),
        ("publicity", f"/v1/rounds/RND-X/entries?after={TOO_BIG}", {}, "after"),
        ("publicity", f"/v1/rounds/RND-X/entries/{TOO_BIG}", {}, "seq"),
        ("intake", "/v1/applications?applied_from=0001-01-01", WINDOW, "applied_from"),
        ("intake", "/v1/applications?applied_to=9999-12-31", WINDOW, "applied_to"),
    ],
)
async def test_out_of_range_path_and_query_values_are_422s_naming_them(platform, service, path, headers, field):
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(platform.url(service) + path, headers=headers)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    assert field in {e["field"].split(".")[-1] for e in r.json()["errors"]}, r.json()  # path.…, query.…


async def test_a_date_in_year_one_is_a_422_naming_it(platform):
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(
            platform.url("scoring") + "/v1/evaluate",
            headers=READER,
            json={"application_date": "0001-01-01", "facts": {"permit_status": "valid"}},
        )
    assert r.status_code == 422, r.text
    assert {e["field"] for e in r.json()["errors"]} == {"application_date"}
