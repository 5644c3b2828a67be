"""Objections and reviews, in memory: lodged (and the departments asked), refused, answered."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.publicity import domain
from services.publicity.domain import ObjectionKind
from services.publicity.handlers import Deps, handlers
from services.publicity.objections import use_cases
from tests.fakes import FakeUnitOfWork, InMemoryBus
from tests.unit.publicity.closing import closed
from tests.unit.publicity.events import MODULE, scored, submitted
from tests.unit.publicity.fake_store import FakeStore

ON_NOTICE = date(2026, 3, 24)


async def a_list(store: FakeStore) -> str:
    """A round on notice from 2026-03-23, with A1 (90) and A2 (80) on it, and a score notice of each."""
    await InMemoryBus(handlers(Deps("salt", 7, "https://gs.example")), store).follow(
        [
            submitted("A1", domain.candidate_key("330106197001010011", "salt")),
            submitted("A2", "h2"),
            scored("A1", 90),
            scored("A2", 80),
        ]
    )
    await store.add_round(
        id="RND-1",
        module_id=MODULE,
        owner="education",
        name={"zh": "积分入学"},
        candidate="holder",
        quota=1,
        threshold=None,
        acceptance_opens=date(2026, 3, 1),
        acceptance_closes=date(2026, 3, 20),
        cut_off_date=date(2026, 2, 1),
        notice_working_days=5,
    )
    await closed(store, "RND-1", date(2026, 3, 23))
    return "RND-1"


def objection(seq: int, items: list[str], client: str = "c1") -> use_cases.Lodge:
    return use_cases.Lodge(
        kind=ObjectionKind.OBJECTION, items=items, reason="学历证书可疑", client=client, round_id="RND-1", seq=seq
    )


async def lodged(store: FakeStore, command: use_cases.Lodge, today: date = ON_NOTICE, per_hour: int = 5):
    uow = FakeUnitOfWork(store)
    row = await use_cases.lodge(uow, command, today=today, per_hour=per_hour)
    await uow.commit()
    return row, uow.emitted


async def test_an_objection_to_an_entry_asks_the_items_departments_and_keeps_the_words_here():
    store = FakeStore()
    await a_list(store)
    seq = next(e.seq for e in store.entries["RND-1"].values() if e.application_id == "A2")
    row, [event] = await lodged(store, objection(seq, ["social_insurance", "education"]))
    o = store.objections[row["id"]]
    assert row["id"].startswith("OBJ-") and o.status == "open" and o.application_id == "A2"
    assert o.pending_departments == ["education", "social_insurance"] and o.score_before == 80
    assert o.due_by == store.rounds["RND-1"].notice_end
    assert event.type == "reverification.requested" and event.data["request_id"] == row["id"]
    assert event.data["reason"] == f"异议 {row['id']}"  # the objector's words stay with the objection


async def test_an_objection_to_a_score_notice_is_due_when_the_notice_ends():
    store = FakeStore()
    await a_list(store)
    notice = next(n for n in store.notices.values() if n.application_id == "A1")
    row, _ = await lodged(
        store,
        use_cases.Lodge(
            kind=ObjectionKind.OBJECTION, items=["education"], reason="x" * 5, client="c1", notice_id=notice.id
        ),
        today=notice.period_start,
    )
    assert (row["application_id"], row["due_by"], row["notice_id"]) == ("A1", notice.period_end, notice.id)


async def test_objections_that_cannot_be_taken_are_refused_and_nothing_is_written():
    store = FakeStore()
    await a_list(store)
    with pytest.raises(domain.NotFound) as missing:
        await lodged(store, objection(99, ["education"]))
    assert missing.value.field == "entry"
    with pytest.raises(domain.ObjectionRefused) as late:
        await lodged(store, objection(1, ["education"]), today=date(2026, 5, 1))
    assert late.value.type == "/problems/objection-late"
    with pytest.raises(domain.ObjectionRefused) as item:
        await lodged(store, objection(1, ["made_up"]))
    assert item.value.field == "items"
    with pytest.raises(domain.NotFound) as notice:
        await lodged(
            store,
            use_cases.Lodge(
                kind=ObjectionKind.OBJECTION, items=["education"], reason="x" * 5, client="c1", notice_id="NTC-nope"
            ),
        )
    assert notice.value.field == "notice_id"
    assert store.objections == {}


async def test_one_address_lodges_at_most_its_hourly_limit():
    store = FakeStore()
    await a_list(store)
    for _ in range(2):
        await lodged(store, objection(1, ["education"]), per_hour=2)
    with pytest.raises(use_cases.RateLimited) as limited:
        await lodged(store, objection(1, ["education"]), per_hour=2)
    assert 0 < limited.value.retry_after <= 3600
    await lodged(store, objection(1, ["education"], client="another"), per_hour=2)  # another address is not held up
    old = next(iter(store.objections.values()))
    old["lodged_at"] = datetime.now(UTC) - timedelta(hours=2)
    await lodged(store, objection(1, ["education"]), per_hour=2)  # an hour later, room again
    assert len(store.objections) == 4


async def test_the_holder_asks_a_review_of_their_own_score_only():
    store = FakeStore()
    await a_list(store)
    review = dict(
        application_id="A1",
        items=["education"],
        reason="学历认定有误",
        client="c1",
        requested_by="partner-app",
        today=ON_NOTICE,
        per_hour=5,
        salt="salt",
    )
    with pytest.raises(domain.NotFound):
        await use_cases.request_review(FakeUnitOfWork(store), id_number="330106198001010033", **review)
    uow = FakeUnitOfWork(store)
    row = await use_cases.request_review(uow, id_number="330106197001010011", **review)
    assert row["id"].startswith("REV-") and row["kind"] == "review" and row["due_by"] == domain.review_due(ON_NOTICE)
    [event] = uow.emitted
    assert event.data["requested_by"] == "partner-app" and event.data["reason"] == f"复核 {row['id']}"


async def test_a_request_is_resolved_when_its_last_department_answers():
    store = FakeStore()
    await a_list(store)
    row, _ = await lodged(store, objection(1, ["education", "social_insurance"]))
    answers = [{"request_id": row["id"], "department": "education"}]
    assert await use_cases.take_answers(FakeUnitOfWork(store), answers, 90, "scored") == []
    assert store.objections[row["id"]].status == "open"
    answers = [{"request_id": row["id"], "department": "social_insurance"}]
    assert await use_cases.take_answers(FakeUnitOfWork(store), answers, 90, "scored") == [row["id"]]
    o = store.objections[row["id"]]
    assert (o.status, o.score_after) == ("resolved", 90) and "积分不变（90分）" in o.outcome


async def test_an_officer_answers_an_open_request_once():
    store = FakeStore()
    await a_list(store)
    row, _ = await lodged(store, objection(1, ["education"]))
    answered = await use_cases.answer(FakeUnitOfWork(store), row["id"], "经核查，材料真实。", "officer-1")
    assert (answered.status, answered.outcome, answered.answered_by) == ("answered", "经核查，材料真实。", "officer-1")
    with pytest.raises(domain.ObjectionRefused) as again:
        await use_cases.answer(FakeUnitOfWork(store), row["id"], "again", "officer-2")
    assert again.value.status == 409 and store.objections[row["id"]].answered_by == "officer-1"
    with pytest.raises(domain.NotFound):
        await use_cases.answer(FakeUnitOfWork(store), "OBJ-nope", "x", "officer-1")
