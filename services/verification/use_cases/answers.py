"""A department answers an application from its registries, again after an objection, and
puts a supplemented item in review at its desk."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.verification import departments, domain
from services.verification.audit.chain import append
from services.verification.registries import Ask, Registries
from shared.departments import ITEMS_BY_DEPARTMENT
from shared.events.catalogue import (
    ApplicationSubmitted,
    DepartmentAnswer,
    Holder,
    MaterialAdded,
    ReverificationRequested,
)

Queries = list[tuple[str, dict[str, Any], Any]]  # (fact, query, response): what the audit chain records


async def _police(
    uow: Any, department: str, registries: Registries, data: ApplicationSubmitted
) -> tuple[domain.Answer, Queries]:
    holder, delegation = data.holder, data.delegation and data.delegation.model_dump()
    permit, residence, districts = await registries.police(
        uow, holder.permit_number, holder.id_number, data.cut_off_date
    )
    answer = domain.police_answer(
        holder.id_number, holder.permit_number, permit, residence, data.cut_off_date, districts
    )
    records = await registries.records(uow, "police_records", holder.id_number, data.cut_off_date)
    offences = departments.police_records(records, {})
    answer.items += offences.items
    answer.facts.update(offences.facts)
    queries: Queries = [
        ("permit", {"permit_number": holder.permit_number}, answer.facts["permit_status"]),
        (
            "residence",
            {"id_number": holder.id_number, "before": data.cut_off_date.isoformat()},
            {"spans": answer.facts["residence_spans"], "districts": answer.facts["residence_districts"]},
        ),
        ("offences", {"id_number": holder.id_number, "before": data.cut_off_date.isoformat()}, records["offences"]),
    ]
    if delegation and delegation.get("relation") != "employer" and delegation.get("representative"):
        representative = delegation["representative"]["id_number"]
        registered, disabled = await registries.relation(uow, holder.id_number, representative, data.applied_on)
        answer.items.append(domain.relation_item(delegation, registered, disabled, holder.id_number, data.applied_on))
        queries.append(
            (
                "household_relation",
                {"id_number": holder.id_number, "relative": representative, "grounds": delegation["grounds"]},
                {"relations": registered, "disability_certificate": disabled},
            )
        )
    return answer, queries


async def _social_insurance(
    uow: Any, department: str, registries: Registries, data: ApplicationSubmitted
) -> tuple[domain.Answer, Queries]:
    holder, delegation = data.holder, data.delegation and data.delegation.model_dump()
    spans = await registries.social_insurance(uow, holder.id_number, data.cut_off_date)
    answer = domain.social_insurance_answer(spans, data.applied_on)
    queries: Queries = [
        (
            "social_insurance",
            {"id_number": holder.id_number, "before": data.cut_off_date.isoformat()},
            answer.facts["social_insurance_spans"],
        )
    ]
    if delegation and delegation.get("relation") == "employer":
        item = domain.employment_item(delegation, spans, data.applied_on)
        answer.items.append(item)
        queries.append(
            (
                "employment",
                {"id_number": holder.id_number, "employer_credit_code": delegation["employer_credit_code"]},
                {"current": item["state"] == domain.ItemState.PASSED},
            )
        )
    return answer, queries


async def _from_records(
    uow: Any, department: str, registries: Registries, data: ApplicationSubmitted
) -> tuple[domain.Answer, Queries]:
    lookup, answer_of = departments.ANSWERS[department]
    holder = data.holder.id_number
    people = [holder, *(m.id_number for m in data.family)]  # housing: the family's homes count too
    records = await registries.records(uow, lookup, holder, data.cut_off_date, people)
    answer = answer_of(records, {"cut_off_date": data.cut_off_date.isoformat()})
    query = {"id_number": holder, "before": data.cut_off_date.isoformat()}
    return answer, [
        (name, {**query, "people": people} if lookup == "housing" else query, rows) for name, rows in records.items()
    ]


LOOK_UPS = {"police": _police, "social_insurance": _social_insurance}


def asks_of(department: str, data: ApplicationSubmitted) -> list[Ask]:
    """What the department's look-up (above) will ask of its registries, for `ask_ahead`."""
    id_number, cut_off = data.holder.id_number, data.cut_off_date
    if department == "police":
        return [
            ("police", data.holder.permit_number, id_number, cut_off, ()),
            ("police_records", "", id_number, cut_off, (id_number,)),
        ]
    if department == "social_insurance":
        return [("social_insurance", "", id_number, cut_off, ())]
    lookup = departments.ANSWERS[department][0]
    return [(lookup, "", id_number, cut_off, (id_number, *(m.id_number for m in data.family)))]


async def look_up(
    uow: Any, department: str, registries: Registries, data: ApplicationSubmitted, purpose: str
) -> tuple[domain.Answer, Holder]:
    """Look the application's facts up in the department's registries, on its audit chain with the purpose.
    Returns the answer and the holder as the registries know them (the police: the permit's name)."""
    answer, queries = await LOOK_UPS.get(department, _from_records)(uow, department, registries, data)
    domain.note_declared(answer, data.declared_facts)
    await append(uow, department, data.application_id, f"verifier:{department} ({purpose})", queries)
    return answer, domain.registered_holder(data.holder, answer)


async def answer_application(
    uow: Any, department: str, registries: Registries, data: ApplicationSubmitted, now: datetime | None = None
) -> bool:
    """The department's first answer to an application it is expected to answer; False if not its own."""
    return bool(await answer_together(uow, {department: registries}, data, now))


async def answer_together(
    uow: Any, registries: dict[str, Registries], data: ApplicationSubmitted, now: datetime | None = None
) -> list[str]:
    """The first answers of the departments this verifier answers for (`registries`, by department)
    that the application expects, in one event. A department that has answered already (the event
    delivered again to a verifier whose departments were grouped otherwise before) answers nothing
    new. Returns the departments that answered."""
    asked = [d for d in registries if d in data.expected_departments]
    if not asked:
        return []
    if done := await uow.store.answered(data.application_id):
        asked = [d for d in asked if d not in done]
    now = now or datetime.now(UTC)
    answered = []
    question = data.model_dump(mode="json")  # once for every department: only the holder differs
    # Departments sharing a registries adapter have it look everything up at once where it can.
    for adapter in {id(registries[d]): registries[d] for d in asked}.values():
        await adapter.ask_ahead(uow, [a for d in asked if registries[d] is adapter for a in asks_of(d, data)])
    for department in asked:
        answer, holder = await look_up(uow, department, registries[department], data, "application")
        # Kept whole: a later decision or re-verification answers from the same question.
        context = {**question, "holder": holder.model_dump(mode="json")}
        uow.store.add_result(data.application_id, department, answer.items, answer.facts, now, context)
        answered.append(
            DepartmentAnswer(
                department=department, holder=holder.ref(), items=answer.items, facts=answer.facts, verified_at=now
            )
        )
    if answered:
        uow.emit(domain.answered_together(data, answered))
    return [a.department for a in answered]


async def reverify(
    uow: Any, department: str, registries: Registries, data: ReverificationRequested, now: datetime | None = None
) -> bool:
    """After an objection: look the items in question up again and answer again (a new result, audited
    as such). False when none of the items is the department's, or it never answered the application."""
    if not set(data.items) & set(ITEMS_BY_DEPARTMENT[department]):
        return False  # none of the items in question is this department's
    result = await uow.store.result(data.application_id, department, for_update=True)
    if result is None or result.context is None:
        return False  # never asked of this department: nothing to verify again
    submitted = ApplicationSubmitted.model_validate(result.context)
    fresh, holder = await look_up(uow, department, registries, submitted, f"re-verification: {data.reason}"[:80])
    asked = set(data.items)
    items = domain.reverified_items(result.items, fresh.items, asked)
    renewed = {fact for item in asked for fact in departments.FACTS_OF_ITEM.get(item, ())}
    facts = {**result.facts, **{k: v for k, v in fresh.facts.items() if k in renewed}}
    now = now or datetime.now(UTC)
    uow.store.update_result(data.application_id, department, items, facts, now)
    uow.emit(domain.completed(submitted, department, holder.ref(), items, facts, now, in_answer_to=data.request_id))
    return True


async def receive_supplement(uow: Any, department: str, data: MaterialAdded) -> bool:
    """A material supplementing one of the department's items goes to its desk; False if not for the desk."""
    if data.department != department or not data.supplement:
        return False  # evidence for items no registry holds reaches the desk with the manual-review work
    uow.store.add_desk_task(
        department, data.application_id, data.indicator, data.material.model_dump(), data.supplement_deadline
    )
    # The department's own record shows the item in review too: a decision on another item,
    # which answers with all of them, must not hand this one back as returned.
    result = await uow.store.result(data.application_id, department, for_update=True)
    if result is not None:
        uow.store.update_result(
            data.application_id,
            department,
            domain.in_review(result.items, data.indicator),
            result.facts,
            result.verified_at,
        )
    return True
