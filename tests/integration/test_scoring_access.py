"""Every principal against every read endpoint of scoring: a table of expected statuses.

A score (with its facts) is seen by the partner that submitted the application, an app acting
for the holder (with their ID number), administrators, and per line the department that answered;
anyone else gets the answer an unknown application gets. Rule sets and modules are public; a
policy office sees its own simulations. An endpoint added without a row here fails the test."""

from __future__ import annotations

import httpx
import pytest

from deploy.local.platform import demo_key
from services.scoring.app import SPEC
from services.verification.seed import demo_id_number
from shared import clock
from tests.integration.access_matrix import INVALID, assert_same_as_unknown, issue_keys, read_endpoints
from tests.integration.helpers import WINDOW, application_body, follow_to_notice, wait_for

pytestmark = pytest.mark.integration
N = 2881  # the demo holder who applies
UNKNOWN_APP, UNKNOWN_SIM = "APP-20260101-NOSUCH", "SIM-20260101-NOSUCH"
HOLDER_HEADER = "X-Holder-Id-Number"


def demo(key_id: str) -> dict:
    return {"Authorization": f"Bearer {demo_key('scoring', key_id)}"}


# principal -> headers (None: a key of the test's own, issued below)
DEMO = {
    "window": demo("demowindowscores"),
    "police": demo("demopolicescores"),
    "holder app (theirs)": {**demo("demoserviceapp"), HOLDER_HEADER: demo_id_number(N)},
    "holder app (another's)": {**demo("demoserviceapp"), HOLDER_HEADER: demo_id_number(N + 1)},
    "holder app (no ID)": demo("demoserviceapp"),
    "admin": demo("demoscoringadmin"),
    "policy office": demo("demopolicy"),
    "district": demo("demobinjiang"),
    "self-estimate": demo("demoreader"),
}
OWN = {
    "other partner": ("matrix-other-partner", ["scores:read"]),
    "other office": ("matrix-other-policy-office", ["simulation", "rules:draft"]),
}
PRINCIPALS = [*DEMO, *OWN, *INVALID]

SCORE, VERSION = "/v1/scores/{application_id}", "/v1/scores/{application_id}/versions/{version}"
SIM, REPORT, SUMMARY = "/v1/simulations/{job_id}", "/v1/simulations/{job_id}/report", "/v1/simulations/{job_id}/summary"
PUBLIC = [
    "/v1/rule-sets",
    "/v1/rule-sets/{rule_set_id}",
    "/v1/rule-sets/{rule_set_id}/source",
    "/v1/modules",
    "/v1/modules/{module_id}",
    "/v1/modules/{module_id}/source",
]
UNAUTHENTICATED = {p: 401 for p in INVALID}


# endpoint -> principal -> status
SCORES = {
    "window": 200,
    "police": 200,
    "holder app (theirs)": 200,
    "holder app (another's)": 404,
    "holder app (no ID)": 422,
    "admin": 200,
    "other partner": 404,
    "policy office": 403,
    "other office": 403,
    "district": 403,
    "self-estimate": 403,
    **UNAUTHENTICATED,
}
SIMULATIONS = {
    "policy office": 200,
    "admin": 200,
    "other office": 404,
    **{
        p: 403
        for p in (
            "window",
            "police",
            "holder app (theirs)",
            "holder app (another's)",
            "holder app (no ID)",
            "other partner",
            "district",
            "self-estimate",
        )
    },
    **UNAUTHENTICATED,
}
# A campaign is its office's own; a key without campaigns:manage (another office's included) is refused.
CAMPAIGN = "/v1/campaigns/{campaign_id}"
CAMPAIGN_REPORT, CAMPAIGN_PAGE = f"{CAMPAIGN}/reports/{{number}}", f"{CAMPAIGN}/reports/{{number}}/report.html"
CAMPAIGNS = {
    **{p: 403 for p in SIMULATIONS if SIMULATIONS[p] != 401},
    "policy office": 200,
    "admin": 200,
    **UNAUTHENTICATED,
}
EXPECTED: dict[str, dict[str, int]] = {
    SCORE: SCORES,
    VERSION: SCORES,
    **{path: {p: 200 for p in PRINCIPALS} for path in PUBLIC},
    "/v1/rule-sets/drafts": {
        **{p: 403 for p in DEMO},
        "policy office": 200,
        "admin": 200,
        "other office": 200,
        "other partner": 403,
        **UNAUTHENTICATED,
    },
    # The list is everyone's own: another office's list simply lacks the simulation (checked below).
    "/v1/simulations": {**SIMULATIONS, "other office": 200},
    SIM: SIMULATIONS,
    REPORT: SIMULATIONS,
    SUMMARY: SIMULATIONS,
    CAMPAIGN: CAMPAIGNS,
    CAMPAIGN_REPORT: CAMPAIGNS,
    CAMPAIGN_PAGE: CAMPAIGNS,
}


@pytest.fixture(scope="module")
async def world(platform):
    keys = await issue_keys(platform.database_url, "scoring", OWN)
    keys.update(DEMO)
    async with httpx.AsyncClient(timeout=30) as client:
        r = await client.post(f"{platform.url('intake')}/v1/applications", json=application_body(N), headers=WINDOW)
        assert r.status_code == 201, r.text
        app_id = r.json()["id"]
        await follow_to_notice(client, platform, app_id, timeout=60)
        r = await client.post(
            f"{platform.url('scoring')}/v1/simulations",
            headers=DEMO["policy office"],
            json={"population": {"holders": 5}, "draft": "hangzhou-2021"},
        )
        assert r.status_code == 202, r.text
        job = r.json()["id"]

        async def done():
            doc = (await client.get(f"{platform.url('scoring')}/v1/simulations/{job}", headers=DEMO["admin"])).json()
            assert doc["state"] != "failed", doc
            return doc["state"] == "done"

        await wait_for("scoring: the policy office's simulation is done", done, timeout=120)
        # A campaign of one stratum (the whole register), and its report.
        today = clock.today()
        r = await client.post(
            f"{platform.url('scoring')}/v1/campaigns",
            headers=DEMO["policy office"],
            json={
                "title_zh": "访问矩阵",
                "drafts": [{"id": "hangzhou-2021"}],
                "period": {"opens_on": today.isoformat(), "closes_on": today.isoformat()},
                "consent_text": "同意",
                "plan": {"strata": [{"name": "全部", "target": 1}]},
            },
        )
        assert r.status_code == 201, r.text
        campaign = r.json()["id"]
        r = await client.post(
            f"{platform.url('scoring')}/v1/campaigns/{campaign}/reports", headers=DEMO["policy office"]
        )
        assert r.status_code == 201, r.text
    ids = {
        "application_id": app_id,
        "version": "1",
        "job_id": job,
        "rule_set_id": "hangzhou-2021",
        "module_id": "binjiang-talent",
        "campaign_id": campaign,
        "number": "1",
    }
    return {"keys": keys, "ids": ids}


def test_every_read_endpoint_has_a_row_for_every_principal():
    assert set(EXPECTED) == read_endpoints(SPEC)
    assert all(set(statuses) == set(PRINCIPALS) for statuses in EXPECTED.values())


@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
@pytest.mark.parametrize("who", PRINCIPALS)
async def test_the_access_matrix(platform, world, endpoint, who):
    base, headers = platform.url("scoring"), world["keys"][who]
    url = base + endpoint.format(**world["ids"])
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(url, headers=headers)
        assert r.status_code == EXPECTED[endpoint][who], f"{who} GET {endpoint}: {r.status_code} {r.text[:300]}"
        if r.status_code == 404:
            real, unknown = (
                (world["ids"]["application_id"], UNKNOWN_APP)
                if "application_id" in endpoint
                else (world["ids"]["job_id"], UNKNOWN_SIM)
            )
            await assert_same_as_unknown(client, r, url.replace(real, unknown), real, unknown, headers)
        if r.status_code == 401:
            assert r.headers["content-type"] == "application/problem+json"


async def test_a_department_sees_only_its_own_lines_and_an_office_only_its_own_simulations(platform, world):
    base, ids = platform.url("scoring"), world["ids"]
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        whole = (await client.get(f"/v1/scores/{ids['application_id']}", headers=DEMO["window"])).json()
        police = (await client.get(f"/v1/scores/{ids['application_id']}", headers=DEMO["police"])).json()
        holder = (await client.get(f"/v1/scores/{ids['application_id']}", headers=DEMO["holder app (theirs)"])).json()
        assert holder == whole and {"total", "status", "explanation"} <= set(whole)
        assert {line["department"] for line in whole["explanation"]["lines"]} > {"police"}
        # The police see the age, residence and offences they vouched for, and nothing of the others' facts.
        assert police["departments"] == ["police"] and not {"total", "status", "categories"} & set(police)
        assert set(police["explanation"]) == {"lines"}
        assert police["explanation"]["lines"] == [
            line for line in whole["explanation"]["lines"] if line["department"] == "police"
        ]
        assert {"age", "residence"} <= {line["indicator"] for line in police["explanation"]["lines"]}
        listed = (await client.get("/v1/simulations", headers=world["keys"]["other office"])).json()
        assert ids["job_id"] not in {s["id"] for s in listed}
        own = (await client.get("/v1/simulations", headers=DEMO["policy office"])).json()
        assert ids["job_id"] in {s["id"] for s in own}
