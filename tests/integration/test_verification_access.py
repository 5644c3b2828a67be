"""Every principal against every read endpoint of verification: a table of expected statuses.

A department's officers see their own department's results, audit chain, review queue, tasks and
materials; another department's (or an unknown department's) answer exactly like nothing there.
An endpoint added without a row here fails the test."""

from __future__ import annotations

import httpx
import pytest

from services.verification.app import SPEC
from tests.integration.access_matrix import INVALID, assert_same_as_unknown, issue_keys, read_endpoints
from tests.integration.helpers import (
    BINJIANG,
    POLICE,
    SOCIAL_INSURANCE,
    WINDOW,
    application_body,
    pdf,
    status,
    wait_for,
)

pytestmark = pytest.mark.integration
N = 2756  # no residence registration in the police registry (n % 101 == 29): a supplement goes to the police desk
OWN = {"admin": ("matrix-verification-admin", ["admin"]), "no department": ("matrix-no-department", ["materials:read"])}
PRINCIPALS = ["police", "social insurance", "binjiang", *OWN, *INVALID]
DEPARTMENT_ONLY = {
    "police": 200,
    "admin": 200,
    "social insurance": 404,
    "binjiang": 404,  # a module owner's officers: its own desk and chain only
    "no department": 403,
    **{p: 401 for p in INVALID},
}
EXPECTED = {
    path: DEPARTMENT_ONLY
    for path in (
        "/v1/departments/{department}/verifications/{application_id}",
        "/v1/departments/{department}/audit/verify",
        "/v1/departments/{department}/reviews",
        "/v1/departments/{department}/reviews/{task_id}",
        "/v1/departments/{department}/reviews/{task_id}/material",
    )
} | {
    # A module owner's registry: the owner itself (and administrators); a department acts for no owner.
    "/v1/owners/{owner}/source": {
        "binjiang": 200,
        "admin": 200,
        "police": 403,
        "social insurance": 403,
        "no department": 403,
        **{p: 401 for p in INVALID},
    }
}


@pytest.fixture(scope="module")
async def world(platform):
    keys = await issue_keys(platform.database_url, "verification", OWN)
    keys.update({"police": POLICE, "social insurance": SOCIAL_INSURANCE, "binjiang": BINJIANG})
    url = f"{platform.url('intake')}/v1/applications"
    async with httpx.AsyncClient(timeout=30) as client:
        app_id = (await client.post(url, json=application_body(N), headers=WINDOW)).json()["id"]

        async def scored():
            doc = await status(client, platform, app_id)
            return doc["score"] and doc

        doc = await wait_for("scoring: the application is scored", scored, timeout=60)
        assert next(i for i in doc["items"] if i["indicator"] == "residence")["state"] == "not_found"
        r = await client.post(
            f"{url}/{app_id}/materials",
            data={"indicator": "residence"},
            headers=WINDOW,
            files={"file": ("合同.pdf", pdf("rental contract"), "application/pdf")},
        )
        assert r.status_code == 201, r.text
        desk = f"{platform.url('verification')}/v1/departments/police/reviews"

        async def task():
            items = (await client.get(desk, headers=POLICE)).json()["items"]
            return next((t for t in items if t["application_id"] == app_id), None)

        task_id = (await wait_for("verification: the supplement reaches the police desk", task))["id"]
    ids = {"department": "police", "application_id": app_id, "task_id": task_id, "owner": "district:binjiang"}
    return {"keys": keys, "ids": ids}


def test_every_read_endpoint_has_a_row_for_every_principal():
    assert set(EXPECTED) == read_endpoints(SPEC)
    assert all(set(statuses) == set(PRINCIPALS) for statuses in EXPECTED.values())


@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
@pytest.mark.parametrize("who", PRINCIPALS)
async def test_the_access_matrix(platform, world, endpoint, who):
    headers = world["keys"][who]
    url = platform.url("verification") + endpoint.format(**world["ids"])
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(url, headers=headers)
        assert r.status_code == EXPECTED[endpoint][who], f"{who} GET {endpoint}: {r.status_code} {r.text[:300]}"
        if r.status_code == 404:  # another department's: as if the department did not exist
            await assert_same_as_unknown(
                client, r, url.replace("/police/", "/nosuch/"), "/police/", "/nosuch/", headers
            )
            own_unknown = url.replace(str(world["ids"]["application_id"]), "APP-20260101-NOSUCH")
            if own_unknown != url:  # and as a result the department does not have
                await assert_same_as_unknown(
                    client,
                    r,
                    own_unknown.replace("/police/", "/social_insurance/"),
                    f"/police/verifications/{world['ids']['application_id']}",
                    "/social_insurance/verifications/APP-20260101-NOSUCH",
                    headers,
                )
        if r.status_code == 401:
            assert r.headers["content-type"] == "application/problem+json"
