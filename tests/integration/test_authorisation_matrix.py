"""Every principal against every intake endpoint: who may do what, and what the others see."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local.platform import demo_key
from shared.auth import ApiKeys, api_keys_table
from tests.integration.helpers import application_body, pdf
from tests.integration.test_delegation import employer_body, relative_body

pytestmark = pytest.mark.integration


@pytest.fixture
async def keys(platform):
    engine = create_async_engine(platform.database_url)
    store = ApiKeys(engine, api_keys_table(MetaData(schema="intake")))
    made = {
        "window": await store.issue("matrix-window", ["window"]),
        "online": await store.issue("matrix-online", ["online"]),
        "employer": await store.issue("matrix-employer", ["employer:91350100M000100Y43"]),
        "guardian": await store.issue("matrix-guardian", ["guardian"]),
        "admin": await store.issue("matrix-admin", ["admin"]),
        "reader": await store.issue("matrix-reader", ["scores:read"]),  # a scope intake does not grant applying
        "revoked": await store.issue("matrix-revoked", ["window"]),
        "review desk": await store.issue("matrix-review-desk", ["materials:read"]),
    }
    await store.revoke(made["revoked"].split("_")[1])
    await engine.dispose()
    made["other service"] = demo_key("verification", "demopolice")
    made["garbage"] = "pk_nothing_here"
    return {name: {"Authorization": f"Bearer {k}"} for name, k in made.items()} | {"none": {}}


async def test_the_authorisation_matrix(platform, keys):
    base = f"{platform.url('intake')}/v1/applications"
    submit_expected = {
        "window": 201,
        "online": 201,
        "employer": 201,
        "guardian": 201,
        "admin": 201,
        "reader": 403,
        "review desk": 403,
        "revoked": 401,
        "other service": 401,
        "garbage": 401,
        "none": 401,
    }
    created: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=10) as client:
        for n, (who, expected) in enumerate(submit_expected.items(), start=91):
            body = application_body(n)
            if who == "employer":
                body = employer_body(n)
            elif who == "guardian":
                holder = {
                    "name": "测试",
                    "id_number": body["applicant"]["id_number"],
                    "permit_number": body["permit_number"],
                }
                body = relative_body(holder, application_body(n + 100)["applicant"]["id_number"], "sibling", "disabled")
            r = await client.post(base, json=body, headers=keys[who])
            assert r.status_code == expected, f"{who}: POST {r.status_code} {r.text}"
            assert r.headers["content-type"] in ("application/json", "application/problem+json")
            if r.status_code == 201:
                created[who] = r.json()["id"]

        owner_only = ["window", "online", "employer", "guardian"]
        for who in [*owner_only, "admin"]:
            for whose, app_id in created.items():
                r = await client.get(f"{base}/{app_id}", headers=keys[who])
                allowed = who == whose or who == "admin"
                assert r.status_code == (200 if allowed else 404), f"{who} reading {whose}'s: {r.status_code}"
                notice = await client.get(f"{base}/{app_id}/rules-notice", headers=keys[who])
                assert notice.status_code == (200 if allowed else 404)
            listed = {
                a["id"] for a in (await client.get(base, params={"limit": 200}, headers=keys[who])).json()["items"]
            }
            if who == "admin":
                assert set(created.values()) <= listed
            else:
                assert listed & set(created.values()) == {created[who]}
        for who in ("revoked", "other service", "garbage", "none"):
            assert (await client.get(base, headers=keys[who])).status_code == 401
            assert (await client.get(f"{base}/{created['window']}", headers=keys[who])).status_code == 401
        # Materials: the partner who applied uploads and reads them; a department's review desk only reads.
        for who in [*owner_only, "admin", "review desk", "reader"]:
            for whose, app_id in created.items():
                up = await client.post(
                    f"{base}/{app_id}/materials",
                    data={"indicator": "education"},
                    files={"file": ("scan.pdf", pdf(f"{who} for {whose}"), "application/pdf")},
                    headers=keys[who],
                )
                allowed = who == whose or who == "admin"
                # Allowed: stored (201), or refused on the item's own state (409: already verified, no upload needed).
                expected = {403} if who in ("review desk", "reader") else ({201, 409} if allowed else {404})
                assert up.status_code in expected, f"{who} uploading to {whose}'s: {up.status_code} {up.text}"
                listed = await client.get(f"{base}/{app_id}/materials", headers=keys[who])
                readable = allowed or who == "review desk"
                assert listed.status_code == (200 if readable else 404), (
                    f"{who} listing {whose}'s materials: {listed.status_code}"
                )
        for who in ("revoked", "other service", "garbage", "none"):
            assert (await client.get(f"{base}/{created['window']}/materials", headers=keys[who])).status_code == 401
        # Withdrawing: only the partner who applied (or an administrator).
        assert (await client.post(f"{base}/{created['online']}/withdraw", headers=keys["employer"])).status_code == 404
        assert (await client.post(f"{base}/{created['online']}/withdraw", headers=keys["reader"])).status_code == 403
        r = await client.post(f"{base}/{created['online']}/withdraw", headers=keys["online"])
        assert r.status_code in (200, 409)  # 409 if it was scored already: both answers are the owner's
