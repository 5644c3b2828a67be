"""Scoring's event handler: wait for every expected department, then score; new facts, new version.

The handler only decides *that* an application is to be scored; the scoring itself runs
once per consumer batch, just before commit, over every application the batch completed.
"""
from __future__ import annotations

import zlib
from collections import defaultdict
from datetime import date, datetime, timezone

from sqlalchemy import and_, bindparam, exists, func, insert, select, union, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.scoring import domain
from services.scoring.engine.modules import Module
from services.scoring.engine.rules import RuleSet
from services.scoring.tables import applications, received, scores, withdrawn
from shared.calendar import CalendarYearUnknown, add_working_days
from shared.logging import get_logger
from shared.db import UnitOfWork
from shared.events import Envelope
from shared.events.catalogue import (ApplicationSubmitted, ApplicationWithdrawn, HolderRef, ScoreComputed,
                                     VerificationCompleted)
from shared.pseudonyms import holder_key
from shared.settings import get_settings

# Built once: see the intake handlers on statement cost.
ADD_ANSWER = insert(received)
# A re-verification (after an objection, or a supplemented item) replaces the department's answer.
REPLACE_ANSWER = (update(received)
                  .where(received.c.application_id == bindparam("app"), received.c.department == bindparam("dept"))
                  .values(holder=bindparam("holder"), items=bindparam("items"), facts=bindparam("facts"),
                          received_at=func.now()))
# Locks the application's answers: two replicas in a rebalance cannot both score it.
ANSWERS = (select(received).where(received.c.application_id == bindparam("app"))
           .order_by(received.c.department).with_for_update())
LATEST_VERSION = select(func.max(scores.c.version)).where(scores.c.application_id == bindparam("app"))
ADD_SCORE = insert(scores)
ADD_WITHDRAWN = pg_insert(withdrawn).on_conflict_do_nothing()
IS_WITHDRAWN = select(withdrawn.c.application_id).where(withdrawn.c.application_id == bindparam("app"))
REVIEW_WORKING_DAYS = 15
log = get_logger("scoring")
SWEEP_LOCK = select(func.pg_try_advisory_xact_lock(zlib.crc32(b"scoring:overdue-sweep")))
# Applications never scored, not withdrawn, whose review deadline passed with a department silent:
# those intake announced (even if no department ever answered), and those known only from an answer
# (announced before scoring kept applications).
_UNSCORED = [~exists().where(scores.c.application_id == applications.c.application_id),
             ~exists().where(withdrawn.c.application_id == applications.c.application_id)]
_ANSWERS_OF_APP = (select(func.count()).where(received.c.application_id == applications.c.application_id)
                   .scalar_subquery())
OVERDUE = union(
    select(applications.c.application_id)
    .where(applications.c.review_deadline < bindparam("today"), *_UNSCORED,
           _ANSWERS_OF_APP < func.jsonb_array_length(applications.c.expected_departments)),
    select(received.c.application_id)
    .where(~exists().where(scores.c.application_id == received.c.application_id),
           ~exists().where(withdrawn.c.application_id == received.c.application_id))
    .group_by(received.c.application_id)
    .having(and_(func.min(received.c.review_deadline) < bindparam("today"),
                 func.count() < func.max(func.jsonb_array_length(received.c.expected_departments)))),
).limit(bindparam("limit"))
ADD_APPLICATION = pg_insert(applications).on_conflict_do_nothing()
# The sweep holds the application while it decides. (A consumer scoring the same one at that moment
# meets the scores' primary key on (application, version): one of the two transactions retries.)
APPLICATION = select(applications).where(applications.c.application_id == bindparam("app")).with_for_update()


def _review_deadline(applied_on: date | None) -> date | None:
    if applied_on is None:
        return None
    try:
        return add_working_days(applied_on, REVIEW_WORKING_DAYS)
    except CalendarYearUnknown as exc:
        # No guessed deadline: the overdue sweep leaves this application alone until the calendar is known.
        log.warning("review deadline unknown", applied_on=applied_on.isoformat(), error=str(exc))
        return None


def _module_scores(explanation: dict) -> dict[str, dict]:
    return {m: {"total": doc["total"], "module_points": doc["module_points"], "eligible": doc["eligible"],
                "sort_key": doc["sort_key"]} for m, doc in explanation.get("modules", {}).items()}


def _public_line(line: dict) -> dict:
    """An explanation line for the bus: points and labels; the facts themselves stay in scoring
    (readable at /v1/scores), so personal data does not travel further than it must."""
    return {k: v for k, v in line.items() if k not in ("fact", "fact_value")}


def make_handlers(rule_sets: dict[str, RuleSet], modules: dict[str, Module] | None = None):
    """The consumer's event handlers, and the overdue sweep (run periodically by the app)."""
    async def score_pending(uow: UnitOfWork) -> None:
        pending: dict[str, dict] = uow.memo.pop("to_score", {})
        by_cut_off = defaultdict(list)
        for job in pending.values():
            by_cut_off[job["cut_off"]].append(job)
        now = datetime.now(timezone.utc)
        for cut_off, jobs in by_cut_off.items():
            explanations = domain.score_applications(rule_sets, cut_off, [j["answers"] for j in jobs], modules)
            for job, explanation in zip(jobs, explanations):
                app, version, holder = job["app"], job["version"], job["holder"]
                uow.later(ADD_SCORE, dict(
                    application_id=app, version=version, status=explanation["status"], total=explanation["total"],
                    rule_set_id=explanation["rule_set_id"], rule_set_hash=explanation["rule_set_hash"],
                    cut_off_date=cut_off, holder=holder.model_dump(), explanation=explanation, computed_at=now))
                uow.emit(Envelope.new(ScoreComputed(
                    application_id=app, score_version=version, holder=holder, status=explanation["status"],
                    reason=explanation["reason"], barred_until=explanation.get("barred_until"),
                    rule_set_id=explanation["rule_set_id"], rule_set_hash=explanation["rule_set_hash"],
                    cut_off_date=cut_off, total=explanation["total"], categories=explanation["categories"],
                    lines=[_public_line(line) for line in explanation["lines"]], computed_at=now,
                    modules=_module_scores(explanation), answers_to=job["answers_to"]),
                    source="scoring", subject=app))

    async def on_verification_completed(uow: UnitOfWork, event: Envelope, data: VerificationCompleted) -> None:
        app = data.application_id
        deadline = _review_deadline(data.applied_on)
        answer = {"application_id": app, "department": data.department,
                  "expected_departments": data.expected_departments, "cut_off_date": data.cut_off_date,
                  "holder": data.holder.model_dump(), "items": [i.model_dump() for i in data.items], "facts": data.facts,
                  "review_deadline": deadline}
        answers = uow.memo.get(f"answers:{app}")
        if answers is None:
            answers = {r.department: dict(r._mapping) for r in (await uow.conn.execute(ANSWERS, {"app": app})).all()}
        prior = answers.get(data.department)
        if prior is None:
            await uow.conn.execute(ADD_ANSWER, answer)
        elif (prior["facts"], prior["items"]) != (answer["facts"], answer["items"]):
            await uow.conn.execute(REPLACE_ANSWER, {"app": app, "dept": data.department, "holder": answer["holder"],
                                                    "items": answer["items"], "facts": answer["facts"]})
        elif data.in_answer_to is None:
            return  # the same answer again: nothing new to score
        # (A re-verification's answer is scored even when nothing changed: the objection gets its outcome.)
        answers[data.department] = answer
        uow.memo[f"answers:{app}"] = answers
        # Everyone has answered, or the review deadline has passed (then the silent score 0 for now).
        if domain.all_answered(data.expected_departments, set(answers)) or _past_deadline(answers):
            answers_to = [{"request_id": data.in_answer_to, "department": data.department}] if data.in_answer_to else []
            await schedule(uow, app, answers, data.expected_departments, data.cut_off_date, answers_to)

    async def schedule(uow: UnitOfWork, app: str, answers: dict[str, dict], expected: list[str], cut_off,
                       answers_to: list[dict[str, str]] | None = None, holder: HolderRef | None = None) -> None:
        if await uow.conn.scalar(IS_WITHDRAWN, {"app": app}) or app in uow.memo.get("withdrawn", set()):
            return  # withdrawn before it was scored
        # Versions this transaction already decided are not in the table until commit.
        memo_key = f"score_version:{app}"
        latest = uow.memo.get(memo_key) or await uow.conn.scalar(LATEST_VERSION, {"app": app}) or 0
        uow.memo[memo_key] = latest + 1
        if answers:  # the holder as the departments know them (police first); else as submitted
            holder = HolderRef.model_validate(answers.get("police", answers[min(answers)])["holder"])
        if holder is None:
            raise ValueError(f"{app}: no department answered and no holder was given")
        ordered = [answers[d] for d in sorted(answers)] + domain.overdue_answers(expected, set(answers))
        # Two changes to one application in a batch: the later answers make the next version.
        uow.memo.setdefault("to_score", {})[f"{app}:{latest + 1}"] = {
            "app": app, "version": latest + 1, "cut_off": cut_off, "answers": ordered, "holder": holder,
            "answers_to": answers_to or []}
        uow.before_commit("score", lambda: score_pending(uow))

    async def sweep_overdue(uow: UnitOfWork, today: date, limit: int = 200) -> int:
        """Score the applications some department left unanswered past their review deadline:
        one slow department never stalls a round. Run now and then; one sweeper at a time."""
        if not await uow.conn.scalar(SWEEP_LOCK):
            return 0
        overdue = (await uow.conn.execute(OVERDUE, {"today": today, "limit": limit})).scalars().all()
        for app in overdue:
            submitted = (await uow.conn.execute(APPLICATION, {"app": app})).first()
            answers = {r.department: dict(r._mapping) for r in (await uow.conn.execute(ANSWERS, {"app": app})).all()}
            # Locked now; a consumer may have scored it (with an answer this query could not see) meanwhile.
            if await uow.conn.scalar(LATEST_VERSION, {"app": app}):
                continue
            if submitted is not None:
                await schedule(uow, app, answers, submitted.expected_departments, submitted.cut_off_date,
                               holder=HolderRef.model_validate(submitted.holder))
            else:
                first = answers[min(answers)]
                await schedule(uow, app, answers, first["expected_departments"], first["cut_off_date"])
        return len(overdue)

    async def on_application_submitted(uow: UnitOfWork, event: Envelope, data: ApplicationSubmitted) -> None:
        # Kept whether or not any department ever answers: who may read the score, and the deadline.
        # The holder by key and masked forms only (an event from before intake sent the key: derived here).
        holder = data.holder.ref()
        if holder.key is None:
            holder.key = holder_key(data.holder.id_number, get_settings().candidate_key_salt)
        uow.later(ADD_APPLICATION, {
            "application_id": data.application_id, "principal": data.principal, "holder": holder.model_dump(),
            "expected_departments": data.expected_departments, "applied_on": data.applied_on,
            "cut_off_date": data.cut_off_date, "review_deadline": _review_deadline(data.applied_on)})

    async def on_application_withdrawn(uow: UnitOfWork, event: Envelope, data: ApplicationWithdrawn) -> None:
        uow.memo.setdefault("withdrawn", set()).add(data.application_id)
        uow.later(ADD_WITHDRAWN, {"application_id": data.application_id, "withdrawn_at": data.withdrawn_at})

    return {"application.submitted": on_application_submitted,
            "verification.completed": on_verification_completed,
            "application.withdrawn": on_application_withdrawn}, sweep_overdue


def _past_deadline(answers: dict[str, dict]) -> bool:
    deadlines = [a.get("review_deadline") for a in answers.values() if a.get("review_deadline")]
    return bool(deadlines) and date.today() > min(deadlines)
