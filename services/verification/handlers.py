"""Department verifiers: one consumer group per department, each answering for its own items."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.verification import audit, domain
from services.verification.registries import SqlRegistries
from services.verification.tables import results
from shared.db import UnitOfWork
from shared.events import Envelope
from shared.events.catalogue import ApplicationSubmitted, Holder, VerificationCompleted


ADD_RESULT = pg_insert(results).on_conflict_do_nothing()


def make_handlers(department: str, registries: SqlRegistries):
    requester = f"verifier:{department}"

    async def on_application_submitted(uow: UnitOfWork, event: Envelope, data: ApplicationSubmitted) -> None:
        if department not in data.expected_departments:
            return
        holder = data.holder
        if department == "police":
            permit, residence = await registries.police(uow.conn, holder.permit_number, holder.id_number, data.cut_off_date)
            answer = domain.police_answer(holder.id_number, holder.permit_number, permit, residence, data.cut_off_date)
            queries = [("permit", {"permit_number": holder.permit_number}, answer.facts["permit_status"]),
                       ("residence", {"id_number": holder.id_number, "before": data.cut_off_date.isoformat()},
                        answer.facts["residence_spans"])]
        else:
            spans = await registries.social_insurance(uow.conn, holder.id_number, data.cut_off_date)
            answer = domain.social_insurance_answer(spans)
            queries = [("social_insurance", {"id_number": holder.id_number, "before": data.cut_off_date.isoformat()},
                        answer.facts["social_insurance_spans"])]
        await audit.append(uow, department, data.application_id, requester, queries)
        now = datetime.now(timezone.utc)
        uow.later(ADD_RESULT, dict(
            application_id=data.application_id, department=department, items=answer.items, facts=answer.facts,
            verified_at=now))
        uow.emit(Envelope.new(VerificationCompleted(
            application_id=data.application_id, department=department,  # type: ignore[arg-type]
            expected_departments=data.expected_departments, cut_off_date=data.cut_off_date,
            holder=Holder(name=answer.holder_name or holder.name, id_number=holder.id_number,
                          permit_number=holder.permit_number),
            items=answer.items, facts=answer.facts, verified_at=now), source="verification", subject=data.application_id))

    return {"application.submitted": on_application_submitted}
