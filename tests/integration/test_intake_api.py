"""Intake's partner API: idempotent submission, own applications by page, holders barred for forgery."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import MetaData, func, select
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local import broker
from services.intake.tables import applications
from services.verification.seed import demo_id_number
from shared import clock
from shared.auth import ApiKeys, api_keys_table
from shared.calendar import add_working_days
from shared.events import Envelope
from shared.events.catalogue import SCORES, HolderRef, ScoreComputed
from shared.identity import make_id_number
from shared.masking import mask_id_number
from tests.integration.helpers import WINDOW, WINDOW_SCORES, application_body, follow_to_notice, wait_for

pytestmark = pytest.mark.integration


async def new_partner(platform, scopes: list[str]) -> dict:
    engine = create_async_engine(platform.database_url)
    key = await ApiKeys(engine, api_keys_table(MetaData(schema="intake"))).issue(
        f"partner-{secrets.token_hex(3)}", scopes
    )
    await engine.dispose()
    return {"Authorization": f"Bearer {key}"}


async def test_the_same_idempotency_key_and_body_answer_the_first_response(platform):
    url = f"{platform.url('intake')}/v1/applications"
    key = {"Idempotency-Key": f"retry-{secrets.token_hex(4)}"}
    async with httpx.AsyncClient(timeout=10) as client:
        first = await client.post(url, json=application_body(41), headers={**WINDOW, **key})
        again = await client.post(url, json=application_body(41), headers={**WINDOW, **key})
        assert first.status_code == again.status_code == 201
        assert again.json()["id"] == first.json()["id"] and again.headers.get("idempotent-replayed") == "true"
        other = await client.post(url, json=application_body(42), headers={**WINDOW, **key})
        assert other.status_code == 409 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    engine = create_async_engine(platform.database_url)
    async with engine.connect() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(applications).where(applications.c.holder_id_number == demo_id_number(41))
        )
    await engine.dispose()
    assert count == 1


async def test_a_partner_pages_through_its_own_applications_only(platform):
    mine, theirs = await new_partner(platform, ["online"]), await new_partner(platform, ["online"])
    url = f"{platform.url('intake')}/v1/applications"
    async with httpx.AsyncClient(timeout=10) as client:
        ids = []
        for n in (51, 52, 53):
            r = await client.post(url, json=application_body(n), headers=mine)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        page1 = (await client.get(url, params={"limit": 2}, headers=mine)).json()
        page2 = (await client.get(url, params={"limit": 2, "after": page1["next"]}, headers=mine)).json()
        assert [a["id"] for a in page1["items"] + page2["items"]] == list(reversed(ids))
        assert page2["next"] is None
        assert (await client.get(url, headers=theirs)).json() == {"items": [], "next": None}
        # Another partner's application answers exactly like a missing one.
        assert (await client.get(f"{url}/{ids[0]}", headers=theirs)).status_code == 404
        assert (await client.get(url, params={"after": "not-a-cursor"}, headers=mine)).status_code == 400
        r = await client.get(url, params={"intent": "settlement"}, headers=mine)
        assert r.json()["items"] == []


async def test_a_holder_barred_for_forgery_is_refused_with_the_date_the_bar_ends(platform):
    n = 61
    until = date(clock.today().year + 5, 1, 31)
    url = f"{platform.url('intake')}/v1/applications"
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(url, json=application_body(n), headers=WINDOW)
        assert r.status_code == 201, r.text
        app_id = r.json()["id"]
        # Scoring voids it for forged materials. The event names the holder by key and masked forms
        # only: intake finds whom to bar by the application.
        event = Envelope.new(
            ScoreComputed(
                application_id=app_id,
                score_version=99,
                holder=HolderRef(key="0" * 64, name_masked="测*", id_number_masked=mask_id_number(demo_id_number(n))),
                status="void",
                reason="forged materials: residence",
                barred_until=until,
                rule_set_id="hangzhou-2021",
                rule_set_hash="0" * 64,
                cut_off_date=date(2026, 10, 1),
                total=0,
                categories={},
                lines=[],
                computed_at=datetime.now(UTC),
            ),
            source="scoring",
            subject=app_id,
        )
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap(), acks="all")
        await producer.start()
        await producer.send_and_wait(platform.topic_prefix + SCORES, event.to_bytes(), key=app_id.encode())
        await producer.stop()

        async def refused_as_barred() -> httpx.Response | None:
            # 409 (the application is still open) until the bar is known
            r = await client.post(url, json=application_body(n), headers=WINDOW)
            return r if r.status_code == 403 else None

        r = await wait_for("intake learns of the bar from the score", refused_as_barred, 20)
        assert r.json()["barred_until"] == until.isoformat() and until.isoformat() in r.json()["detail"]


async def test_the_applicant_is_told_the_rules_that_apply(platform):
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(f"{platform.url('intake')}/v1/applications", json=application_body(71), headers=WINDOW)
        assert r.status_code == 201, r.text
        notice = r.json()["rules_notice"]
        assert notice["rule_set"]["id"] == "hangzhou-2021" and len(notice["rule_set"]["content_hash"]) == 64
        by_id = {i["id"]: i for i in notice["indicators"]}
        assert by_id["residence"]["department"] == "police" and not by_id["residence"]["materials_needed"]
        # Every department reads its registry (data-sharing first): materials only where nothing is on record.
        assert (
            not any(i["materials_needed"] for i in notice["indicators"])
            and "nothing is on record" in by_id["honours"]["how"]["en"]
            and by_id["education"]["name"]["zh"] == "文化程度"
        )
        applied = date.fromisoformat(r.json()["applied_on"])
        assert notice["review_deadline"] == add_working_days(applied, 15).isoformat()
        assert notice["result_date"] == add_working_days(applied, 20).isoformat()
        assert notice["objection"]["working_days"] == 7 and "7" in notice["objection"]["zh"]
        again = await client.get(
            f"{platform.url('intake')}/v1/applications/{r.json()['id']}/rules-notice", headers=WINDOW
        )
        assert again.status_code == 200 and again.json() == notice


async def test_an_idempotency_key_is_for_one_request_not_for_every_route(platform):
    url = f"{platform.url('intake')}/v1/applications"
    key = {"Idempotency-Key": f"withdraw-{secrets.token_hex(4)}"}
    async with httpx.AsyncClient(timeout=10) as client:
        a, b = [(await client.post(url, json=application_body(n), headers=WINDOW)).json()["id"] for n in (181, 182)]
        first = await client.post(f"{url}/{a}/withdraw", headers={**WINDOW, **key})
        other = await client.post(f"{url}/{b}/withdraw", headers={**WINDOW, **key})
        assert first.json()["id"] == a and other.status_code == 409  # not a replay of A's answer
        assert other.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_an_application_withdrawn_before_scoring_is_never_scored(platform):
    url = f"{platform.url('intake')}/v1/applications"
    platform.stop_service("verification")  # hold the joint review so the withdrawal comes first
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            app_id = (await client.post(url, json=application_body(81), headers=WINDOW)).json()["id"]
            r = await client.post(f"{url}/{app_id}/withdraw", headers=WINDOW)
            assert r.status_code == 200 and r.json()["status"] == "withdrawn"
            assert r.json()["timeline"][-1]["event_type"] == "application.withdrawn"
            again = await client.post(f"{url}/{app_id}/withdraw", headers=WINDOW)
            assert again.status_code == 200 and again.json()["status"] == "withdrawn"
            other = await new_partner(platform, ["online"])
            assert (await client.post(f"{url}/{app_id}/withdraw", headers=other)).status_code == 404
    finally:
        platform.start_service("verification")
        platform.wait_ready(["verification"])
    async with httpx.AsyncClient(timeout=10) as client:
        # The departments answer now; scoring must not score it. A later application of the same
        # holder goes all the way (the withdrawn one no longer blocks it), proving the road is clear.
        later = (await client.post(url, json=application_body(81), headers=WINDOW)).json()["id"]
        await follow_to_notice(client, platform, later)
        doc = (await client.get(f"{url}/{app_id}", headers=WINDOW)).json()
        assert doc["status"] == "withdrawn" and doc["score"] is None
        scored = await client.get(f"{platform.url('scoring')}/v1/scores/{app_id}", headers=WINDOW_SCORES)
        assert scored.status_code == 404
        # Once scored, it is too late to withdraw.
        r = await client.post(f"{url}/{later}/withdraw", headers=WINDOW)
        assert r.status_code == 409 and r.json()["type"] == "/problems/too-late-to-withdraw"


async def test_settlement_and_school_enrolment_name_the_family_they_concern(platform):
    today = clock.today()
    child = {
        "name": "小明",
        "id_number": make_id_number("330106", today.replace(year=today.year - 8), 101),
        "relation": "child",
    }
    teen = {
        "name": "小红",
        "id_number": make_id_number("330106", today.replace(year=today.year - 17), 102),
        "relation": "child",
    }
    spouse = {"name": "王芳", "id_number": make_id_number("330106", date(1988, 5, 1), 103), "relation": "spouse"}
    url = f"{platform.url('intake')}/v1/applications"
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(
            url, json={**application_body(111), "intent": "school_enrolment", "family": [child]}, headers=WINDOW
        )
        assert r.status_code == 201, r.text
        assert r.json()["family"] == [child]
        doc = (await client.get(f"{url}/{r.json()['id']}", headers=WINDOW)).json()
        assert doc["intent"] == "school_enrolment" and doc["family"] == [child]
        r = await client.post(
            url, json={**application_body(112), "intent": "settlement", "family": [spouse, teen]}, headers=WINDOW
        )
        assert r.status_code == 201, r.text
        for body, message in (
            ({"intent": "school_enrolment", "family": [teen]}, "under 16"),
            ({"intent": "school_enrolment", "family": []}, "exactly one child"),
            ({"intent": "general", "family": [child]}, "only a settlement or school-enrolment"),
            ({"intent": "settlement", "family": [spouse, spouse]}, "at most one spouse"),
        ):
            r = await client.post(url, json={**application_body(113), **body}, headers=WINDOW)
            assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
            assert r.json()["errors"][0]["field"] == "family" and message in r.json()["errors"][0]["message"]
        bad_child = dict(child, id_number=child["id_number"][:-1] + ("1" if child["id_number"][-1] != "1" else "2"))
        r = await client.post(
            url, json={**application_body(113), "intent": "school_enrolment", "family": [bad_child]}, headers=WINDOW
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "family.0.id_number"
