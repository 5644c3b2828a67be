"""Department verifiers: one consumer group per department, each answering for its own items.

A department answers an application from its registry at once; a supplemented item goes to
its officers' review desk (see review.py), whose decision answers again.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.verification import audit, departments, domain
from services.verification.registries import SqlRegistries
from services.verification.registries_http import HttpRegistries
from services.verification.tables import results, review_tasks
from shared.db import UnitOfWork
from shared.events import Envelope
from shared.departments import ITEMS_BY_DEPARTMENT
from shared.events.catalogue import ApplicationSubmitted, Delegation, Holder, MaterialAdded, ReverificationRequested

ADD_RESULT = pg_insert(results).on_conflict_do_nothing()
ADD_TASK = pg_insert(review_tasks).on_conflict_do_nothing()
RESULT_FOR_UPDATE = (select(results).where(results.c.application_id == bindparam("app"),
                                           results.c.department == bindparam("dept")).with_for_update())
UPDATE_RESULT = (update(results).where(results.c.application_id == bindparam("app"), results.c.department == bindparam("dept"))
                 .values(items=bindparam("items"), facts=bindparam("facts"), verified_at=bindparam("verified_at")))


def _as_dict(delegation: Delegation | None) -> dict | None:
    return None if delegation is None else delegation.model_dump()


def make_handlers(department: str, registries: SqlRegistries | HttpRegistries):
    requester = f"verifier:{department}"

    async def police(uow: UnitOfWork, data: ApplicationSubmitted) -> tuple[domain.Answer, list]:
        holder, delegation = data.holder, _as_dict(data.delegation)
        permit, residence = await registries.police(uow.conn, holder.permit_number, holder.id_number, data.cut_off_date)
        answer = domain.police_answer(holder.id_number, holder.permit_number, permit, residence, data.cut_off_date)
        records = await registries.records(uow.conn, "police_records", holder.id_number, data.cut_off_date)
        offences = departments.police_records(records, {})
        answer.items += offences.items
        answer.facts.update(offences.facts)
        queries = [("permit", {"permit_number": holder.permit_number}, answer.facts["permit_status"]),
                   ("residence", {"id_number": holder.id_number, "before": data.cut_off_date.isoformat()},
                    answer.facts["residence_spans"]),
                   ("offences", {"id_number": holder.id_number, "before": data.cut_off_date.isoformat()},
                    records["offences"])]
        if delegation and delegation.get("relation") != "employer" and delegation.get("representative"):
            representative = delegation["representative"]["id_number"]
            registered, disabled = await registries.relation(uow.conn, holder.id_number, representative, data.applied_on)
            answer.items.append(domain.relation_item(delegation, registered, disabled, holder.id_number, data.applied_on))
            queries.append(("household_relation", {"id_number": holder.id_number, "relative": representative,
                                                   "grounds": delegation["grounds"]},
                            {"relations": registered, "disability_certificate": disabled}))
        return answer, queries

    async def social_insurance(uow: UnitOfWork, data: ApplicationSubmitted) -> tuple[domain.Answer, list]:
        holder, delegation = data.holder, _as_dict(data.delegation)
        spans = await registries.social_insurance(uow.conn, holder.id_number, data.cut_off_date)
        answer = domain.social_insurance_answer(spans, data.applied_on)
        queries = [("social_insurance", {"id_number": holder.id_number, "before": data.cut_off_date.isoformat()},
                    answer.facts["social_insurance_spans"])]
        if delegation and delegation.get("relation") == "employer":
            item = domain.employment_item(delegation, spans, data.applied_on)
            answer.items.append(item)
            queries.append(("employment", {"id_number": holder.id_number,
                                           "employer_credit_code": delegation["employer_credit_code"]},
                            {"current": item["state"] == "passed"}))
        return answer, queries

    async def from_records(uow: UnitOfWork, data: ApplicationSubmitted) -> tuple[domain.Answer, list]:
        lookup, answer_of = departments.ANSWERS[department]
        holder = data.holder.id_number
        people = [holder, *(m.id_number for m in data.family)]  # housing: the family's homes count too
        records = await registries.records(uow.conn, lookup, holder, data.cut_off_date, people)
        answer = answer_of(records, {"cut_off_date": data.cut_off_date.isoformat()})
        query = {"id_number": holder, "before": data.cut_off_date.isoformat()}
        return answer, [(name, {**query, "people": people} if lookup == "housing" else query, rows)
                        for name, rows in records.items()]

    look_up = {"police": police, "social_insurance": social_insurance}.get(department, from_records)

    async def look_again(uow: UnitOfWork, data: ApplicationSubmitted, purpose: str) -> tuple[domain.Answer, Holder]:
        """Look the application's facts up in the registries, on the audit record with its purpose.
        Returns the answer and the holder as the registries know them (the police: the permit's name)."""
        answer, queries = await look_up(uow, data)
        domain.note_declared(answer, data.declared_facts)
        await audit.append(uow, department, data.application_id, f"{requester} ({purpose})", queries)
        return answer, domain.registered_holder(data.holder, answer)

    async def on_application_submitted(uow: UnitOfWork, event: Envelope, data: ApplicationSubmitted) -> None:
        if department not in data.expected_departments:
            return
        answer, holder = await look_again(uow, data, "application")
        now = datetime.now(timezone.utc)
        # Kept whole: a later decision or re-verification answers from the same question.
        context = data.model_copy(update={"holder": holder}).model_dump(mode="json")
        uow.later(ADD_RESULT, dict(application_id=data.application_id, department=department, items=answer.items,
                                   facts=answer.facts, verified_at=now, context=context))
        uow.emit(domain.completed(data, department, holder.ref(), answer.items, answer.facts, now))

    async def on_reverification_requested(uow: UnitOfWork, event: Envelope, data: ReverificationRequested) -> None:
        """After an objection: look the facts up again and answer again (a new result, audited as such)."""
        if not set(data.items) & set(ITEMS_BY_DEPARTMENT[department]):
            return  # none of the items in question is this department's
        result = (await uow.conn.execute(RESULT_FOR_UPDATE, {"app": data.application_id, "dept": department})).first()
        if result is None or result.context is None:
            return  # never asked of this department: nothing to verify again
        submitted = ApplicationSubmitted.model_validate(result.context)
        fresh, holder = await look_again(uow, submitted, f"re-verification: {data.reason}"[:80])
        # Only the items in question are looked at again: the others, and every officer's decision
        # on them (a confirmation, a forgery), stand.
        asked = set(data.items)
        items = [next((i for i in fresh.items if i["indicator"] == kept["indicator"]), kept)
                 if kept["indicator"] in asked and kept["state"] != "forged" else kept for kept in result.items]
        renewed = {fact for item in asked for fact in departments.FACTS_OF_ITEM.get(item, ())}
        facts = {**result.facts, **{k: v for k, v in fresh.facts.items() if k in renewed}}
        now = datetime.now(timezone.utc)
        uow.later(UPDATE_RESULT, {"app": data.application_id, "dept": department, "items": items, "facts": facts,
                                  "verified_at": now})
        uow.emit(domain.completed(submitted, department, holder.ref(), items, facts, now, in_answer_to=data.request_id))

    async def on_material_added(uow: UnitOfWork, event: Envelope, data: MaterialAdded) -> None:
        if data.department != department or not data.supplement:
            return  # evidence for items no registry holds reaches the desk with the manual-review work
        uow.later(ADD_TASK, dict(department=department, application_id=data.application_id, indicator=data.indicator,
                                 material=data.material.model_dump(), material_id=data.material.id,
                                 deadline=data.supplement_deadline, state="pending"))
        # The department's own record shows the item in review too: a decision on another item,
        # which answers with all of them, must not hand this one back as returned.
        result = (await uow.conn.execute(RESULT_FOR_UPDATE, {"app": data.application_id, "dept": department})).first()
        if result is not None:
            items = [{**i, "state": "in_review", "reason": "supplemented"} if i["indicator"] == data.indicator else i
                     for i in result.items]
            uow.later(UPDATE_RESULT, {"app": data.application_id, "dept": department, "items": items,
                                      "facts": result.facts, "verified_at": result.verified_at})

    return {"application.submitted": on_application_submitted, "application.material_added": on_material_added,
            "reverification.requested": on_reverification_requested}
