"""A round's candidates re-scored at the round's own cut-off.

When a round closes, publicity sends its candidates (round.closing, in chunks). Each is re-scored
from the departments' answers of the application's latest own score, with facts counted up to the
ROUND's cut-off and the rules in force on the round's date, and kept as a score version marked as
the round's (the holder's history keeps both). The answer, round.scored, carries each candidate's
module total and sort keys: publicity ranks from those. It is not score.computed, so nothing goes
on notice and nobody is sent a message.

Until the round's list is final, a new own score of a candidate (an objection's re-verification)
is re-scored for the round too, in the same transaction, and answered the same way.

All of it runs at commit, after the batch's own scoring (ScoringBatch.score_pending): a round
re-scores the newest answers, the engine runs once per round, and the versions given out in the
batch are known.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.scoring import domain
from shared.clock import BEIJING
from shared.events import Envelope
from shared.events.catalogue import ModuleScore, RoundCandidateScore, RoundLine, RoundScored


@dataclass(frozen=True)
class Base:
    """The application's own score a round re-scores: its version, the answers it was made of, the holder."""

    version: int
    answers: list[dict[str, Any]] | None
    holder: dict[str, Any]

    @classmethod
    def of_row(cls, row: Any) -> Base:
        return cls(row.version, row.answers, dict(row.holder))


async def take_closing(uow: Any, round_row: dict[str, Any], application_ids: list[str]) -> None:
    """Keep the round and this chunk of its candidates (scored for it at commit)."""
    await uow.store.add_round(round_row, application_ids)


def candidate_score(
    application_id: str, version: int, based_on: int, explanation: dict[str, Any], module_id: str
) -> RoundCandidateScore:
    doc = domain.module_scores(explanation).get(module_id)
    return RoundCandidateScore(
        application_id=application_id,
        score_version=version,
        based_on_version=based_on,
        status=explanation["status"],
        total=explanation["total"],
        module=ModuleScore.model_validate(doc) if doc else None,
        lines=[RoundLine.model_validate(line) for line in explanation["lines"]],
    )


async def score_rounds(
    uow: Any,
    deps: Any,
    versions: dict[str, int],
    chunks: list[tuple[str, list[str]]],
    scored_now: dict[str, Base],
    now: datetime,
) -> None:
    """Answer the closing chunks taken in this transaction, and re-score for their open rounds the
    candidates whose own score was made in it (`scored_now`). `versions` are those given out."""
    store = uow.store
    asked: dict[str, list[list[str]]] = defaultdict(list)
    for round_id, ids in chunks:
        asked[round_id].append(ids)
    rounds: dict[str, Any] = {}
    follow: dict[str, list[str]] = defaultdict(list)
    for row in await store.open_rounds_of(sorted(scored_now)):
        rounds[row.round_id] = row
        follow[row.round_id].append(row.application_id)
    for round_id in asked:
        if round_id not in rounds:
            rounds[round_id] = await store.round(round_id)
    if not rounds:
        return
    wanted = {a for cs in asked.values() for c in cs for a in c} | {a for ids in follow.values() for a in ids}
    bases = {a: Base.of_row(r) for a, r in (await store.latest_own_scores(sorted(wanted - set(scored_now)))).items()}
    bases |= {a: b for a, b in scored_now.items() if a in wanted}
    known = await store.latest_versions(sorted(wanted))
    for round_id, r in rounds.items():
        ids = sorted({a for c in asked.get(round_id, []) for a in c} | set(follow.get(round_id, [])))
        results = await score_round(uow, deps, r, ids, bases, versions, known, now)
        answered: set[str] = set()
        for c in asked.get(round_id, []):
            emit_scored(uow, r, [results[a] for a in c])
            answered |= set(c)
        rest = [results[a] for a in follow.get(round_id, []) if a not in answered]
        if rest:
            emit_scored(uow, r, rest)


async def score_round(
    uow: Any,
    deps: Any,
    r: Any,
    ids: list[str],
    bases: dict[str, Base],
    versions: dict[str, int],
    known: dict[str, int],
    now: datetime,
) -> dict[str, RoundCandidateScore]:
    """Re-score these candidates for round `r` and keep each as the round's score version."""
    module = deps.modules.get(r.module_id)
    prior = await uow.store.latest_round_scores(r.round_id, ids)
    out: dict[str, RoundCandidateScore] = {}
    todo: list[tuple[str, Base]] = []
    for a in ids:
        base = bases.get(a)
        if base is None or base.answers is None or module is None:
            # Never scored (or scored before answers were kept): nothing to re-score from.
            out[a] = RoundCandidateScore(application_id=a, status="unscored")
            continue
        p = prior.get(a)
        if p is not None and p.based_on == base.version:
            # Re-scored for the round already from these very answers: the same answer, no new version.
            out[a] = candidate_score(a, p.version, base.version, p.explanation, r.module_id)
            continue
        todo.append((a, base))
    if todo:
        # One vectorised evaluation for the round's candidates; scored today (as recompute takes it
        # from computed_at: a forgery's bar, should one be found, runs from today).
        explanations = domain.score_applications(
            deps.rule_sets,
            r.cut_off_date,
            [b.answers or [] for _, b in todo],
            {module.id: module},
            today=now.astimezone(BEIJING).date(),
            rules_on=r.rules_on,
        )
        for (a, b), e in zip(todo, explanations, strict=True):
            version = max(versions.get(a, 0), known.get(a, 0)) + 1
            versions[a] = version
            e["round"] = {
                "id": r.round_id,
                "module_id": r.module_id,
                "cut_off_date": r.cut_off_date.isoformat(),
                "rules_on": r.rules_on.isoformat(),
                "based_on_version": b.version,
            }
            uow.store.add_score(
                domain.score_row(
                    a,
                    version,
                    e,
                    r.cut_off_date,
                    b.holder,
                    b.answers or [],
                    now,
                    round_id=r.round_id,
                    based_on=b.version,
                )
            )
            out[a] = candidate_score(a, version, b.version, e, r.module_id)
    return out


def emit_scored(uow: Any, r: Any, scores: list[RoundCandidateScore]) -> None:
    uow.emit(
        Envelope.new(
            RoundScored(round_id=r.round_id, module_id=r.module_id, cut_off_date=r.cut_off_date, scores=scores),
            source="scoring",
            subject=r.round_id,
        )
    )
