"""Intake's event handlers: they keep the status read model and timeline up to date.

Statements are built once at import and executed with parameters: on the consumer's hot
path, building a SQLAlchemy statement per event cost more CPU than running it. Nothing here
reads what it writes, so every write is deferred to the batch's commit (`uow.later`), where
each statement runs once for the whole batch.
"""
from __future__ import annotations

from sqlalchemy import Date, String, bindparam, case, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.intake.tables import application_items, applications, holder_bars, timeline
from shared.db import UnitOfWork
from shared.events import Envelope
from shared.events.catalogue import NoticePublished, ScoreComputed, VerificationCompleted

ADD_TIMELINE = insert(timeline)
# Items have no row until a department answers (until then they read as pending).
SET_ITEM = pg_insert(application_items)
# The time only moves when the state does: a supplement deadline counts from the return itself,
# not from a later answer that repeats it.
SET_ITEM = SET_ITEM.on_conflict_do_update(
    index_elements=[application_items.c.application_id, application_items.c.indicator],
    set_={"state": SET_ITEM.excluded.state, "reason": SET_ITEM.excluded.reason,
          "updated_at": case((application_items.c.state != SET_ITEM.excluded.state, func.now()),
                             else_=application_items.c.updated_at)})
MARK_VERIFYING = (update(applications)
                  .where(applications.c.id == bindparam("app"), applications.c.status == "submitted")
                  .values(status="verifying", updated_at=func.now()))
# Versions only move forward: a late redelivery of version 1 never hides version 2.
SET_SCORE = (update(applications)
             .where(applications.c.id == bindparam("app"), applications.c.status != "withdrawn",
                    func.coalesce(applications.c.score_version, 0) < bindparam("version"))
             .values(status=bindparam("status"), score_version=bindparam("version"), score_status=bindparam("score_status"),
                     score_total=bindparam("total"), rule_set_id=bindparam("rule_set"), updated_at=func.now()))
# A later bar never shortens an earlier one. The holder is found by the application: the bus
# carries no ID number downstream of the departments, and intake knows its own applicants.
BAR_HOLDER = pg_insert(holder_bars).from_select(
    ["holder_id_number", "barred_until", "reason", "application_id"],
    select(applications.c.holder_id_number, bindparam("barred_until", type_=Date),
           bindparam("reason", type_=String), applications.c.id).where(applications.c.id == bindparam("app")))
BAR_HOLDER = BAR_HOLDER.on_conflict_do_update(
    index_elements=[holder_bars.c.holder_id_number],
    set_={"barred_until": func.greatest(holder_bars.c.barred_until, BAR_HOLDER.excluded.barred_until),
          "reason": BAR_HOLDER.excluded.reason, "application_id": BAR_HOLDER.excluded.application_id})
SET_NOTICE = (update(applications).where(applications.c.id == bindparam("app"))
              .values(notice_url=bindparam("url"), updated_at=func.now()))


def _timeline(uow: UnitOfWork, event: Envelope, summary: dict) -> None:
    uow.later(ADD_TIMELINE, {"application_id": event.subject, "at": event.occurred_at,
                             "event_type": event.type, "source": event.source, "summary": summary})


async def on_verification_completed(uow: UnitOfWork, event: Envelope, data: VerificationCompleted) -> None:
    for i in data.items:
        uow.later(SET_ITEM, {"application_id": data.application_id, "indicator": i.indicator,
                             "department": data.department, "state": i.state, "reason": i.reason})
    uow.later(MARK_VERIFYING, {"app": data.application_id})
    _timeline(uow, event, {"department": data.department, "items": {i.indicator: i.state for i in data.items}})


async def on_score_computed(uow: UnitOfWork, event: Envelope, data: ScoreComputed) -> None:
    uow.later(SET_SCORE, {"app": data.application_id, "version": data.score_version,
                          "status": data.status, "score_status": data.status,
                          "total": data.total, "rule_set": data.rule_set_id})
    if data.barred_until is not None:
        uow.later(BAR_HOLDER, {"app": data.application_id, "barred_until": data.barred_until,
                               "reason": data.reason or "forged materials"})
    _timeline(uow, event, {"score_version": data.score_version, "status": data.status, "total": data.total})


async def on_notice_published(uow: UnitOfWork, event: Envelope, data: NoticePublished) -> None:
    uow.later(SET_NOTICE, {"app": data.application_id, "url": data.url})
    _timeline(uow, event, {"notice_id": data.notice_id, "period_end": data.period_end.isoformat()})


HANDLERS = {
    "verification.completed": on_verification_completed,
    "score.computed": on_score_computed,
    "notice.published": on_notice_published,
}
