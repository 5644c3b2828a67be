"""Intake's event handlers keep what partners read (status, items, score, notice, timeline) in step
with the other services' events, and bar a holder found to have forged materials."""

from __future__ import annotations

from datetime import date

import pytest

from services.intake import use_cases
from services.intake.domain import HolderBarred
from services.intake.handlers import HANDLERS
from shared.events import Envelope
from shared.events.catalogue import VerificationsCompleted, parse_data
from tests.fakes import InMemoryBus
from tests.unit.intake.builders import WINDOW, noticed, scored, submit, verified
from tests.unit.intake.fake_store import FakeStore


async def state(store: FakeStore, application_id: str) -> dict:
    return await use_cases.application_state(
        store, application_id, WINDOW, scoring_base_url="http://scoring", min_working_days=5
    )


async def test_a_department_s_answer_sets_its_items_and_the_application_is_being_verified():
    store = FakeStore()
    application_id = (await submit(store)).application_id
    bus = InMemoryBus(HANDLERS, store)
    answer = verified(application_id, "police", {"residence": "passed", "criminal": "returned"})
    assert await bus.follow([answer, answer]) == []  # redelivered: handled once, and intake answers nothing
    seen = await state(store, application_id)
    items = {i["indicator"]: i["state"] for i in seen["items"]}
    assert seen["status"] == "verifying"
    assert items["residence"] == "passed" and items["criminal"] == "returned"
    assert {i["state"] for i in seen["items"] if i["indicator"] not in ("residence", "criminal")} == {"pending"}
    answers = [e for e in seen["timeline"] if e["event_type"] == "verification.completed"]
    assert len(answers) == 1
    assert answers[0]["summary"] == {"department": "police", "items": {"residence": "passed", "criminal": "returned"}}


async def test_departments_answering_together_are_each_on_the_timeline_with_their_items():
    store = FakeStore()
    application_id = (await submit(store)).application_id
    police = parse_data(verified(application_id, "police", {"residence": "passed"}))
    insurance = parse_data(verified(application_id, "social_insurance", {"social_insurance": "returned"}))
    together = VerificationsCompleted(
        application_id=application_id,
        expected_departments=police.expected_departments,
        cut_off_date=police.cut_off_date,
        answers=[
            {k: getattr(a, k) for k in ("department", "holder", "items", "facts", "verified_at")}
            for a in (police, insurance)
        ],
    )
    await InMemoryBus(HANDLERS, store).follow([Envelope.new(together, source="verification", subject=application_id)])
    seen = await state(store, application_id)
    items = {i["indicator"]: i["state"] for i in seen["items"]}
    assert seen["status"] == "verifying" and (items["residence"], items["social_insurance"]) == ("passed", "returned")
    answers = [e["summary"] for e in seen["timeline"] if e["event_type"] == "verification.completed"]
    assert answers == [
        {"department": "police", "items": {"residence": "passed"}},
        {"department": "social_insurance", "items": {"social_insurance": "returned"}},
    ]


async def test_a_withdrawn_application_stays_withdrawn_whatever_comes_later():
    store = FakeStore()
    application_id = (await submit(store)).application_id
    assert await store.withdraw(application_id)
    bus = InMemoryBus(HANDLERS, store)
    await bus.follow([verified(application_id, "tax", {"tax": "passed"}), scored(application_id, 1, 90.0)])
    seen = await state(store, application_id)
    assert seen["status"] == "withdrawn" and seen["score"] is None


async def test_a_score_is_shown_and_a_late_older_version_never_hides_a_newer_one():
    store = FakeStore()
    application_id = (await submit(store)).application_id
    bus = InMemoryBus(HANDLERS, store)
    await bus.follow([scored(application_id, 2, 95.5), scored(application_id, 1, 80.0)])
    seen = await state(store, application_id)
    assert seen["status"] == "scored"
    assert seen["score"] == {
        "version": 2,
        "status": "scored",
        "total": 95.5,
        "rule_set_id": "hangzhou-2021",
        "explanation_url": f"http://scoring/v1/scores/{application_id}",
    }
    # Both versions are on the timeline: the partner sees what happened, in order.
    assert [e["summary"]["score_version"] for e in seen["timeline"] if e["event_type"] == "score.computed"] == [2, 1]


async def test_forged_materials_bar_the_holder_from_applying_again_until_the_date():
    store = FakeStore()
    application_id = (await submit(store)).application_id
    until = date(2030, 1, 31)
    await InMemoryBus(HANDLERS, store).follow(
        [scored(application_id, 1, 0.0, status="void", barred_until=until, reason="forged materials: residence")]
    )
    assert (await state(store, application_id))["status"] == "void"
    with pytest.raises(HolderBarred) as refused:
        await submit(store, today=date(2029, 6, 1))
    assert refused.value.barred_until == until and refused.value.reason == "forged materials: residence"
    assert list(store.applications) == [application_id]  # nothing written for the refused one
    await submit(store, today=until)  # the bar ends on its date: the holder may apply that day


async def test_a_later_bar_never_shortens_an_earlier_one():
    store = FakeStore()
    first = (await submit(store)).application_id
    bus = InMemoryBus(HANDLERS, store)
    await bus.follow([scored(first, 1, 0.0, status="void", barred_until=date(2031, 1, 1))])
    await bus.follow([scored(first, 2, 0.0, status="void", barred_until=date(2030, 1, 1))])
    with pytest.raises(HolderBarred) as refused:
        await submit(store, today=date(2030, 6, 1))
    assert refused.value.barred_until == date(2031, 1, 1)


async def test_a_published_notice_is_linked_from_the_application():
    store = FakeStore()
    application_id = (await submit(store)).application_id
    await InMemoryBus(HANDLERS, store).follow([noticed(application_id, "https://publicity/notices/N-1")])
    seen = await state(store, application_id)
    assert seen["notice_url"] == "https://publicity/notices/N-1"
    assert [e["summary"] for e in seen["timeline"] if e["event_type"] == "notice.published"] == [
        {"notice_id": "N-1", "period_end": "2025-04-10"}
    ]
