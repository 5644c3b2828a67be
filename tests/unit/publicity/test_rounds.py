"""The rounds' use cases, in memory: open, close and rank, re-rank during the notice, finalise."""

from __future__ import annotations

from datetime import date

import pytest

from services.publicity import domain
from services.publicity import use_cases as publicity_use_cases
from services.publicity.api.pages import templates
from services.publicity.api.schemas import round_doc
from services.publicity.handlers import Deps, handlers
from services.publicity.rounds import use_cases
from shared import clock
from shared.events import Envelope
from tests.fakes import FakeUnitOfWork, InMemoryBus
from tests.unit.publicity.closing import closed
from tests.unit.publicity.events import MODULE, as_own_scores, round_scored, scored, submitted, withdrawn
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


def bus(store: FakeStore) -> InMemoryBus:
    return InMemoryBus(handlers(Deps("salt", 7, "https://gs.example")), store)


async def applicants(store: FakeStore, *events: Envelope) -> None:
    await bus(store).follow(list(events))


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
    uow = FakeUnitOfWork(store)
    closing = await use_cases.close_round(uow, round_id, date(2026, 3, 23))
    # Closed, not yet ranked: its candidates (those who chose the module) go to scoring.
    assert (closing.candidates, closing.chunks) == (4, 1) and store.entries.get(round_id, {}) == {}
    [event] = uow.emitted
    assert event.type == "round.closing" and event.data["application_ids"] == ["A1", "A2", "A3", "A4"]
    r = store.rounds[round_id]
    assert r.status == "scoring"
    assert (event.data["cut_off_date"], event.data["rules_on"]) == (str(r.cut_off_date), str(r.acceptance_opens))
    await bus(store).follow(as_own_scores(store, [event]))
    ranked = sorted(store.entries[round_id].values(), key=lambda e: e.rank)
    assert [(e.application_id, e.admitted) for e in ranked] == [("A2", True), ("A3", True), ("A1", False)]
    r = store.rounds[round_id]
    assert (r.status, r.list_version, r.rescored) == ("notice", 1, True) and store.versions[0].reason == "published"
    assert (r.notice_start, r.notice_end) == domain.notice_period(clock.today(), 5)  # published when scoring answered


async def test_the_list_ranks_by_the_round_scores_not_the_applications_own():
    store = FakeStore()
    await applicants(store, submitted("A1", "h1"), submitted("A2", "h2"), scored("A1", 90), scored("A2", 80))
    round_id = await a_round(store, quota=1)
    # At the round's cut-off A2 has counted more months than at their own: they now lead.
    await closed(store, round_id, date(2026, 3, 23), A1=91.0, A2=93.5)
    ranked = sorted(store.entries[round_id].values(), key=lambda e: e.rank)
    assert [(e.application_id, e.score, e.admitted) for e in ranked] == [("A2", 93.5, True), ("A1", 91.0, False)]


async def test_a_round_of_many_chunks_is_published_once_every_chunk_is_answered_and_once_only():
    store = FakeStore()
    apps = [f"A{i}" for i in range(1, 6)]
    await applicants(store, *[submitted(a, f"h{a}") for a in apps], *[scored(a, 60 + i) for i, a in enumerate(apps)])
    round_id = await a_round(store, quota=2)
    uow = FakeUnitOfWork(store)
    closing = await use_cases.close_round(uow, round_id, date(2026, 3, 23), chunk=2)
    assert (closing.candidates, closing.chunks) == (5, 3)
    assert [e.data["application_ids"] for e in uow.emitted] == [["A1", "A2"], ["A3", "A4"], ["A5"]]
    first, second, third = as_own_scores(store, uow.emitted)
    b = bus(store)
    await b.follow([first, second])
    assert store.rounds[round_id].status == "scoring" and store.entries.get(round_id, {}) == {}
    await b.follow([third])
    assert store.rounds[round_id].status == "notice" and len(store.entries[round_id]) == 5
    # An answer delivered again (a new delivery, not the inbox's duplicate) changes nothing.
    await bus(store).follow([first, third])
    assert store.rounds[round_id].list_version == 1 and len(store.versions) == 1
    assert [e.application_id for e in await store.admitted_page(round_id, 0, 1000)] == ["A5", "A4"]


async def test_a_candidate_scoring_cannot_re_score_is_left_off_and_told_so():
    store = FakeStore()
    await applicants(store, submitted("A1", "h1"), submitted("A2", "h2"), scored("A1", 70))
    notified = len(store.notifications)
    round_id = await a_round(store)
    await closed(store, round_id, date(2026, 3, 23), A1=72.0, A2=None)
    assert [e.application_id for e in store.entries[round_id].values()] == ["A1"]
    # A round's score is not a score notice: no notice of it, no message at the close. The sweep then
    # tells each candidate of the list, a page at a time: A1 its place, A2 (scoring could not re-score
    # it) that it is not on it.
    assert {n.application_id for n in store.notices.values()} == {"A1"} and len(store.notifications) == notified
    assert [await publicity_use_cases.tell_candidates(FakeUnitOfWork(store), 1) for _ in range(3)] == [1, 1, 0]
    assert store.rounds[round_id].telling_after is None  # everyone told: nothing left for the next sweep
    told = {n.application_id: n for n in store.notifications[notified:]}
    assert set(told) == {"A1", "A2"} and {n.round_id for n in told.values()} == {round_id}
    assert "排名第1位（共1人）" in told["A1"].body and "在拟录取范围内" in told["A1"].body
    assert "未列入" in told["A2"].body and "%" not in told["A2"].body


async def test_a_round_nobody_applied_for_is_published_at_once_empty():
    store = FakeStore()
    round_id = await a_round(store)
    uow = FakeUnitOfWork(store)
    assert (await use_cases.close_round(uow, round_id, date(2026, 3, 23))).candidates == 0
    assert uow.emitted == [] and store.rounds[round_id].status == "notice" and store.rounds[round_id].entries == 0


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
    await closed(store, round_id, date(2026, 3, 23))
    [entry] = store.entries[round_id].values()
    assert (entry.application_id, entry.score, entry.name_masked) == ("DAD", 92, "王*")


async def test_a_round_is_not_closed_while_accepting_nor_twice():
    store = FakeStore()
    round_id = await a_round(store)
    with pytest.raises(domain.RoundRefused) as early:
        await use_cases.close_round(FakeUnitOfWork(store), round_id, date(2026, 3, 19))
    assert early.value.status == 409 and early.value.type == "/problems/round-accepting"
    await closed(store, round_id, date(2026, 3, 21))
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
    assert store.rounds[round_id].status == "notice"  # nobody applied: published at once


async def test_a_rescore_during_the_notice_re_ranks_and_keeps_the_old_standing():
    store = FakeStore()
    await applicants(store, submitted("A1", "h1"), submitted("A2", "h2"), scored("A1", 90), scored("A2", 80))
    round_id = await a_round(store, quota=1)
    await closed(store, round_id, date(2026, 3, 23))
    # An objection re-scores A2: first their own score (which alone moves nothing on this list) ...
    await applicants(store, scored("A2", 99, version=2))
    assert store.rounds[round_id].list_version == 1
    # ... then scoring re-scores it at the round's cut-off: the entry moves by that.
    await applicants(store, round_scored(round_id, {"A2": 95.0}, version=11))
    by_app = {e.application_id: e for e in store.entries[round_id].values()}
    assert (by_app["A2"].rank, by_app["A2"].score, by_app["A2"].admitted) == (1, 95.0, True)
    assert (by_app["A1"].rank, by_app["A1"].admitted) == (2, False)
    kept = {(h.seq, h.rank, h.admitted) for h in store.history if h.version == 2}
    assert kept == {(by_app["A2"].seq, 2, False), (by_app["A1"].seq, 1, True)}
    assert store.rounds[round_id].list_version == 2 and "re-scored" in store.versions[-1].reason
    # The same standing again, or an older round score arriving late: nothing re-published.
    assert await use_cases.rescore(FakeUnitOfWork(store), "A2") == []
    await applicants(store, round_scored(round_id, {"A2": 80.0}, version=9))
    assert store.rounds[round_id].list_version == 2
    assert {e.application_id: e.score for e in store.entries[round_id].values()} == {"A1": 90.0, "A2": 95.0}


async def test_a_withdrawn_candidate_leaves_the_list_at_the_next_rescore():
    store = FakeStore()
    await applicants(store, submitted("A1", "h1"), submitted("A2", "h2"), scored("A1", 90), scored("A2", 80))
    round_id = await a_round(store, quota=1)
    await closed(store, round_id, date(2026, 3, 23))
    await applicants(store, withdrawn("A1"))
    assert await use_cases.rescore(FakeUnitOfWork(store), "A1") == [round_id]
    assert [(e.application_id, e.rank, e.admitted) for e in store.entries[round_id].values()] == [("A2", 1, True)]


async def test_a_list_becomes_final_after_its_notice_unless_an_objection_is_open():
    store = FakeStore()
    await applicants(store, submitted("A1", "h1"), submitted("A2", "h2"), scored("A1", 90), scored("A2", 80))
    round_id = await a_round(store, quota=1)
    await closed(store, round_id, date(2026, 3, 23))
    notice_end = store.rounds[round_id].notice_end
    after = date.fromordinal(notice_end.toordinal() + 1)
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
        due_by=notice_end,
        lodged_at=None,
    )
    uow = FakeUnitOfWork(store)
    assert await use_cases.finalize_due(uow, after) == [] and uow.emitted == []
    assert await use_cases.finalize_due(FakeUnitOfWork(store), notice_end) == []  # the last day still counts
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


async def test_a_list_published_before_rounds_were_re_scored_still_moves_by_the_own_score():
    store = FakeStore()
    await applicants(store, submitted("A1", "h1"), submitted("A2", "h2"), scored("A1", 90), scored("A2", 80))
    round_id = await a_round(store, quota=1)
    await closed(store, round_id, date(2026, 3, 23))
    # As the migration leaves a list of before: its round scores are the applications' own versions.
    await store.update_round(round_id, rescored=False)
    for s in store.round_scores.values():
        s.update(version=1, based_on=1)
    await applicants(store, scored("A2", 95, version=2))
    assert [(e.application_id, e.score) for e in await store.admitted_page(round_id, 0, 1000)] == [("A2", 95.0)]


async def test_a_final_list_takes_no_round_score():
    store = FakeStore()
    await applicants(store, submitted("A1", "h1"), submitted("A2", "h2"), scored("A1", 90), scored("A2", 80))
    round_id = await a_round(store, quota=1)
    await closed(store, round_id, date(2026, 3, 23))
    await store.update_round(round_id, status="final")
    await applicants(store, round_scored(round_id, {"A2": 99.0}, version=11))
    assert [(e.application_id, e.score) for e in await store.admitted_page(round_id, 0, 1000)] == [("A1", 90.0)]
    assert store.round_scores[(round_id, "A2")].version == 10


async def test_a_round_being_re_scored_says_so_on_its_page_and_then_that_its_list_was():
    store = FakeStore()
    await applicants(store, submitted("A1", "h1"), scored("A1", 90))
    round_id = await a_round(store)
    uow = FakeUnitOfWork(store)
    await use_cases.close_round(uow, round_id, date(2026, 3, 23))

    def shown() -> str:
        r = round_doc(store.rounds[round_id])
        return templates.env.get_template("round.html").render(r=r, entries=[], q="", limit=20, next_after=None)

    cut_off = store.rounds[round_id].cut_off_date.isoformat()
    assert f"正在按积分截止日（{cut_off}）为申请人重新计分" in shown() and "公示期 None" not in shown()
    await bus(store).follow(as_own_scores(store, uow.emitted))
    start = store.rounds[round_id].notice_start.isoformat()
    assert f"本名单所有申请人均已按本批次积分截止日（{cut_off}）重新计分" in shown() and f"公示期 {start}" in shown()


async def test_the_admitted_list_is_the_owners_once_final_at_the_final_version():
    store = FakeStore()
    await applicants(store, submitted("A1", "h1"), submitted("A2", "h2"), scored("A1", 90), scored("A2", 80))
    round_id = await a_round(store, quota=1)
    await closed(store, round_id, date(2026, 3, 23))
    with pytest.raises(domain.RoundRefused) as not_yet:
        await use_cases.admitted_page(store, round_id, {"education"}, 1, 0, 10)
    assert not_yet.value.status == 409 and not_yet.value.type == "/problems/round-not-final"
    await use_cases.finalize_due(
        FakeUnitOfWork(store), date.fromordinal(store.rounds[round_id].notice_end.toordinal() + 1)
    )
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
