"""Intake's event handlers: they keep the status read model and timeline up to date.

Nothing here reads what it writes, so every write goes to the store's deferred intents, run at
the batch's commit once per statement for the whole batch (see store.py).
"""

from __future__ import annotations

from shared.db import UnitOfWork
from shared.events import Envelope
from shared.events.catalogue import NoticePublished, ScoreComputed, VerificationCompleted, VerificationsCompleted

FORGERY = "forged materials"  # the reason of a bar when scoring gives none


def _on_timeline(uow: UnitOfWork, event: Envelope, summary: dict) -> None:
    uow.store.note_on_timeline(
        {
            "application_id": event.subject,
            "at": event.occurred_at,
            "event_type": event.type,
            "source": event.source,
            "summary": summary,
        }
    )


async def on_verification_completed(
    uow: UnitOfWork, event: Envelope, data: VerificationCompleted | VerificationsCompleted
) -> None:
    # One department's answer, or several departments' together: each on the timeline as its own.
    for answer in data.each():
        for i in answer.items:
            uow.store.set_item_state(answer.application_id, i.indicator, answer.department, i.state, i.reason)
        items = {i.indicator: i.state for i in answer.items}
        _on_timeline(uow, event, {"department": answer.department, "items": items})
    uow.store.mark_verifying(data.application_id)


async def on_score_computed(uow: UnitOfWork, event: Envelope, data: ScoreComputed) -> None:
    uow.store.set_score(
        data.application_id,
        version=data.score_version,
        status=data.status,
        total=data.total,
        rule_set_id=data.rule_set_id,
    )
    if data.barred_until is not None:
        uow.store.bar_holder(data.application_id, data.barred_until, data.reason or FORGERY)
    _on_timeline(uow, event, {"score_version": data.score_version, "status": data.status, "total": data.total})


async def on_notice_published(uow: UnitOfWork, event: Envelope, data: NoticePublished) -> None:
    uow.store.set_notice(data.application_id, data.url)
    _on_timeline(uow, event, {"notice_id": data.notice_id, "period_end": data.period_end.isoformat()})


HANDLERS = {
    "verification.completed": on_verification_completed,
    "score.computed": on_score_computed,
    "notice.published": on_notice_published,
}
