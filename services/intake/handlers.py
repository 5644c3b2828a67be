"""Intake's event handlers: they keep the status read model and timeline up to date."""
from __future__ import annotations

from sqlalchemy import func, insert, update

from services.intake import domain
from services.intake.tables import application_items, applications, timeline
from shared.db import UnitOfWork
from shared.events import Envelope
from shared.events.catalogue import NoticePublished, ScoreComputed, VerificationCompleted


async def _timeline(uow: UnitOfWork, event: Envelope, summary: dict) -> None:
    await uow.conn.execute(insert(timeline).values(application_id=event.subject, at=event.occurred_at,
                                                   event_type=event.type, source=event.source, summary=summary))


async def on_verification_completed(uow: UnitOfWork, event: Envelope, data: VerificationCompleted) -> None:
    for item in data.items:
        await uow.conn.execute(update(application_items).where(
            application_items.c.application_id == data.application_id, application_items.c.indicator == item.indicator,
        ).values(state=item.state, reason=item.reason, updated_at=func.now()))
    await uow.conn.execute(update(applications).where(
        applications.c.id == data.application_id, applications.c.status == "submitted").values(status="verifying",
                                                                                              updated_at=func.now()))
    await _timeline(uow, event, {"department": data.department,
                                 "items": {i.indicator: i.state for i in data.items}})


async def on_score_computed(uow: UnitOfWork, event: Envelope, data: ScoreComputed) -> None:
    # Versions only move forward: a late redelivery of version 1 never hides version 2.
    await uow.conn.execute(update(applications).where(
        applications.c.id == data.application_id,
        func.coalesce(applications.c.score_version, 0) < data.score_version,
    ).values(status=domain.status_after_score(data.status), score_version=data.score_version,
             score_status=data.status, score_total=data.total, rule_set_id=data.rule_set_id, updated_at=func.now()))
    await _timeline(uow, event, {"score_version": data.score_version, "status": data.status, "total": data.total})


async def on_notice_published(uow: UnitOfWork, event: Envelope, data: NoticePublished) -> None:
    await uow.conn.execute(update(applications).where(applications.c.id == data.application_id)
                           .values(notice_url=data.url, updated_at=func.now()))
    await _timeline(uow, event, {"notice_id": data.notice_id, "period_end": data.period_end.isoformat()})


HANDLERS = {
    "verification.completed": on_verification_completed,
    "score.computed": on_score_computed,
    "notice.published": on_notice_published,
}
