"""The rounds' operations: open a round, close it (rank and publish the list), move a candidate
whose score changed during the notice, make lists final. The ranking itself is the store's
(one statement in PostgreSQL, whatever the size of the round)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from services.publicity import domain
from services.publicity.domain import RoundStatus
from shared import clock
from shared.calendar import cut_off_date
from shared.events import Envelope
from shared.events.catalogue import RoundFinalized


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
    entries: int
    admitted: int
    notice_start: date
    notice_end: date


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


async def close_round(uow: Any, round_id: str, today: date) -> ClosedRound:
    """Rank everyone eligible who chose the module and publish the list for the notice period."""
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
    )
    await uow.store.add_list_version(r.id, 1, "published", entries)
    return ClosedRound(entries, admitted, start, end)


async def close_due(uow: Any, today: date) -> list[str]:
    """Close every round whose acceptance ended before today."""
    due = await uow.store.rounds_due_to_close(today)
    for round_id in due:
        await close_round(uow, round_id, today)
    return due


async def rescore(uow: Any, application_id: str) -> list[str]:
    """A new score during a notice: move the candidate's entry to its new place (the entries in
    between move by one), publish a new version with the old values kept. Returns the rounds
    re-published."""
    store = uow.store
    changed_rounds = []
    keys = await store.candidate_keys(application_id)
    for r in await store.rounds_on_notice_of(application_id):
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
