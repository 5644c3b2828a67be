"""The rounds' operations: open a round, close it (its candidates go to scoring to be re-scored at
the round's cut-off), rank and publish the list once all are, move a candidate whose round score
changed during the notice, make lists final. The ranking itself is the store's (one statement in
PostgreSQL, whatever the size of the round)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from services.publicity import domain
from services.publicity.domain import RoundStatus
from shared import clock
from shared.calendar import cut_off_date
from shared.events import Envelope
from shared.events.catalogue import RoundClosing, RoundFinalized, RoundScored


@dataclass(frozen=True)
class OpenRound:
    """A module owner's request for a round (validated by the api's RoundRequest)."""

    module_id: str
    acceptance_opens: date
    acceptance_closes: date
    cut_off_date: date | None
    quota: int | None
    threshold: float | None
    notice_working_days: int


@dataclass(frozen=True)
class ClosedRound:
    candidates: int  # sent to scoring, to be re-scored at the round's cut-off
    chunks: int


# Candidates per round.closing event: a round of many thousands travels in several, and scoring
# answers each with one round.scored (with each candidate's lines: about 3 kB a candidate, so a
# chunk stays well under the broker's 1 MB message limit).
CHUNK = 100


async def open_round(uow: Any, command: OpenRound, module: dict[str, Any], created_by: str, today: date) -> Any:
    """Open a round of `module` (its definition, from the module register); returns the round."""
    round_id = domain.new_id("RND", today)
    await uow.store.add_round(
        id=round_id,
        module_id=command.module_id,
        owner=module["owner"],
        candidate=module.get("candidate", "holder"),
        name=module["name"],
        tie_breakers=module.get("tie_breakers", []),
        acceptance_opens=command.acceptance_opens,
        acceptance_closes=command.acceptance_closes,
        cut_off_date=command.cut_off_date or cut_off_date(command.acceptance_opens, command.acceptance_opens),
        quota=command.quota,
        threshold=command.threshold,
        notice_working_days=command.notice_working_days,
        created_by=created_by,
    )
    return await uow.store.round(round_id)


async def close_round(uow: Any, round_id: str, today: date, chunk: int = CHUNK) -> ClosedRound:
    """Close acceptance: everyone who applied for the module during acceptance (and did not withdraw)
    is sent to scoring to be re-scored from their verified facts at the round's cut-off
    (round.closing); the list is ranked and published when every one is answered
    (take_round_scores). A round nobody applied for is published at once, empty."""
    r = await uow.store.round(round_id, lock=True)
    if r is None:
        raise domain.NotFound(f"No round {round_id}.")
    if today < r.acceptance_closes:
        raise domain.RoundRefused(
            409,
            f"Acceptance runs until {r.acceptance_closes.isoformat()}; the round closes after that.",
            "/problems/round-accepting",
        )
    if r.status != RoundStatus.ACCEPTING:
        raise domain.RoundRefused(
            409, f"Round {round_id} is not accepting: it was closed already.", "/problems/round-closed"
        )
    # One event's template (no applications): the store writes one a chunk of the candidates.
    closing = Envelope.new(
        RoundClosing(
            round_id=r.id,
            module_id=r.module_id,
            candidate=r.candidate,
            cut_off_date=r.cut_off_date,
            # The rules in force on the round's date (its acceptance opening), facts up to the cut-off.
            rules_on=r.acceptance_opens,
            chunk=1,
            chunks=1,
            application_ids=[],
        ),
        source="publicity",
        subject=r.id,
    )
    candidates, chunks = await uow.store.start_round_scoring(r.id, uow.emit_by_statement(closing), chunk)
    await uow.store.update_round(r.id, status=RoundStatus.SCORING.value)
    if not candidates:
        await publish(uow, r.id, today)
    return ClosedRound(candidates, chunks)


async def publish(uow: Any, round_id: str, today: date) -> None:
    """Rank the candidates by their round scores and publish the list for the notice period."""
    r = await uow.store.round(round_id, lock=True)
    entries, admitted = await uow.store.publish_list(r)
    start, end = domain.notice_period(today, r.notice_working_days)
    await uow.store.update_round(
        r.id,
        status=RoundStatus.NOTICE.value,
        list_version=1,
        entries=entries,
        admitted=admitted,
        notice_start=start,
        notice_end=end,
        rescored=True,
        telling_after="",  # every candidate is to be told of the list (tell_candidates)
    )
    await uow.store.add_list_version(r.id, 1, "published", entries)


async def tell_candidates(uow: Any, limit: int) -> int:
    """Tell up to `limit` more candidates of a published list their place (or that they are not on it):
    one page of one round, its cursor moved on. Written after the close, a page at a time, because a
    city's round is a few hundred thousand messages; each gives the place as it stands when written.
    Returns how many applications were read (0: nobody left to tell anywhere)."""
    for r in await uow.store.rounds_to_tell():
        texts = domain.round_notification_templates(r.name["zh"], (r.notice_start, r.notice_end))
        read, _, last = await uow.store.tell_page(r, texts, domain.ADMITTED_TEXT, limit)
        await uow.store.update_round(r.id, telling_after=last if read == limit else None)
        if read:
            return read
    return 0


async def take_round_scores(uow: Any, data: RoundScored, today: date) -> None:
    """Scoring's answer: keep the candidates' round scores; publish once none is pending, or, on a
    list already on notice, move each entry by its new round score."""
    r = await uow.store.round(data.round_id, lock=True)  # answers of one round are taken one at a time
    if r is None or r.status in (RoundStatus.ACCEPTING, RoundStatus.FINAL):
        return  # not closed here (yet), or final: nothing in it changes
    await uow.store.put_round_scores(
        [
            {
                "round_id": r.id,
                "application_id": s.application_id,
                "status": s.status,
                "version": s.score_version,
                "based_on": s.based_on_version,
                "total": s.total,
                "modules": {r.module_id: s.module.model_dump()} if s.module else {},
                "lines": [line.model_dump() for line in s.lines],
            }
            for s in data.scores
        ]
    )
    if r.status == RoundStatus.SCORING:
        if await uow.store.round_scores_pending(r.id) == 0:
            await publish(uow, r.id, today)
        return
    for s in data.scores:
        # Read again for each: a move publishes the list's next version.
        await rescore(uow, s.application_id, rounds=[await uow.store.round(r.id)])


async def close_due(uow: Any, today: date) -> list[str]:
    """Close every round whose acceptance ended before today."""
    due = await uow.store.rounds_due_to_close(today)
    for round_id in due:
        await close_round(uow, round_id, today)
    return due


async def rescore(uow: Any, application_id: str, rounds: list[Any] | None = None) -> list[str]:
    """A new round score during a notice: move the candidate's entry to its new place (the entries
    in between move by one), publish a new version with the old values kept. `rounds`: those to
    move it in (by default every round on notice it belongs to). Returns the rounds re-published."""
    store = uow.store
    changed_rounds = []
    keys = await store.candidate_keys(application_id)
    if keys is None:
        return []
    for r in rounds if rounds is not None else await store.rounds_on_notice_of(application_id):
        key = keys.child_key if r.candidate == "child" else keys.holder_key
        if key is None:
            continue
        best = await store.best_candidate(r.id, key)
        entry = await store.entry_of_candidate(r.id, key)
        version = r.list_version + 1
        if (
            entry is not None
            and best is not None
            and (entry.score, list(entry.sort_key), entry.application_id)
            == (best.score, list(best.sort_key), best.application_id)
        ):
            continue  # the same standing: nothing to re-publish
        if entry is None and best is None:
            continue
        if entry is not None:
            await store.keep_old_entry(r.id, version, entry.seq)
        if best is None:
            await store.remove_entry(r.id, entry.seq)
            changed, old_rank = None, entry.rank
        elif entry is None:
            changed, old_rank = await store.add_entry(r.id, key, best), None
        else:
            await store.restate_entry(r.id, entry.seq, best)
            changed, old_rank = entry.seq, entry.rank
        moved = await store.rerank(r, version, changed, old_rank)
        entries, admitted = await store.list_counts(r.id)
        await store.update_round(r.id, list_version=version, entries=entries, admitted=admitted)
        seq = entry.seq if entry is not None else "new"
        reason = f"第{seq}号重新计分 entry {seq} re-scored"
        await store.add_list_version(r.id, version, reason, max(moved, 1))
        changed_rounds.append(r.id)
    return changed_rounds


async def take_own_score(uow: Any, application_id: str, version: int, status: str, **score: Any) -> list[str]:
    """A list published before rounds were re-scored at their cut-off ranks by the applications' own
    scores: there a new own score (`total`, `modules`, `lines`) is the round score, and moves the entry."""
    moved = []
    for r in await uow.store.rounds_on_notice_of(application_id):
        if r.rescored:
            continue  # scoring re-scores this one at the round's cut-off (round.scored)
        row = {"round_id": r.id, "application_id": application_id, "status": status, "version": version}
        await uow.store.put_round_scores([{**row, "based_on": version, **score}])
        moved += await rescore(uow, application_id, rounds=[r])
    return moved


async def finalize_due(uow: Any, today: date, source: str = "publicity", base_url: str = "") -> list[str]:
    """Lists whose notice ended with nothing open become final, and the module owner is told where
    to fetch who is admitted (`admitted_page`): the event names the list, it does not carry it, so
    its size and the memory it takes are the same for a round of ten or of a whole city."""
    done = []
    for round_id in await uow.store.rounds_due_for_final(today):
        now = clock.now()
        r = await uow.store.finalise_round(round_id, now)
        uow.emit(
            Envelope.new(
                RoundFinalized(
                    round_id=r.id,
                    module_id=r.module_id,
                    owner=r.owner,
                    list_version=r.list_version,
                    notice_end=r.notice_end,
                    finalized_at=now,
                    entries=r.entries,
                    admitted=r.admitted,
                    admitted_url=f"{base_url}/v1/rounds/{r.id}/admitted?version={r.list_version}",
                ),
                source=source,
                subject=r.id,
            )
        )
        done.append(round_id)
    return done


@dataclass(frozen=True)
class AdmittedPage:
    round: Any
    entries: list[Any]


async def admitted_page(
    store: Any, round_id: str, owners: set[str], version: int, after: int, limit: int
) -> AdmittedPage:
    """A page of a final list's admitted entries, for the module's owner (`owners`: the owners the
    key acts for). Anyone else, like an unknown round, is told there is no such round. The version
    is the one round.finalized named: a final list never changes, so any other is not there."""
    r = await store.round(round_id)
    if r is None or r.owner not in owners:
        raise domain.NotFound(f"No round {round_id}.")
    if r.status != RoundStatus.FINAL:
        raise domain.RoundRefused(
            409,
            f"Round {round_id} is not final yet (its list is {r.status}): the admitted list is delivered once final.",
            "/problems/round-not-final",
        )
    if version != r.list_version:
        raise domain.NotFound(
            f"Round {round_id}'s final list is version {r.list_version}; there is no final version {version}.",
            "version",
        )
    return AdmittedPage(r, await store.admitted_page(round_id, after, limit))
