"""The X of 1 + 1 + X: a district's own facts come from its own registry.

Binjiang registers its registry through the API; its verifier answers the district's items for
applications naming one of its modules, a round ranks on the module points, a registry answering
garbage gives a returned item (supplemented at the district's desk), a registry that is down is
waited out, and one owner never reaches another's source or desk.
"""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
import uvicorn
from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import create_async_engine

from services.verification.owner_registry_server import build
from shared.auth import ApiKeys, api_keys_table
from shared.demo import DEMO_BINJIANG_REGISTRY_CREDENTIAL
from tests.integration.helpers import BINJIANG, POLICE, WINDOW, WINDOW_SCORES, pdf, status, wait_for
from tests.integration.public_rounds import (
    MODULE_OWNER_SCORING,
    Person,
    apply,
    from_address,
    own_module,
    round_on_notice,
)

pytestmark = pytest.mark.integration
OWNER = "district:binjiang"
SOURCE = f"/v1/owners/{OWNER}/source"
# Binjiang residents of the synthetic population (holder n's district record, seed.py): 2105 and
# 2113 work at an enterprise on the district's key-enterprise list, 2717 does not; all have lived there
# for years.
KEY_ENTERPRISE, NOT_LISTED = [2105, 2113, 2168, 2339, 2347], [2717]


class Registry:
    """A Binjiang registry of the test's own: the real stand-in behind a switch (ok, garbage, down)."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.calls = 0
        self.url = ""


@pytest.fixture
async def registry(platform):
    """The stand-in on a free port, registered as Binjiang's source for the test; the platform's own after."""
    faults = Registry()
    app = build(platform.database_url, credential="a-credential-of-this-test-only")

    @app.middleware("http")
    async def switch(request: Request, call_next):
        faults.calls += 1
        if faults.mode == "down":
            return JSONResponse({"detail": "down for maintenance"}, status_code=503)
        if faults.mode == "garbage":
            return JSONResponse({"facts": {"key_enterprise_employee": "yes, probably"}})
        if faults.mode == "left":  # the holder has left the key enterprise since
            return JSONResponse({"facts": {"key_enterprise_employee": False}})
        return await call_next(request)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))

    async def serving() -> bool:
        return server.started

    await wait_for("the test's registry: serving", serving, every=0.05)
    faults.url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1/facts"
    async with httpx.AsyncClient(base_url=platform.url("verification"), timeout=10) as client:
        r = await client.put(
            SOURCE, json={"url": faults.url, "credential": "a-credential-of-this-test-only"}, headers=BINJIANG
        )
        assert r.status_code == 200, r.text
        try:
            yield faults
        finally:
            r = await client.put(
                SOURCE,
                json={"url": platform.owner_registry_url, "credential": DEMO_BINJIANG_REGISTRY_CREDENTIAL},
                headers=BINJIANG,
            )
            assert r.status_code == 200, r.text
            server.should_exit = True
            await task


async def explanation(client: httpx.AsyncClient, platform, app_id: str) -> dict:
    r = await client.get(f"{platform.url('scoring')}/v1/scores/{app_id}", headers=WINDOW_SCORES)
    assert r.status_code == 200, r.text
    return r.json()


def item(doc: dict, indicator: str) -> dict | None:
    return next((i for i in doc["items"] if i["indicator"] == indicator), None)


async def test_a_binjiang_holder_scores_on_the_districts_registry_and_the_round_ranks_on_it(platform):
    people = [Person(KEY_ENTERPRISE[0], "王敏"), Person(NOT_LISTED[0], "李静")]
    async with httpx.AsyncClient(timeout=30) as client:
        closed = await round_on_notice(client, platform, people, "registry", quota=1)
        module_id = closed["module_id"]
        listed, unlisted = people
        for p, on_list in ((listed, True), (unlisted, False)):
            doc = await status(client, platform, p.application_id)
            # The district's item, answered by the district's verifier from its registry.
            answered = item(doc, f"{module_id}/key_enterprise")
            assert (answered["department"], answered["state"], answered["reason"]) == (OWNER, "passed", None)
            score = await explanation(client, platform, p.application_id)
            module = score["explanation"]["modules"][module_id]
            lines = {line["indicator"]: line["points"] for line in module["lines"]}
            assert lines["key_enterprise"] == (10 if on_list else 0)
            # Years inside the district, derived from the police record with its district.
            assert lines["district_residence"] > 0
            assert module["module_points"] == sum(lines.values()) > 0
            assert module["total"] == score["total"] + module["module_points"]

        # The list ranks on the module totals, the district's own points included.
        r = await client.get(f"{platform.url('publicity')}/v1/rounds/{closed['id']}/entries")
        entries = r.json()["items"]
        totals = {
            p.application_id: (await explanation(client, platform, p.application_id))["explanation"]["modules"][
                module_id
            ]["total"]
            for p in people
        }
        assert sorted(e["score"] for e in entries) == sorted(totals.values())
        assert [e["score"] for e in entries] == sorted(totals.values(), reverse=True)

        # Every look-up is on the district's own audit chain, which holds and is anchored like a department's.
        async def anchored():
            r = await client.get(
                f"{platform.url('verification')}/v1/departments/{OWNER}/audit/verify", headers=BINJIANG
            )
            doc = r.json()
            return doc.get("anchored_entry") is not None and doc["anchored_entry"] == doc["last_entry"] and doc

        doc = await wait_for("verification: the district's chain head anchored", anchored)
        assert doc["intact"] is True and doc["entries_checked"] >= 2, doc


async def test_a_fact_nothing_answers_refuses_the_module_naming_the_indicator(platform):
    async with httpx.AsyncClient(timeout=10) as client:
        module_id, _ = await own_module(client, platform, "refused")
        draft = (
            f"id: {module_id}\nowner: {OWNER}\nname: {{zh: 试行, en: Trial}}\neffective_from: 2021-01-12\n"
            "indicators:\n  - id: rooftop_gardens\n    category: bonus\n    name: {zh: 屋顶花园, en: Rooftop gardens}\n"
            "    department: police\n    fact: rooftop_gardens\n    formula: {kind: flag, points: 5}\n"
        )
        url = f"{platform.url('scoring')}/v1/modules/{module_id}"
        r = await client.put(url, content=draft.encode(), headers=MODULE_OWNER_SCORING)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "indicator 'rooftop_gardens', field 'fact'"
        assert "nothing answers" in r.json()["errors"][0]["message"]
        # Nothing half-written: the version registered before stands.
        assert (await client.get(url)).json()["indicators"][0]["id"] == "key_enterprise"


async def test_garbage_from_the_registry_is_a_returned_item_supplemented_at_the_districts_desk(platform, registry):
    registry.mode = "garbage"
    person = Person(KEY_ENTERPRISE[1], "赵强")
    async with httpx.AsyncClient(timeout=30) as client:
        module_id, _ = await own_module(client, platform, "garbage")
        await apply(client, platform, [person], [module_id])
        key = f"{module_id}/key_enterprise"
        doc = await status(client, platform, person.application_id)
        returned = item(doc, key)
        assert returned["state"] == "returned" and returned["department"] == OWNER
        assert "key_enterprise_employee" in returned["reason"] and "not true or false" in returned["reason"]
        score = await explanation(client, platform, person.application_id)
        lines = {x["indicator"]: x["points"] for x in score["explanation"]["modules"][module_id]["lines"]}
        assert lines["key_enterprise"] == 0 and score["version"] == 1

        # The applicant supplements it; the district's officer confirms what the material proves.
        r = await client.post(
            f"{platform.url('intake')}/v1/applications/{person.application_id}/materials",
            data={"indicator": key},
            headers=WINDOW,
            files={"file": ("重点企业在职证明.pdf", pdf("key enterprise"), "application/pdf")},
        )
        assert r.status_code == 201, r.text
        desk = f"{platform.url('verification')}/v1/departments/{OWNER}/reviews"

        async def task():
            items = (await client.get(desk, headers=BINJIANG)).json()["items"]
            return next((t for t in items if t["application_id"] == person.application_id), None)

        task_id = (await wait_for("verification: the supplement reaches the district's desk", task))["id"]
        # The police officers never see it.
        assert (await client.get(f"{desk}/{task_id}", headers=POLICE)).status_code == 404
        wrong = await client.post(
            f"{desk}/{task_id}/decision",
            json={"decision": "confirm", "facts": {"key_enterprise_employee": "yes"}},
            headers=BINJIANG,
        )
        assert wrong.status_code == 422 and "key_enterprise_employee" in wrong.text, wrong.text
        r = await client.post(
            f"{desk}/{task_id}/decision",
            json={"decision": "confirm", "facts": {"key_enterprise_employee": True}},
            headers=BINJIANG,
        )
        assert r.status_code == 200, r.text

        async def rescored():
            doc = await explanation(client, platform, person.application_id)
            return doc["version"] == 2 and doc

        score = await wait_for("scoring: a new version on the district's decision", rescored)
        lines = {x["indicator"]: x["points"] for x in score["explanation"]["modules"][module_id]["lines"]}
        assert lines["key_enterprise"] == 10

        async def passed():
            return item(await status(client, platform, person.application_id), key)["state"] == "passed"

        await wait_for("intake: the district's item passed on its officer's decision", passed)


async def test_the_registry_down_is_waited_out_nothing_lost_or_doubled(platform, registry):
    registry.mode = "down"
    people = [Person(KEY_ENTERPRISE[2], "孙涛"), Person(KEY_ENTERPRISE[3], "周明")]
    async with httpx.AsyncClient(timeout=30) as client:
        module_id, _ = await own_module(client, platform, "down")
        for p in people:
            body = {
                "applicant": {"name": p.name, "id_number": p.id_number, "phone": p.phone},
                "permit_number": p.permit_number,
                "consent": True,
                "modules": [module_id],
            }
            r = await client.post(f"{platform.url('intake')}/v1/applications", json=body, headers=WINDOW)
            assert r.status_code == 201, r.text
            p.application_id = r.json()["id"]

        async def departments_answered(p):
            doc = await status(client, platform, p.application_id)
            return all(i["state"] != "pending" for i in doc["items"] if i["department"] != "district:binjiang") and doc

        for p in people:
            doc = await wait_for("verification: the ten departments answer", lambda p=p: departments_answered(p))
            # The district has not answered, so nothing is scored: scoring waits for it.
            # (The district's item is listed, pending, with the district as its department.)
            waiting = item(doc, f"{module_id}/key_enterprise")
            assert waiting["state"] == "pending" and waiting["department"] == "district:binjiang"
            assert doc["score"] is None
        await wait_for("the district's verifier keeps asking", lambda: asyncio.sleep(0, registry.calls >= 3))
        doc = await status(client, platform, people[0].application_id)
        assert doc["score"] is None

        registry.mode = "ok"  # the registry is back: the waiting batch goes through
        for p in people:
            doc = await wait_for(
                "scoring: scored once the district answers",
                lambda p=p: _field_when(client, platform, p.application_id),
                timeout=60,
            )
            assert item(doc, f"{module_id}/key_enterprise")["state"] == "passed"
            score = await explanation(client, platform, p.application_id)
            assert score["versions"] == [1]  # scored once, not once per department
            lines = {x["indicator"]: x["points"] for x in score["explanation"]["modules"][module_id]["lines"]}
            assert lines["key_enterprise"] == 10

    # One answer each from the district, one look-up each on its chain: nothing lost, nothing twice.
    engine = create_async_engine(platform.database_url)
    async with engine.connect() as conn:
        for p in people:
            results = await conn.scalar(
                text("SELECT count(*) FROM verification.results WHERE application_id = :a AND department = :d"),
                {"a": p.application_id, "d": OWNER},
            )
            looked_up = await conn.scalar(
                text("SELECT count(*) FROM verification.audit_log WHERE application_id = :a AND department = :d"),
                {"a": p.application_id, "d": OWNER},
            )
            assert (results, looked_up) == (1, 1)
    await engine.dispose()


async def _field_when(client, platform, app_id):
    doc = await status(client, platform, app_id)
    return doc["score"] and doc


async def test_an_owner_never_reaches_another_owners_source_or_desk(platform):
    engine = create_async_engine(platform.database_url)
    keys = ApiKeys(engine, api_keys_table(MetaData(schema="verification")))
    xihu = {"Authorization": f"Bearer {await keys.issue('test-xihu-district', ['module:district:xihu'])}"}
    await engine.dispose()
    base = platform.url("verification")
    body = {"url": "http://127.0.0.1:9/v1/facts", "credential": "xihu-would-like-to-listen-in"}
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        # Binjiang's own source: the credential is never shown, only that one is set.
        mine = await client.get(SOURCE, headers=BINJIANG)
        assert mine.status_code == 200 and mine.json()["credential_set"] is True
        assert DEMO_BINJIANG_REGISTRY_CREDENTIAL not in mine.text and 'credential"' not in mine.text
        # Another owner: the same 404 as an owner nobody answers for, and nothing changed.
        for method in ("GET", "PUT"):
            theirs = await client.request(method, SOURCE, headers=xihu, json=body if method == "PUT" else None)
            unknown = await client.request(
                method, "/v1/owners/district:nosuch/source", headers=xihu, json=body if method == "PUT" else None
            )
            assert theirs.status_code == unknown.status_code == 404
            assert theirs.text.replace("binjiang", "nosuch") == unknown.text
        assert (await client.get(SOURCE, headers=BINJIANG)).json() == mine.json()
        # A department's key acts for no owner.
        assert (await client.put(SOURCE, headers=POLICE, json=body)).status_code == 403
        # A credential too short to be one, a URL that is none: named, nothing stored.
        bad = await client.put(SOURCE, headers=BINJIANG, json={"url": "not a url", "credential": "short"})
        assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} >= {"url", "credential"}
        assert (await client.get(SOURCE, headers=BINJIANG)).json() == mine.json()
        # Nor its desk: Xihu sees Binjiang's queue as it sees a district nobody answers for.
        theirs = await client.get(f"/v1/departments/{OWNER}/reviews", headers=xihu)
        unknown = await client.get("/v1/departments/district:nosuch/reviews", headers=xihu)
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.text.replace("binjiang", "nosuch") == unknown.text
        assert (await client.get(f"/v1/departments/{OWNER}/reviews", headers=BINJIANG)).status_code == 200
        assert (await client.get("/v1/departments/police/reviews", headers=BINJIANG)).status_code == 404


async def test_an_objection_names_a_districts_item_and_the_district_verifies_it_again(platform, registry):
    people = [Person(2347, "吴娟"), Person(2389, "郑华")]
    base = platform.url("publicity")
    async with from_address("127.0.0.10", timeout=30) as client:
        closed = await round_on_notice(client, platform, people, "objection", quota=1)
        module_id, round_id = closed["module_id"], closed["id"]
        entries = (await client.get(f"{base}/v1/rounds/{round_id}/entries")).json()["items"]
        objected = entries[0]
        key = f"{module_id}/key_enterprise"
        # Only an item the owner answered may be named: another module's is refused, naming the field.
        stray = await client.post(
            f"{base}/v1/objections",
            json={
                "round_id": round_id,
                "entry": objected["entry"],
                "items": ["settlement/key_enterprise"],
                "reason": "此项有误，请核查。",
            },
        )
        assert stray.status_code == 422 and stray.json()["errors"][0]["field"] == "items", stray.text

        registry.mode = "left"
        calls = registry.calls
        lodged = await client.post(
            f"{base}/v1/objections",
            json={
                "round_id": round_id,
                "entry": objected["entry"],
                "items": [key],
                "reason": "该申请人已不在区重点企业就业，导向积分有误。",
            },
        )
        assert lodged.status_code == 201, lodged.text
        receipt = lodged.json()

        async def resolved():
            doc = (await client.get(f"{base}/v1/objections/{receipt['id']}")).json()
            return doc["status"] == "resolved" and doc

        outcome = await wait_for("the district re-verifies its item and scoring answers", resolved, timeout=60)
        assert outcome["score_after"] == outcome["score_before"] - 10
        assert registry.calls == calls + 1  # one look-up: the district's item only
        moved = (await client.get(f"{base}/v1/rounds/{round_id}/entries/{objected['entry']}")).json()
        assert moved["score"] == outcome["score_after"] and moved["history"][0]["score"] == objected["score"]
