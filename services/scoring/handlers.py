"""Scoring's event handler: wait for every expected department, then score once."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.scoring import domain
from services.scoring.engine.rules import RuleSet
from services.scoring.tables import received, scores
from shared.db import UnitOfWork
from shared.events import Envelope
from shared.events.catalogue import Holder, ScoreComputed, VerificationCompleted


# Built once: see the intake handlers on statement cost.
ADD_ANSWER = pg_insert(received).on_conflict_do_nothing()
# Locks the application's answers: two replicas in a rebalance cannot both score it.
ANSWERS = (select(received).where(received.c.application_id == bindparam("app"))
           .order_by(received.c.department).with_for_update())
SCORED = select(func.count()).select_from(scores).where(scores.c.application_id == bindparam("app"))
ADD_SCORE = insert(scores)


def make_handlers(rule_sets: dict[str, RuleSet]):
    async def on_verification_completed(uow: UnitOfWork, event: Envelope, data: VerificationCompleted) -> None:
        await uow.conn.execute(ADD_ANSWER, dict(
            application_id=data.application_id, department=data.department,
            expected_departments=data.expected_departments, cut_off_date=data.cut_off_date,
            holder=data.holder.model_dump(), items=[i.model_dump() for i in data.items], facts=data.facts))
        answers = [dict(r._mapping) for r in (await uow.conn.execute(ANSWERS, {"app": data.application_id})).all()]
        if not domain.all_answered(data.expected_departments, {a["department"] for a in answers}):
            return
        if await uow.conn.scalar(SCORED, {"app": data.application_id}):
            return  # already scored from these answers
        explanation = domain.score_application(rule_sets, data.cut_off_date, answers)
        police = next((a for a in answers if a["department"] == "police"), answers[0])
        holder = Holder.model_validate(police["holder"])
        now = datetime.now(timezone.utc)
        uow.later(ADD_SCORE, dict(
            application_id=data.application_id, version=1, status=explanation["status"], total=explanation["total"],
            rule_set_id=explanation["rule_set_id"], rule_set_hash=explanation["rule_set_hash"],
            cut_off_date=data.cut_off_date, holder=holder.model_dump(), explanation=explanation, computed_at=now))
        uow.emit(Envelope.new(ScoreComputed(
            application_id=data.application_id, score_version=1, holder=holder, status=explanation["status"],
            reason=explanation["reason"], rule_set_id=explanation["rule_set_id"],
            rule_set_hash=explanation["rule_set_hash"], cut_off_date=data.cut_off_date, total=explanation["total"],
            categories=explanation["categories"], lines=explanation["lines"], computed_at=now),
            source="scoring", subject=data.application_id))

    return {"verification.completed": on_verification_completed}
