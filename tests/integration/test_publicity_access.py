"""Every principal against every read endpoint of publicity: a table of expected statuses.

Notices, rounds, their lists and objection receipts are public by design (masked data only), so
everyone reads them, with or without a key; only the officers' desk needs its scope. An endpoint
added without a row here fails the test."""

from __future__ import annotations

import httpx
import pytest

from deploy.local.platform import demo_key
from services.publicity.app import SPEC
from tests.integration.access_matrix import INVALID, issue_keys, read_endpoints
from tests.integration.campaigns import open_public_campaign
from tests.integration.public_rounds import Person, from_address, round_on_notice

pytestmark = pytest.mark.integration
PERSON = Person(2885, "欧阳测试")


def demo(key_id: str) -> dict:
    return {"Authorization": f"Bearer {demo_key('publicity', key_id)}"}


DEMO = {
    "officer": demo("demoofficer"),
    "city": demo("democity"),
    "district": demo("demobinjiang"),
    "service app": demo("demoserviceapp"),
}
OWN = {"admin": ("matrix-publicity-admin", ["admin"])}
PRINCIPALS = [*DEMO, *OWN, *INVALID]
PUBLIC = [
    "/v1/notices",
    "/v1/notices/{notice_id}",
    "/notices",
    "/notices/{notice_id}",
    "/v1/rounds",
    "/v1/rounds/{round_id}",
    "/v1/rounds/{round_id}/entries",
    "/v1/rounds/{round_id}/entries/{seq}",
    "/v1/rounds/{round_id}/versions",
    "/v1/objections/{objection_id}",
    "/",
    "/rounds/{round_id}",
    "/rounds/{round_id}/entries/{seq}",
    "/objections/{objection_id}",
    "/estimate",
    "/estimate/campaigns/{campaign_id}",
]
EXPECTED = {
    **{path: {p: 200 for p in PRINCIPALS} for path in PUBLIC},
    "/v1/objections": {
        "officer": 200,
        "admin": 200,
        "city": 403,
        "district": 403,
        "service app": 403,
        **{p: 401 for p in INVALID},
    },
    # A round's list with each entry's application: scoring's key (rounds:candidates) alone.
    "/v1/rounds/{round_id}/candidates": {
        "officer": 403,
        "admin": 200,
        "city": 403,
        "district": 403,
        "service app": 403,
        **{p: 401 for p in INVALID},
    },
    # A final list's admitted candidates: the module's owner alone (the round here is the district's,
    # on notice: "not final yet" to its owner, no such round to anyone else).
    "/v1/rounds/{round_id}/admitted": {
        "officer": 404,
        "admin": 404,
        "city": 404,
        "district": 409,
        "service app": 404,
        **{p: 401 for p in INVALID},
    },
}


@pytest.fixture(scope="module")
async def world(platform):
    keys = await issue_keys(platform.database_url, "publicity", OWN)
    keys.update(DEMO)
    async with from_address("127.0.0.7") as client:  # its objection counts against its own address
        rnd = await round_on_notice(client, platform, [PERSON], "matrix", quota=1)
        r = await client.post(
            f"{platform.url('publicity')}/v1/objections",
            json={"round_id": rnd["id"], "entry": 1, "items": ["education"], "reason": "学历记录有误，请核实。"},
        )
        assert r.status_code == 201, r.text
        objection_id = r.json()["id"]
        campaign_id = await open_public_campaign(client, platform, "访问矩阵调查")
    return {
        "keys": keys,
        "ids": {
            "notice_id": PERSON.notice_id,
            "round_id": rnd["id"],
            "seq": 1,
            "objection_id": objection_id,
            "campaign_id": campaign_id,
        },
    }


def test_every_read_endpoint_has_a_row_for_every_principal():
    assert set(EXPECTED) == read_endpoints(SPEC)
    assert all(set(statuses) == set(PRINCIPALS) for statuses in EXPECTED.values())


@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
@pytest.mark.parametrize("who", PRINCIPALS)
async def test_the_access_matrix(platform, world, endpoint, who):
    url = platform.url("publicity") + endpoint.format(**world["ids"]) + ("?version=1" if "admitted" in endpoint else "")
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(url, headers=world["keys"][who])
    assert r.status_code == EXPECTED[endpoint][who], f"{who} GET {endpoint}: {r.status_code} {r.text[:300]}"
    if endpoint in PUBLIC:  # public, so masked: neither the holder's ID number nor full name
        assert PERSON.id_number not in r.text and PERSON.name not in r.text and PERSON.phone not in r.text
