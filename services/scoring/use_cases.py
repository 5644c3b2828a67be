"""Scoring's operations: schedule and score applications, sweep the overdue, show scores,
self-estimates, rule-set drafts and their publication, X-module versions and rankings.

They take the unit of work (its `store`, `emit`, `before_commit`) or plain arguments and raise
the domain errors below; the api layer maps those to problem documents.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from services.scoring import access, domain
from services.scoring.engine.modules import Module, ModuleResult, Round, evaluate_module
from services.scoring.engine.population import Population
from services.scoring.engine.rules import RuleSet
from services.scoring.rounds import use_cases as round_scoring
from shared import tracing
from shared.events import Envelope
from shared.events.catalogue import HolderRef, ScoreComputed
from shared.metrics import OVERDUE_ANSWERS


# -- domain errors --------------------------------------------------------------------------------
class NotVisible(LookupError):
    """No such thing, or not this principal's to see: one answer for both."""


class Refused(ValueError):
    """The operation breaks a rule; `status` is the HTTP status the api gives it, `field` what it names."""

    def __init__(self, message: str, status: int = 422, field: str | None = None, why: str = "") -> None:
        super().__init__(message)
        self.status, self.field, self.why = status, field, why or message


@dataclass(frozen=True)
class Deps:
    """What handlers and use cases need beyond the unit of work, bound once at bootstrap (app.py).
    The dicts are the app's own: rule sets and modules published later are added to them in place."""

    rule_sets: dict[str, RuleSet]
    modules: dict[str, Module]
    candidate_key_salt: str | None


# -- scoring applications -----------------------------------------------------------------------
@dataclass
class ScoringJob:
    application_id: str
    version: int
    cut_off: date
    answers: list[dict[str, Any]]
    holder: HolderRef
    answers_to: list[dict[str, str]]
    applied_on: date | None = None  # the rules are those in force on it (unknown: on the cut-off)
    # The trace of the event that asked for the score: it is computed at commit, for the whole batch.
    trace: dict[str, str] = field(default_factory=tracing.carrier)


@dataclass
class ScoringBatch:
    """What one transaction (a consumer batch) decided so far: answers read or written, versions
    given out, withdrawals seen, and the applications to score, all scored at once at commit
    (the engine is vectorised: a hundred applications cost little more than one)."""

    deps: Deps
    answers: dict[str, dict[str, dict]] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    withdrawn: set[str] = field(default_factory=set)
    pending: dict[tuple[str, int], ScoringJob] = field(default_factory=dict)
    # round.closing chunks taken: (round, its candidates here), each answered with one round.scored.
    round_chunks: list[tuple[str, list[str]]] = field(default_factory=list)

    async def score_pending(self, uow: Any) -> None:
        pending, self.pending = self.pending, {}
        chunks, self.round_chunks = self.round_chunks, []
        by_dates: dict[tuple[date, date | None], list[ScoringJob]] = defaultdict(list)
        for job in pending.values():
            by_dates[(job.cut_off, job.applied_on)].append(job)
        now = datetime.now(UTC)
        scored_now: dict[str, round_scoring.Base] = {}
        for (cut_off, applied_on), jobs in by_dates.items():
            explanations = domain.score_applications(
                self.deps.rule_sets, cut_off, [j.answers for j in jobs], self.deps.modules, rules_on=applied_on
            )
            for job, explanation in zip(jobs, explanations, strict=True):
                record_score(uow, job, explanation, now)
                latest = scored_now.get(job.application_id)
                if latest is None or latest.version < job.version:
                    scored_now[job.application_id] = round_scoring.Base(
                        job.version, job.answers, job.holder.model_dump()
                    )
        # Then the rounds: the chunks asked for, and the open rounds of what was just scored.
        await round_scoring.score_rounds(uow, self.deps, self.versions, chunks, scored_now, now)


BATCH = "scoring.batch"  # the transaction's ScoringBatch, in uow.memo


def batch_of(uow: Any, deps: Deps) -> ScoringBatch:
    batch = uow.memo.get(BATCH)
    if batch is None:
        batch = uow.memo[BATCH] = ScoringBatch(deps)
    return batch


def record_score(uow: Any, job: ScoringJob, explanation: dict[str, Any], now: datetime) -> None:
    """Keep a score version and announce it (score.computed)."""
    # The application's own score (a round's re-score: services/scoring/rounds).
    uow.store.add_score(
        domain.score_row(
            job.application_id, job.version, explanation, job.cut_off, job.holder.model_dump(), job.answers, now
        )
    )
    uow.emit(
        Envelope.new(
            ScoreComputed(
                application_id=job.application_id,
                score_version=job.version,
                holder=job.holder,
                status=explanation["status"],
                reason=explanation["reason"],
                barred_until=explanation.get("barred_until"),
                rule_set_id=explanation["rule_set_id"],
                rule_set_hash=explanation["rule_set_hash"],
                cut_off_date=job.cut_off,
                total=explanation["total"],
                categories=explanation["categories"],
                lines=[domain.public_line(line) for line in explanation["lines"]],
                computed_at=now,
                modules=domain.module_scores(explanation),
                answers_to=job.answers_to,
            ),
            source="scoring",
            subject=job.application_id,
            trace=job.trace,
        )
    )


async def schedule_scoring(
    uow: Any,
    deps: Deps,
    application_id: str,
    answers: dict[str, dict],
    expected: list[str],
    cut_off: date,
    answers_to: list[dict[str, str]] | None = None,
    holder: HolderRef | None = None,
    applied_on: date | None = None,
) -> None:
    """Decide that the application is scored (its next version), at this transaction's commit."""
    batch = batch_of(uow, deps)
    if application_id in batch.withdrawn or await uow.store.is_withdrawn(application_id):
        return  # withdrawn before it was scored
    # Versions this transaction already decided are not in the table until commit.
    latest = batch.versions.get(application_id) or await uow.store.latest_version(application_id) or 0
    batch.versions[application_id] = latest + 1
    if answers:  # the holder as the departments know them (police first); else as submitted
        holder = HolderRef.model_validate(answers.get("police", answers[min(answers)])["holder"])
    if holder is None:
        raise ValueError(f"{application_id}: no department answered and no holder was given")
    ordered = [answers[d] for d in sorted(answers)] + domain.overdue_answers(
        expected, set(answers), domain.owners_items(deps.modules)
    )
    # Two changes to one application in a batch: the later answers make the next version.
    batch.pending[(application_id, latest + 1)] = ScoringJob(
        application_id, latest + 1, cut_off, ordered, holder, answers_to or [], applied_on
    )
    uow.before_commit(BATCH, lambda: batch.score_pending(uow))


async def sweep_overdue(uow: Any, deps: Deps, today: date, limit: int = 200) -> int:
    """Score the applications some department left unanswered past their review deadline:
    one slow department never stalls a round. Run now and then; one sweeper at a time."""
    store = uow.store
    if not await store.lock_overdue_sweep():
        return 0
    overdue = await store.overdue(today, limit)
    for application_id in overdue:
        submitted = await store.application(application_id)
        answers = await store.answers(application_id)
        # Locked now; a consumer may have scored it (with an answer this query could not see) meanwhile.
        if await store.latest_version(application_id):
            continue
        if submitted is not None:
            expected, cut_off, holder, applied_on = (
                submitted.expected_departments,
                submitted.cut_off_date,
                HolderRef.model_validate(submitted.holder),
                submitted.applied_on,
            )
        else:
            first = answers[min(answers)]
            expected, cut_off, holder, applied_on = first["expected_departments"], first["cut_off_date"], None, None
        await schedule_scoring(
            uow, deps, application_id, answers, expected, cut_off, holder=holder, applied_on=applied_on
        )
        # Watched per department (an alert on a department that keeps missing the deadline); counted once
        # the sweep's transaction commits: a sweep that fails counts nothing, and the next one counts it.
        for department in sorted(set(expected) - set(answers)):
            uow.after_commit(OVERDUE_ANSWERS.labels(department).inc)
    return len(overdue)


# -- reading scores ------------------------------------------------------------------------------
def score_document(row: Any) -> dict[str, Any]:
    return {
        "application_id": row.application_id,
        "version": row.version,
        "status": row.status,
        "total": row.total,
        "rule_set": {"id": row.rule_set_id, "hash": row.rule_set_hash},
        # What the determination was made of, by hash (None for scores from before they were kept).
        "determination": {
            "id": getattr(row, "determination_id", None),
            "engine_version": getattr(row, "engine_version", None),
            "module_hashes": row.explanation.get("module_hashes", {}),
        },
        "cut_off_date": row.cut_off_date.isoformat(),
        "computed_at": row.computed_at.isoformat(),
        "explanation": row.explanation,
    } | ({"round": history_entry(row)} if getattr(row, "round_id", None) else {})


async def read_score(
    store: Any, application_id: str, sight: access.Sight | None, version: int | None = None
) -> dict[str, Any]:
    """The latest score (with every version's number) or one version, as this sight shows it."""
    if sight is None:
        raise NotVisible(application_id)
    if version is not None:
        row = await store.score_version(application_id, version)
        if row is None:
            raise NotVisible(application_id)
        return access.shown(score_document(row), sight)
    rows = await store.scores_newest_first(application_id)
    if not rows:
        raise NotVisible(application_id)
    # The application's own latest score; a round's re-scoring of it is in the history, labelled.
    doc = score_document(next((r for r in rows if getattr(r, "round_id", None) is None), rows[0]))
    doc["versions"] = [r.version for r in reversed(rows)]
    doc["history"] = [history_entry(r) for r in reversed(rows)]
    return access.shown(doc, sight)


def history_entry(row: Any) -> dict[str, Any]:
    """One version as the holder's history lists it: the application's own score, or a round's."""
    round_id = getattr(row, "round_id", None)
    return {
        "version": row.version,
        "kind": "round" if round_id else "application",
        "round_id": round_id,
        "based_on_version": getattr(row, "based_on", None),
        "cut_off_date": row.cut_off_date.isoformat(),
        "label_zh": f"批次{round_id}按其积分截止日重新计分" if round_id else "申请积分",
    }


# -- rule sets -------------------------------------------------------------------------------------
async def upload_draft(store: Any, rule_sets: dict[str, RuleSet], rule_set: RuleSet, source: str, by: str) -> None:
    """Store (or replace) a draft; a published rule set can never change."""
    published = Refused(f"Rule set {rule_set.id!r} is published and can never change; upload a new id.", 409)
    if rule_set.id in rule_sets:
        raise published
    if not await store.put_draft(
        dict(
            id=rule_set.id,
            state=domain.RuleSetState.DRAFT.value,
            source=source,
            content_hash=rule_set.content_hash,
            effective_from=rule_set.effective_from,
            uploaded_by=by,
        )
    ):
        raise published


async def publish_rule_set(
    store: Any, rule_sets: dict[str, RuleSet], rule_set_id: str, by: str, today: date, parse: Any
) -> RuleSet:
    """Publish a draft; it takes effect on its date, which must be in the future (scores already
    computed stay reproducible). Added to `rule_sets` once the caller commits."""
    row = await store.rule_set_for_update(rule_set_id)
    if row is None:
        raise NotVisible(f"No draft {rule_set_id!r}.")
    if row.state == domain.RuleSetState.PUBLISHED:
        raise Refused(f"Rule set {rule_set_id!r} is already published.", 409)
    rule_set = parse(row.source, f"{rule_set_id}.yaml")
    if rule_set.effective_from <= today:
        raise Refused(
            f"A rule set cannot take effect in the past or today ({rule_set.effective_from.isoformat()}): "
            "scores already computed must stay reproducible.",
            422,
            "effective_from",
            "must be after today",
        )
    await store.mark_published(rule_set_id, by)
    await store.record_texts(texts_of([rule_set], []))
    return rule_set


def texts_of(rule_sets: Any, modules: Any) -> list[dict[str, Any]]:
    """Rows for the kept texts (store.record_texts) of these rule sets and modules."""
    return [
        {"content_hash": d.content_hash, "kind": kind, "document_id": d.id, "source": d.source_text}
        for kind, docs in (("rule_set", rule_sets), ("module", modules))
        for d in docs
        if d.source_text
    ]


async def load_rule_sets_and_modules(
    store: Any, parse_rule_set: Any, parse_module: Any
) -> tuple[dict[str, RuleSet], dict[str, tuple[int, Module]]]:
    """Rule sets published and the latest version of each module, as stored (replicas share them)."""
    rule_sets = {i: parse_rule_set(source, f"{i} (published)") for i, source in await store.published_rule_sets()}
    modules = {r.id: (r.version, parse_module(r.source, f"{r.id} v{r.version}")) for r in await store.latest_modules()}
    return rule_sets, modules


# -- X-modules ---------------------------------------------------------------------------------------
def may_manage(scopes: set[str] | frozenset[str], is_admin: bool, owner: str) -> bool:
    """A district or department manages and ranks only its own modules."""
    return is_admin or f"module:{owner}" in scopes


async def register_module(store: Any, module: Module, source: str, by: str) -> int:
    """Store a module's next version; it is in use once the caller commits."""
    await store.record_texts(texts_of([], [module]))
    return await store.add_module_version(module.id, module.owner, source, module.content_hash, by)


def rank_candidates(
    module: Module,
    rule_sets: dict[str, RuleSet],
    candidates: list[Any],
    cut_off: date,
    threshold: float | None,
    quota: int | None,
) -> tuple[Module, ModuleResult, list[dict[str, Any]]]:
    """Score and rank a round's candidates (holders, or children by their parents) under a module."""
    if threshold is not None or quota is not None:
        module = module.model_copy(
            update={"rounds": [Round.model_validate({"from": date.min, "threshold": threshold, "quota": quota})]}
        )
    records, owner = [], []
    for c, cand in enumerate(candidates):
        for facts in cand.parents if cand.parents is not None else [cand.facts]:
            records.append(facts or {})
            owner.append(c)
    result = evaluate_module(module, rule_sets, Population.from_records(records), cut_off, np.array(owner))
    ranking = []
    for c, cand in enumerate(candidates):
        doc = result.candidate(c)
        row = doc.pop("counted_row")
        doc.pop("lines")
        if cand.parents is not None:
            doc["counted_parent"] = row - owner.index(c) if doc["eligible"] else None
        ranking.append({"id": cand.id, **doc})
    ranking.sort(key=lambda d: (d["rank"] is None, d["rank"] or 0))
    return module, result, ranking
