"""Publicity: a module owner's round is ranked and published (masked), the applicant is
notified, an objection has the facts re-verified and the list re-ranked with its history
kept, a late objection is refused with the reason, and a list that is final never changes."""

from __future__ import annotations

import json
from datetime import date, timedelta

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local import broker
from deploy.local.platform import demo_key
from services.scoring.engine.rules import in_force, load_shipped
from services.verification.seed import demo_child, demo_id_number
from shared import clock
from shared.calendar import cut_off_date
from shared.events.catalogue import NOTICES
from shared.masking import mask_id_number
from tests.integration.helpers import WINDOW, application_body, close_round, follow_to_notice, wait_for

pytestmark = pytest.mark.integration
BINJIANG = {"Authorization": f"Bearer {demo_key('publicity', 'demobinjiang')}"}
CITY = {"Authorization": f"Bearer {demo_key('publicity', 'democity')}"}
HOLDERS = [2503, 2504, 2506, 2507, 2508]


async def _apply_all(client, platform, bodies: list[dict]) -> list[dict]:
    ids = []
    for body in bodies:
        r = await client.post(f"{platform.url('intake')}/v1/applications", json=body, headers=WINDOW)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return [await follow_to_notice(client, platform, app_id, timeout=60) for app_id in ids]


async def _entries(client, base: str, round_id: str, **params) -> list[dict]:
    r = await client.get(f"{base}/v1/rounds/{round_id}/entries", params={"limit": 100, **params})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_a_round_is_ranked_objected_to_re_ranked_and_made_final(platform):
    base = platform.url("publicity")
    today = clock.today()
    engine = create_async_engine(platform.database_url)
    async with httpx.AsyncClient(timeout=20) as client:
        docs = await _apply_all(
            client,
            platform,
            [
                {**application_body(n, name="欧阳明" if i == 0 else "李华"), "modules": ["binjiang-talent"]}
                for i, n in enumerate(HOLDERS)
            ],
        )
        apps = [d["id"] for d in docs]
        assert all(d["modules"] == ["binjiang-talent"] for d in docs)

        # Only the module's owner opens its round.
        spec = {
            "module_id": "binjiang-talent",
            "acceptance_opens": today.isoformat(),
            "acceptance_closes": today.isoformat(),
            "quota": 2,
            "notice_working_days": 7,
        }
        assert (await client.post(f"{base}/v1/rounds", json=spec, headers=CITY)).status_code == 403
        bad = await client.post(f"{base}/v1/rounds", json={**spec, "quota": None}, headers=BINJIANG)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "quota"
        opened = await client.post(f"{base}/v1/rounds", json=spec, headers=BINJIANG)
        assert opened.status_code == 201, opened.text
        round_id = opened.json()["id"]
        assert opened.json()["owner"] == "district:binjiang" and opened.json()["status"] == "accepting"

        closed = await close_round(client, base, round_id, BINJIANG)
        assert closed["status"] == "notice" and closed["entries"] == len(HOLDERS)
        assert closed["admitted"] == 2 and closed["rescored_at_cut_off"] is True

        entries = await _entries(client, base, round_id)
        assert [e["rank"] for e in entries] == list(range(1, len(HOLDERS) + 1))
        assert [e["score"] for e in entries] == sorted((e["score"] for e in entries), reverse=True)
        assert [e["admitted"] for e in entries] == [True, True, False, False, False]
        # Masked only: the surname and the ID number's ends.
        assert {e["id_number"] for e in entries} == {mask_id_number(demo_id_number(n)) for n in HOLDERS}
        assert any(e["name"] == "欧**" for e in entries)
        assert all(demo_id_number(n) not in json.dumps(entries) for n in HOLDERS)
        # Search by an ID number's last four, and by surname; keyset paging.
        tail = demo_id_number(HOLDERS[2])[-4:]
        assert [e["id_number"][-4:] for e in await _entries(client, base, round_id, q=tail)] == [tail]
        assert [e["name"] for e in await _entries(client, base, round_id, q="欧")] == ["欧**"]
        first = (await client.get(f"{base}/v1/rounds/{round_id}/entries", params={"limit": 2})).json()
        second = (
            await client.get(f"{base}/v1/rounds/{round_id}/entries", params={"limit": 2, "after": first["next_after"]})
        ).json()
        assert [e["rank"] for e in first["items"] + second["items"]] == [1, 2, 3, 4]

        # Every applicant was notified of the score, in the notifications outbox.
        async def notified():
            async with engine.connect() as conn:
                rows = (
                    await conn.execute(
                        text(
                            "SELECT application_id, phone, body, status FROM publicity.notifications "
                            "WHERE application_id = ANY(:apps) AND round_id IS NULL"
                        ),
                        {"apps": apps},
                    )
                ).all()
            return len(rows) == len(apps) and all(r.status == "recorded" for r in rows) and rows

        rows = await wait_for("publicity: every applicant notified", notified)
        assert all(r.phone == "13800000000" and "得分" in r.body and "异议" in r.body for r in rows)

        # An objection: the registry missed a doctorate. It is lodged for the lowest entry a doctorate
        # lifts above the entry ranked before it (the scores are the synthetic population's).
        details = [(await client.get(f"{base}/v1/rounds/{round_id}/entries/{e['entry']}")).json() for e in entries]
        assert all("education" in [line["indicator"] for line in d["lines"]] and d["history"] == [] for d in details)
        education = next(i for i in in_force(load_shipped(), cut_off_date(today)).indicators if i.id == "education")
        doctorate = education.formula.points["doctorate"]
        gains = [
            doctorate - next(line["points"] for line in d["lines"] if line["indicator"] == "education") for d in details
        ]
        lifted = [i for i in range(1, len(entries)) if entries[i]["score"] + gains[i] > entries[i - 1]["score"]]
        assert lifted, f"no entry a doctorate would move up: {[e['score'] for e in entries]}"
        objected = entries[lifted[-1]]
        async with engine.connect() as conn:
            app_of_objected = await conn.scalar(
                text("SELECT application_id FROM publicity.round_entries WHERE round_id = :r AND seq = :s"),
                {"r": round_id, "s": objected["entry"]},
            )
        n_objected = HOLDERS[apps.index(app_of_objected)]
        wrong_item = await client.post(
            f"{base}/v1/objections",
            json={
                "round_id": round_id,
                "entry": objected["entry"],
                "items": ["no_such_item"],
                "reason": "这一项有问题，请核查",
            },
        )
        assert wrong_item.status_code == 422 and wrong_item.json()["errors"][0]["field"] == "items"
        async with engine.begin() as conn:
            await conn.execute(
                text("DELETE FROM registries.education_degrees WHERE id_number = :id"),
                {"id": demo_id_number(n_objected)},
            )
            await conn.execute(
                text("INSERT INTO registries.education_degrees VALUES (:id, 'doctorate', :d, false, false)"),
                {"id": demo_id_number(n_objected), "d": date(2012, 7, 1)},
            )
        lodged = await client.post(
            f"{base}/v1/objections",
            json={
                "round_id": round_id,
                "entry": objected["entry"],
                "items": ["education"],
                "reason": "该申请人具有博士学位，公示学历积分有误。",
            },
        )
        assert lodged.status_code == 201, lodged.text
        receipt = lodged.json()
        assert receipt["status"] == "open" and receipt["id"].startswith("OBJ-")

        async def resolved():
            doc = (await client.get(f"{base}/v1/objections/{receipt['id']}")).json()
            return doc["status"] == "resolved" and doc

        outcome = await wait_for("re-verification answers the objection", resolved, timeout=60)
        assert outcome["score_after"] > outcome["score_before"] and "调整" in outcome["outcome"]
        # The list was re-ranked and re-published; the old standing is kept.
        round_doc = (await client.get(f"{base}/v1/rounds/{round_id}")).json()
        assert round_doc["list_version"] >= 2
        moved = (await client.get(f"{base}/v1/rounds/{round_id}/entries/{objected['entry']}")).json()
        assert moved["score"] == outcome["score_after"] and moved["rank"] < objected["rank"]
        assert moved["history"][0]["rank"] == objected["rank"] and moved["history"][0]["score"] == objected["score"]
        versions = (await client.get(f"{base}/v1/rounds/{round_id}/versions")).json()
        assert [v["version"] for v in versions][:2] == [1, 2] and versions[0]["reason"] == "published"
        now = await _entries(client, base, round_id)
        assert [e["score"] for e in now] == sorted((e["score"] for e in now), reverse=True)
        assert sum(e["admitted"] for e in now) == 2

        # The notice period ends: a late objection is refused with the reason ...
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE publicity.rounds SET notice_end = :d WHERE id = :r"),
                {"d": today - timedelta(days=1), "r": round_id},
            )
        late = await client.post(
            f"{base}/v1/objections",
            json={"round_id": round_id, "entry": 1, "items": ["education"], "reason": "逾期提出的异议，应被拒绝"},
        )
        assert late.status_code == 409 and late.json()["type"] == "/problems/objection-late"
        assert (today - timedelta(days=1)).isoformat() in late.json()["detail"]

        # ... and with nothing open, the sweep makes the list final and tells the module owner.
        async def final():
            doc = (await client.get(f"{base}/v1/rounds/{round_id}")).json()
            return doc["status"] == "final" and doc

        await wait_for("the list becomes final", final, timeout=30)
        consumer = AIOKafkaConsumer(
            platform.topic_prefix + NOTICES,
            bootstrap_servers=broker.bootstrap(),
            auto_offset_reset="earliest",
            group_id=None,
        )
        await consumer.start()

        async def finalized_on_the_bus():
            for msgs in (await consumer.getmany(timeout_ms=1000)).values():
                for m in msgs:
                    event = json.loads(m.value)
                    if event["type"] == "round.finalized" and event["data"]["round_id"] == round_id:
                        return event["data"]
            return None

        try:
            finalized = await wait_for("round.finalized on the notices topic", finalized_on_the_bus, timeout=30)
        finally:
            await consumer.stop()
        # The event refers to the admitted list; the owner fetches it, a page at a time.
        assert finalized["admitted"] == 2 and "application_id" not in json.dumps(finalized)
        assert finalized["admitted_url"] == f"{base}/v1/rounds/{round_id}/admitted?version={finalized['list_version']}"
        pages, after = [], 0
        while after is not None:
            page_url = httpx.URL(finalized["admitted_url"]).copy_merge_params({"after": after, "limit": 1})
            r = await client.get(page_url, headers=BINJIANG)
            assert r.status_code == 200, r.text
            pages.append(r.json())
            after = r.json()["next_after"]
        assert [len(p["items"]) for p in pages] == [1, 1, 0] and {p["admitted"] for p in pages} == {2}
        admitted = [item for p in pages for item in p["items"]]
        assert [a["rank"] for a in admitted] == [1, 2]
        assert [a["application_id"] for a in admitted] == [await _app_of(engine, round_id, x["entry"]) for x in now[:2]]
        assert [(a["name"], a["id_number"], a["score"]) for a in admitted] == [
            (x["name"], x["id_number"], x["score"]) for x in now[:2]
        ]

        # Nothing changes a final list: not an objection, not a hand in the database.
        refused = await client.post(
            f"{base}/v1/objections",
            json={"round_id": round_id, "entry": 1, "items": ["education"], "reason": "终结后的异议，应被拒绝"},
        )
        assert refused.status_code == 409 and refused.json()["type"] == "/problems/list-final"
        with pytest.raises(DBAPIError, match="final"):
            async with engine.begin() as conn:
                await conn.execute(
                    text("UPDATE publicity.round_entries SET score = 999 WHERE round_id = :r"), {"r": round_id}
                )
    await engine.dispose()


async def _app_of(engine, round_id: str, seq: int) -> str:
    async with engine.connect() as conn:
        return await conn.scalar(
            text("SELECT application_id FROM publicity.round_entries WHERE round_id = :r AND seq = :s"),
            {"r": round_id, "s": seq},
        )


async def test_a_child_carries_the_higher_parents_score(platform):
    base = platform.url("publicity")
    today = clock.today()
    child = demo_child(2520)
    family = [{"name": child["name"], "id_number": child["id_number"], "relation": "child"}]
    async with httpx.AsyncClient(timeout=20) as client:
        docs = await _apply_all(
            client,
            platform,
            [{**application_body(n), "intent": "school_enrolment", "family": family} for n in (2520, 2531)],
        )
        assert all(d["modules"] == ["school-enrolment"] for d in docs)
        spec = {
            "module_id": "school-enrolment",
            "acceptance_opens": today.isoformat(),
            "acceptance_closes": today.isoformat(),
            "quota": 10,
        }
        assert (await client.post(f"{base}/v1/rounds", json=spec, headers=BINJIANG)).status_code == 403
        round_id = (await client.post(f"{base}/v1/rounds", json=spec, headers=CITY)).json()["id"]
        await close_round(client, base, round_id, CITY)
        entries = await _entries(client, base, round_id)
        # One entry for the child (other tests' school applications may share the round), masked;
        # its score is the better parent's.
        ours = [e for e in entries if e["id_number"] == mask_id_number(child["id_number"])]
        assert len(ours) == 1
        assert not {mask_id_number(demo_id_number(n)) for n in (2520, 2531)} & {e["id_number"] for e in entries}
        totals = []
        for d in docs:
            r = await client.get(
                f"{platform.url('scoring')}/v1/scores/{d['id']}",
                headers={"Authorization": f"Bearer {demo_key('scoring', 'demowindowscores')}"},
            )
            totals.append(r.json()["explanation"]["modules"]["school-enrolment"]["total"])
        assert ours[0]["score"] == max(totals) and min(totals) < max(totals)
