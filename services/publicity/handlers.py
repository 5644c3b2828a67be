"""Publicity's event handler: open a notice for each scored application."""
from __future__ import annotations

from datetime import date

from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.publicity import domain
from services.publicity.tables import notices
from shared.db import UnitOfWork
from shared.events import Envelope
from shared.events.catalogue import NoticePublished, ScoreComputed
from shared.settings import Settings


# Built once: see the intake handlers on statement cost.
ADD_NOTICE = pg_insert(notices).on_conflict_do_nothing().returning(notices.c.id)


def make_handlers(settings: Settings):
    async def on_score_computed(uow: UnitOfWork, event: Envelope, data: ScoreComputed) -> None:
        if data.status != "scored":
            return  # a void or paused score is not put on notice
        today = date.today()
        start, end = domain.notice_period(today, settings.notice_period_working_days)
        name, id_masked = domain.masked_holder(data.holder.name, data.holder.id_number)
        notice_id = domain.new_notice_id(today)
        inserted = (await uow.conn.execute(ADD_NOTICE, dict(
            id=notice_id, application_id=data.application_id, score_version=data.score_version,
            holder_name_masked=name, id_number_masked=id_masked, total=data.total, categories=data.categories,
            lines=domain.public_lines([l.model_dump() for l in data.lines]), rule_set_id=data.rule_set_id,
            period_start=start, period_end=end))).first()
        if inserted is None:
            return
        uow.emit(Envelope.new(NoticePublished(
            notice_id=notice_id, application_id=data.application_id, score_version=data.score_version,
            total=data.total, status=data.status, url=f"{settings.publicity_base_url}/notices/{notice_id}",
            period_start=start, period_end=end), source="publicity", subject=data.application_id))

    return {"score.computed": on_score_computed}
