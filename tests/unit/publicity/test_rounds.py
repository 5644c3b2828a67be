"""The rounds' use cases, in memory: open, close and rank, re-rank during the notice, finalise."""

from __future__ import annotations

from datetime import date

import pytest

from services.publicity import domain
from services.publicity.handlers import Deps, handlers
from services.publicity.rounds import use_cases
from shared.events import Envelope
from tests.fakes import FakeUnitOfWork, InMemoryBus
from tests.unit.publicity.events import MODULE, scored, submitted, withdrawn
from tests.unit.publicity.fake_store import FakeStore

CLOSES = date(2026, 3, 20)
MODULE_DEF = {"owner": "education", "candidate": "holder", "name": {"zh": "积分入学"}, "tie_breakers": ["age"]}


async def a_round(
    store: FakeStore, *, quota: int | None = 2, threshold: float | None = None, candidate: str = "holder"
) -> str:
    command = use_cases.OpenRound(
        module_id=MODULE,
        acceptance_opens=date(2026, 3, 1),
        acceptance_closes=CLOSES,
        cut_off_date=None,
        quota=quota,
        threshold=threshold,
        notice_working_days=5,
    )
    r = await use_cases.open_round(
        FakeUnitOfWork(store), command, {**MODULE_DEF, "candidate": candidate}, "module-owner", date(2026, 2, 20)
    )
    return r.id


async def applicants(store: FakeStore, *events: Envelope) -> None:
    await InMemoryBus(handlers(Deps("salt", 7, "https://gs.example")), store).follow(list(events))


async def test_a_round_opens_accepting_with_the_modules_owner_and_a_default_cut_off():
    store = FakeStore()
    r = store.rounds[await a_round(store)]
    assert (r.status, r.owner, r.created_by, r.tie_breakers) == ("accepting", "education", "module-owner", ["age"])
    assert r.cut_off_date < r.acceptance_opens and r.id.startswith("RND-20260220-")


async def test_closing_ranks_the_eligible_admits_the_quota_and_starts_the_notice():
    store = FakeStore()
    await applicants(
        store,
        submitted("A1", "h1"),
        submitted("A2", "h2"),
        submitted("A3", "h3"),
        submitted("A4", "h4"),
        submitted("A5", "h5", modules=("other",)),
        scored("A1", 70),
        scored("A2", 90),
        scored("A3", 80),
        scored("A4", 99, eligible=False),
        scored("A5", 100),
    )
    round_id = await a_round(store, quota=2)
    closed = await use_cases.close_round(FakeUnitOfWork(store), round_id, date(2026, 3, 23))
    assert (closed.entries, closed.admitted) == (3, 2)
    assert (closed.notice_start, closed.notice_end) == domain.notice_period(date(2026, 3, 23), 5)
    ranked = sorted(store.entries[round_id].values(), key=lambda e: e.rank)
    assert [(e.application_id, e.admitted) for e in ranked] == [("A2", True), ("A3", True), ("A1", False)]
    r = store.rounds[round_id]
    assert (r.status, r.list_version) == ("notice", 1) and store.versions[0].reason == "published"


async def test_a_child_named_by_both_parents_counts_once_with_the_better_score():
    store = FakeStore()
    await applicants(
        store,
        submitted("MUM", "hm", child_key="kid"),
        submitted("DAD", "hd", child_key="kid"),
        scored("MUM", 85),
        scored("DAD", 92),
    )
    round_id = await a_round(store, candidate="child")
    await use_cases.close_round(FakeUnitOfWork(store), round_id, date(2026, 3, 23))
    [entry] = store.entries[round_id].values()
    assert (entry.application_id, entry.score, entry.name_masked) == ("DAD", 92, "王*")


async def test_a_round_is_not_closed_while_accepting_nor_twice():
    store = FakeStore()
    round_id = await a_round(store)
    with pytest.raises(domain.RoundRefused) as early:
        await use_cases.close_round(FakeUnitOfWork(store), round_id, date(2026, 3, 19))
    assert early.value.status == 409 and early.value.type == "/problems/round-accepting"
    await use_cases.close_round(FakeUnitOfWork(store), round_id, date(2026, 3, 21))
    with pytest.raises(domain.RoundRefused) as again:
        await use_cases.close_round(FakeUnitOfWork(store), round_id, date(2026, 3, 22))
    assert again.value.type == "/problems/round-closed"
    with pytest.raises(domain.NotFound):
        await use_cases.close_round(FakeUnitOfWork(store), "RND-nope", date(2026, 3, 22))


async def test_close_due_closes_only_rounds_whose_acceptance_ended():
    store = FakeStore()
    round_id = await a_round(store)
    assert await use_cases.close_due(FakeUnitOfWork(store), CLOSES) == []
    assert await use_cases.close_due(FakeUnitOfWork(store), date(2026, 3, 21)) == [round_id]
    assert store.rounds[round_id].status == "notice"


async def test_a_rescore_during_the_notice_re_ranks_and_keeps_the_old_standing():
    store = FakeStore()
    await applicants(store, submitted("A1", "h1"), submitted("A2", "h2"), scored("A1", 90), scored("A2", 80))
    round_id = await a_round(store, quota=1)
    await use_cases.close_round(FakeUnitOfWork(store), round_id, date(2026, 3, 23))
    await store.put_score(
        **{
            **store.scores["A2"],
            "version": 2,
            "modules": {MODULE: {"total": 95.0, "eligible": True, "sort_key": [95.0, 0.0]}},
        }
    )
    assert await use_cases.rescore(FakeUnitOfWork(store), "A2") == [round_id]
    by_app = {e.application_id: e for e in store.entries[round_id].values()}
    assert (by_app["A2"].rank, by_app["A2"].admitted, by_app["A1"].rank, by_app["A1"].admitted) == (1, True, 2, False)
    kept = {(h.seq, h.rank, h.admitted) for h in store.history if h.version == 2}
    assert kept == {(by_app["A2"].seq, 2, False), (by_app["A1"].seq, 1, True)}
    assert store.rounds[round_id].list_version == 2 and "re-scored" in store.versions[-1].reason
    # The same standing again: nothing re-published.
    assert await use_cases.rescore(FakeUnitOfWork(store), "A2") == []


async def test_a_withdrawn_candidate_leaves_the_list_at_the_next_rescore():
    store = FakeStore()
    await applicants(store, submitted("A1", "h1"), submitted("A2", "h2"), scored("A1", 90), scored("A2", 80))
    round_id = await a_round(store, quota=1)
    await use_cases.close_round(FakeUnitOfWork(store), round_id, date(2026, 3, 23))
    await applicants(store, withdrawn("A1"))
    assert await use_cases.rescore(FakeUnitOfWork(store), "A1") == [round_id]
    assert [(e.application_id, e.rank, e.admitted) for e in store.entries[round_id].values()] == [("A2", 1, True)]


async def test_a_list_becomes_final_after_its_notice_unless_an_objection_is_open():
    store = FakeStore()
    await applicants(store, submitted("A1", "h1"), submitted("A2", "h2"), scored("A1", 90), scored("A2", 80))
    round_id = await a_round(store, quota=1)
    closed = await use_cases.close_round(FakeUnitOfWork(store), round_id, date(2026, 3, 23))
    after = date.fromordinal(closed.notice_end.toordinal() + 1)
    await store.add_objection(
        id="OBJ-1",
        kind="objection",
        application_id="A2",
        round_id=None,
        seq=None,
        notice_id=None,
        items=["education"],
        reason="x" * 5,
        contact_phone=None,
        client="c",
        status="open",
        pending_departments=["education"],
        score_before=80.0,
        due_by=closed.notice_end,
        lodged_at=None,
    )
    uow = FakeUnitOfWork(store)
    assert await use_cases.finalize_due(uow, after) == [] and uow.emitted == []
    assert await use_cases.finalize_due(FakeUnitOfWork(store), closed.notice_end) == []  # the last day still counts
    store.objections["OBJ-1"]["status"] = "answered"
    uow = FakeUnitOfWork(store)
    assert await use_cases.finalize_due(uow, after) == [round_id]
    [event] = uow.emitted
    assert event.type == "round.finalized" and event.data["owner"] == "education"
    # The event names the list and where the owner fetches it; it does not carry it.
    assert event.version == 2 and event.data["admitted"] == 1 and event.data["list_version"] == 1
    assert event.data["admitted_url"] == f"/v1/rounds/{round_id}/admitted?version=1"
    assert "A1" not in event.to_bytes().decode()
    page = await use_cases.admitted_page(store, round_id, {"education"}, 1, 0, 10)
    assert [(e.rank, e.application_id) for e in page.entries] == [(1, "A1")]
    assert store.rounds[round_id].status == "final"


async def test_the_admitted_list_is_the_owners_once_final_at_the_final_version():
    store = FakeStore()
    await applicants(store, submitted("A1", "h1"), submitted("A2", "h2"), scored("A1", 90), scored("A2", 80))
    round_id = await a_round(store, quota=1)
    closed = await use_cases.close_round(FakeUnitOfWork(store), round_id, date(2026, 3, 23))
    with pytest.raises(domain.RoundRefused) as not_yet:
        await use_cases.admitted_page(store, round_id, {"education"}, 1, 0, 10)
    assert not_yet.value.status == 409 and not_yet.value.type == "/problems/round-not-final"
    await use_cases.finalize_due(FakeUnitOfWork(store), date.fromordinal(closed.notice_end.toordinal() + 1))
    # Another owner, no owner at all and an unknown round are told the same: no such round.
    for owners, rid in (({"district:binjiang"}, round_id), (set(), round_id), ({"education"}, "RND-NONE")):
        with pytest.raises(domain.NotFound) as unknown:
            await use_cases.admitted_page(store, rid, owners, 1, 0, 10)
        assert unknown.value.message == f"No round {rid}." and unknown.value.field is None
    with pytest.raises(domain.NotFound) as stale:
        await use_cases.admitted_page(store, round_id, {"education"}, 2, 0, 10)
    assert stale.value.field == "version" and "version 1" in stale.value.message
    page = await use_cases.admitted_page(store, round_id, {"education"}, 1, 0, 10)
    assert [e.application_id for e in page.entries] == ["A1"] and page.round.admitted == 1
    assert (await use_cases.admitted_page(store, round_id, {"education"}, 1, 1, 10)).entries == []
