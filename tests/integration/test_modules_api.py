"""X-modules over REST: an owner manages and ranks only its own modules."""

from __future__ import annotations

import secrets

import httpx
import pytest

from deploy.local.platform import demo_key

pytestmark = pytest.mark.integration
BINJIANG = {"Authorization": f"Bearer {demo_key('scoring', 'demobinjiang')}"}
ADMIN = {"Authorization": f"Bearer {demo_key('scoring', 'demoscoringadmin')}"}
PARTNER = {"Authorization": f"Bearer {demo_key('scoring', 'demoreader')}"}


def module_file(module_id: str, owner: str = "district:binjiang", quota: int = 2) -> str:
    return f"""
id: {module_id}
owner: {owner}
name: {{zh: 滨江区积分入学, en: Binjiang school enrolment}}
effective_from: 2021-01-12
candidate: child
rounds: [{{from: 2021-01-12, quota: {quota}}}]
tie_breakers: [{{key: "fact:own_home"}}]
"""


def holder(since: str, **facts) -> dict:
    return {"permit_status": "valid", "residence_spans": [{"start": since, "end": None}], **facts}


async def test_an_owner_registers_versions_of_its_own_module_and_no_other(platform):
    mid = f"binjiang-school-{secrets.token_hex(2)}"
    async with httpx.AsyncClient(base_url=platform.url("scoring"), timeout=10) as client:
        r = await client.put(f"/v1/modules/{mid}", content=module_file(mid), headers=BINJIANG)
        assert r.status_code == 201 and r.json()["version"] == 1
        r = await client.put(f"/v1/modules/{mid}", content=module_file(mid, quota=3), headers=BINJIANG)
        assert r.status_code == 201 and r.json()["version"] == 2
        assert (await client.get(f"/v1/modules/{mid}")).json()["rounds"][0]["quota"] == 3

        xihu = f"xihu-school-{secrets.token_hex(2)}"
        r = await client.put(f"/v1/modules/{xihu}", content=module_file(xihu, owner="district:xihu"), headers=BINJIANG)
        assert r.status_code == 403
        # Nor may it take over the city's module by claiming it.
        r = await client.put("/v1/modules/settlement", content=module_file("settlement"), headers=BINJIANG)
        assert r.status_code == 403
        r = await client.put(
            f"/v1/modules/{mid}",
            content=module_file(mid).replace("owner: district:binjiang", "owner: nobody"),
            headers=BINJIANG,
        )
        assert r.status_code == 422 and "owner" in r.json()["detail"]
        # Well formed, but a tie-breaker naming no indicator would separate nobody: refused, naming it.
        r = await client.put(
            f"/v1/modules/{mid}",
            content=module_file(mid).replace("fact:own_home", "indicator:nosuch"),
            headers=BINJIANG,
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "tie_breakers[0].key"
        assert (await client.get(f"/v1/modules/{mid}")).json()["rounds"][0]["quota"] == 3  # version 2 still in use
        assert {m["id"] for m in (await client.get("/v1/modules")).json()} >= {
            "settlement",
            "school-enrolment",
            "binjiang-talent",
            mid,
        }


async def test_an_owner_ranks_its_round_children_by_the_better_parent(platform):
    mid = f"binjiang-school-{secrets.token_hex(2)}"
    async with httpx.AsyncClient(base_url=platform.url("scoring"), timeout=10) as client:
        await client.put(f"/v1/modules/{mid}", content=module_file(mid), headers=BINJIANG)
        body = {
            "application_date": "2026-11-26",
            "candidates": [
                # 50 / 75 + 30 for five years of renting (renters score as owners)
                {
                    "id": "child-a",
                    "parents": [
                        holder("2016-10-01"),
                        holder("2011-10-01", rental_spans=[{"start": "2020-01-01", "end": None}]),
                    ],
                },
                {"id": "child-b", "parents": [holder("2011-10-01", own_home=True)]},  # 75 + 30, and an own home
                {"id": "child-c", "parents": [holder("2001-10-01", permit_status="terminated")]},  # no valid permit
                {"id": "child-d", "parents": [holder("2019-10-01")]},  # 35
            ],
        }
        r = await client.post(f"/v1/modules/{mid}/rank", json=body, headers=BINJIANG)
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc["quota"] == 2 and doc["rule_set_id"] == "hangzhou-2021"
        ranked = [(c["id"], c["rank"], c["qualified"], c["total"]) for c in doc["ranking"]]
        assert ranked == [
            ("child-b", 1, True, 105),
            ("child-a", 2, True, 105),
            ("child-d", 3, False, 35),
            ("child-c", None, False, 0),
        ]
        assert doc["ranking"][1]["counted_parent"] == 1
        # A district cannot rank the city's settlement round; the city (here: an administrator) can.
        holders = {"candidates": [{"id": "h1", "facts": holder("2005-10-01")}]}
        assert (await client.post("/v1/modules/settlement/rank", json=holders, headers=BINJIANG)).status_code == 403
        r = await client.post("/v1/modules/settlement/rank", json=holders, headers=ADMIN)
        assert r.status_code == 200 and r.json()["threshold"] == 100 and r.json()["ranking"][0]["qualified"]
        r = await client.post("/v1/modules/settlement/rank", json={"candidates": [{"id": "x"}]}, headers=ADMIN)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


async def test_module_points_are_computed_beside_the_base_score(platform):
    facts = holder(
        "2016-10-01", key_enterprise_employee=True, district_residence_spans=[{"start": "2022-01-01", "end": None}]
    )
    async with httpx.AsyncClient(base_url=platform.url("scoring"), timeout=10) as client:
        ex = (
            await client.post("/v1/evaluate", json={"facts": facts, "application_date": "2026-11-26"}, headers=PARTNER)
        ).json()
    assert ex["total"] == 50
    assert (
        ex["modules"]["binjiang-talent"]["module_points"] == 10 + 8 and ex["modules"]["binjiang-talent"]["total"] == 68
    )
    assert ex["modules"]["settlement"] == {
        **ex["modules"]["settlement"],
        "total": 50,
        "threshold": 100,
        "meets_threshold": False,
    }
