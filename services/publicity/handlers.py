"""Publicity's event handlers: learn who applied for which module, put each score on notice,
notify the applicant, answer objections, and re-rank lists when a score changes."""
from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.publicity import domain, objections, rounds
from services.publicity.tables import applicants, notices, notifications, scores
from shared.db import UnitOfWork
from shared.events import Envelope
from shared.events.catalogue import (ApplicationSubmitted, ApplicationWithdrawn, FamilyMember, Holder, NoticePublished,
                                     ScoreComputed)
from shared.settings import Settings

# Built once: see the intake handlers on statement cost.
ADD_NOTICE = pg_insert(notices).on_conflict_do_nothing().returning(notices.c.id)
ADD_NOTIFICATION = pg_insert(notifications).on_conflict_do_nothing()
ADD_APPLICANT = pg_insert(applicants).on_conflict_do_nothing()
_score = pg_insert(scores)
# An older version arriving late (a replay) never overwrites a newer one.
PUT_SCORE = _score.on_conflict_do_update(
    index_elements=[scores.c.application_id],
    set_={c: _score.excluded[c] for c in ("version", "status", "total", "modules", "lines", "computed_at")},
    where=scores.c.version < _score.excluded.version).returning(scores.c.version)


def make_handlers(settings: Settings):
    def key_of(person: Holder | FamilyMember) -> str:
        # Intake sends the key; an event from before it did has the number to derive it from.
        return person.key or domain.candidate_key(person.id_number, settings.candidate_key_salt)

    async def on_application_submitted(uow: UnitOfWork, event: Envelope, data: ApplicationSubmitted) -> None:
        # Masked by intake: publicity never sees a full name.
        holder = data.holder
        child = next((m for m in data.family if m.relation == "child"), None) \
            if data.intent == "school_enrolment" else None
        await uow.conn.execute(ADD_APPLICANT, dict(
            application_id=data.application_id, holder_key=key_of(holder),
            holder_name_masked=holder.name_masked, holder_id_masked=holder.id_number_masked,
            child_key=key_of(child) if child else None,
            child_name_masked=child.name_masked if child else None,
            child_id_masked=child.id_number_masked if child else None, modules=data.modules,
            applied_on=data.applied_on, contact_phone=data.contact_phone))

    async def on_application_withdrawn(uow: UnitOfWork, event: Envelope, data: ApplicationWithdrawn) -> None:
        await uow.conn.execute(update(applicants).where(applicants.c.application_id == data.application_id)
                               .values(withdrawn_at=data.withdrawn_at))

    async def on_score_computed(uow: UnitOfWork, event: Envelope, data: ScoreComputed) -> None:
        app = data.application_id
        lines = domain.public_lines([l.model_dump() for l in data.lines])
        newer = (await uow.conn.execute(PUT_SCORE, dict(
            application_id=app, version=data.score_version, status=data.status, total=data.total,
            modules={m: s.model_dump() for m, s in data.modules.items()}, lines=lines,
            computed_at=data.computed_at))).first()
        if newer is None:
            return  # an older version, replayed: the newer one already counts
        await objections.take_answers(uow, data.answers_to, data.total, data.status)
        await rounds.rescore(uow, app)
        period = None
        if data.status == "scored":
            period = await _put_on_notice(uow, data, lines)
        phone = await uow.conn.scalar(applicants.select().with_only_columns(applicants.c.contact_phone)
                                      .where(applicants.c.application_id == app))
        await uow.conn.execute(ADD_NOTIFICATION, dict(
            application_id=app, score_version=data.score_version, phone=phone,
            body=domain.notification_text(app, data.status, data.total, data.reason, period)))

    async def _put_on_notice(uow: UnitOfWork, data: ScoreComputed, lines: list[dict]):
        today = date.today()
        start, end = domain.notice_period(today, settings.notice_period_working_days)
        notice_id = domain.new_notice_id(today)
        inserted = (await uow.conn.execute(ADD_NOTICE, dict(
            id=notice_id, application_id=data.application_id, score_version=data.score_version,
            holder_name_masked=data.holder.name_masked, id_number_masked=data.holder.id_number_masked, total=data.total, categories=data.categories,
            lines=lines, rule_set_id=data.rule_set_id, period_start=start, period_end=end))).first()
        if inserted is not None:
            uow.emit(Envelope.new(NoticePublished(
                notice_id=notice_id, application_id=data.application_id, score_version=data.score_version,
                total=data.total, status=data.status, url=f"{settings.publicity_base_url}/notices/{notice_id}",
                period_start=start, period_end=end), source="publicity", subject=data.application_id))
        return start, end

    return {"application.submitted": on_application_submitted, "application.withdrawn": on_application_withdrawn,
            "score.computed": on_score_computed}
