"""Pure department rules: what each registry answer means for each indicator."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from shared import clock
from shared.events import Envelope
from shared.events.catalogue import (
    ApplicationSubmitted,
    DepartmentAnswer,
    Holder,
    HolderRef,
    VerificationCompleted,
    VerificationsCompleted,
)
from shared.identity import age_on, birth_date
from shared.masking import mask_name

GENESIS = "0" * 64


class ItemState(StrEnum):
    """An item's state in a department's answer (the values of the catalogue's `ItemState`).

    A StrEnum: it is its value wherever it goes (JSON, events, hashes), so answers stay byte-compatible."""

    PASSED = "passed"
    IN_REVIEW = "in_review"
    RETURNED = "returned"
    NOT_FOUND = "not_found"
    FORGED = "forged"
    OVERDUE = "overdue"  # set by scoring for a department silent past the review deadline, never by one


class DeskTaskState(StrEnum):
    """A desk task waits for an officer, then is decided (once)."""

    PENDING = "pending"
    DECIDED = "decided"


class DeskVerdict(StrEnum):
    """What an officer may decide on a desk task (the `decision` field of the public API)."""

    CONFIRM = "confirm"
    RETURN = "return"
    FORGED = "forged"


# The item's state each verdict leaves.
VERDICT_STATES = {
    DeskVerdict.CONFIRM: ItemState.PASSED,
    DeskVerdict.RETURN: ItemState.RETURNED,
    DeskVerdict.FORGED: ItemState.FORGED,
}


@dataclass
class Answer:
    """A department's verdict on its items, and the facts it vouches for."""

    items: list[dict[str, Any]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    holder_name: str | None = None


def police_answer(
    holder_id: str,
    permit_number: str,
    permit: dict[str, Any] | None,
    residence: list[dict[str, Any]],
    cut_off: date,
    districts: list[dict[str, Any]] | None = None,
) -> Answer:
    ans = Answer()
    ans.facts["birth_date"] = birth_date(holder_id).isoformat()  # the ID number carries it
    ans.items.append({"indicator": "age", "state": ItemState.PASSED, "reason": None})
    if permit is None:
        ans.items.append(
            {
                "indicator": "permit",
                "state": ItemState.RETURNED,
                "reason": "no residence permit with this number in the police registry",
            }
        )
        ans.facts["permit_status"] = "not_found"
    elif permit["id_number"] != holder_id:
        ans.items.append(
            {"indicator": "permit", "state": ItemState.RETURNED, "reason": "the permit is registered to another holder"}
        )
        ans.facts["permit_status"] = "mismatch"
    else:
        ans.holder_name = permit["name"]
        status = permit["status"]
        if status == "valid" and permit["valid_to"] < cut_off:
            status = "expired"
        ans.items.append(
            {
                "indicator": "permit",
                "state": ItemState.PASSED if status == "valid" else ItemState.RETURNED,
                "reason": None if status == "valid" else f"permit {status}",
            }
        )
        ans.facts["permit_status"] = status
    ans.facts["residence_spans"] = [
        {"start": r["start_date"].isoformat(), "end": r["end_date"].isoformat() if r["end_date"] else None}
        for r in residence
    ]
    # The same registration by district: a district's module counts the years inside it.
    ans.facts["residence_districts"] = [
        {
            "district": r["district"],
            "start": r["start_date"].isoformat(),
            "end": r["end_date"].isoformat() if r["end_date"] else None,
        }
        for r in districts or []
    ]
    ans.items.append(
        {
            "indicator": "residence",
            "state": ItemState.PASSED if residence else ItemState.NOT_FOUND,
            "reason": None if residence else "no residence registration found",
        }
    )
    return ans


def social_insurance_answer(spans: list[dict[str, Any]], applied_on: date) -> Answer:
    ans = Answer()
    ans.facts["social_insurance_spans"] = [
        {
            "start": s["start_month"].isoformat(),
            "end": s["end_month"].isoformat(),
            "kind": s["kind"],
            "transferred_in": s["transferred_in"],
            "back_paid": s["back_paid"],
        }
        for s in spans
    ]
    ans.items.append(
        {
            "indicator": "social_insurance",
            "state": ItemState.PASSED if spans else ItemState.NOT_FOUND,
            "reason": None if spans else "no contributions found in the city",
        }
    )
    employed = currently_employed(spans, applied_on)
    ans.facts["employed"] = employed
    ans.items.append(
        {
            "indicator": "employment",
            "state": ItemState.PASSED if employed else ItemState.NOT_FOUND,
            "reason": None if employed else "no contributions paid by an employer in the last three months",
        }
    )
    return ans


def currently_employed(spans: list[dict[str, Any]], applied_on: date, employer: str | None = None) -> bool:
    """Contributions paid (by `employer`, or by anyone) in the months just before the application."""
    since = applied_on - timedelta(days=CURRENT_EMPLOYMENT_DAYS)
    return any(
        (employer is None or s.get("employer_credit_code") == employer)
        and not s["transferred_in"]
        and s["end_month"] >= since
        for s in spans
    )


def registered_holder(holder: Holder, answer: Answer) -> Holder:
    """The holder under the name the police registry gives them (masked: the name goes no further)."""
    if answer.holder_name is None:
        return holder
    return holder.model_copy(update={"name_masked": mask_name(answer.holder_name)})


def completed(
    question: ApplicationSubmitted,
    department: str,
    holder: HolderRef,
    items: list[dict[str, Any]],
    facts: dict[str, Any],
    at: datetime,
    in_answer_to: str | None = None,
) -> Envelope:
    """A department's answer to an application: the event, whether it comes from the registries,
    a re-verification or an officer's decision."""
    return Envelope.new(
        VerificationCompleted(
            application_id=question.application_id,
            department=department,
            expected_departments=question.expected_departments,
            cut_off_date=question.cut_off_date,
            holder=holder,
            items=items,
            facts=facts,
            verified_at=at,
            applied_on=question.applied_on,
            in_answer_to=in_answer_to,
            modules=question.modules,
        ),
        source="verification",
        subject=question.application_id,
    )


def answered_together(question: ApplicationSubmitted, answers: list[DepartmentAnswer]) -> Envelope:
    """The first answers of several departments to one application, as one event (verification.completed
    v2); a single department's answer is the v1 event it always was (`completed`)."""
    if len(answers) == 1:
        (a,) = answers
        items = [i.model_dump() for i in a.items]
        return completed(question, a.department, a.holder, items, a.facts, a.verified_at)
    return Envelope.new(
        VerificationsCompleted(
            application_id=question.application_id,
            expected_departments=question.expected_departments,
            cut_off_date=question.cut_off_date,
            applied_on=question.applied_on,
            modules=question.modules,
            answers=answers,
        ),
        source="verification",
        subject=question.application_id,
    )


def note_declared(answer: Answer, declared: dict[str, Any]) -> None:
    """The registry's value counts; where the applicant declared otherwise, the item records what they said."""
    items = {i["indicator"]: i for i in answer.items}
    for key, value in declared.items():
        if key in answer.facts and answer.facts[key] != value:
            item = items.get(key) or (answer.items[0] if len(answer.items) == 1 else None)
            if item is not None:
                item["declared"] = value


def chain_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    body = json.dumps(entry, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


ELDERLY_AGE = 60
MINOR_AGE = 16
# Contributions paid within this many days before the application show a current employment.
CURRENT_EMPLOYMENT_DAYS = 92


def delegation_item(passed: bool, reason: str) -> dict[str, Any]:
    return {
        "indicator": "delegation",
        "state": ItemState.PASSED if passed else ItemState.RETURNED,
        "reason": None if passed else reason,
    }


def employment_item(delegation: dict[str, Any], spans: list[dict[str, Any]], applied_on: date) -> dict[str, Any]:
    """An employer's delegation holds when the social-insurance registry shows it paying for the holder now."""
    code = delegation.get("employer_credit_code")
    return delegation_item(
        currently_employed(spans, applied_on, code),
        f"the social-insurance registry shows no current employment of the holder by {code}",
    )


def relation_item(
    delegation: dict[str, Any], registered: list[str], disabled: bool, holder_id: str, today: date
) -> dict[str, Any]:
    """A relative's delegation holds when the household registry records the relation and the grounds hold."""
    claimed = delegation["relation"]
    if claimed not in registered:
        found = f" (registered: {', '.join(registered)})" if registered else ""
        return delegation_item(
            False, f"the household registry does not record the representative as the holder's {claimed}{found}"
        )
    grounds = delegation["grounds"]
    age = age_on(holder_id, today)
    if grounds == "minor" and age >= MINOR_AGE:
        return delegation_item(False, f"the holder is {age}, not a minor under {MINOR_AGE}")
    if grounds == "elderly" and age < ELDERLY_AGE:
        return delegation_item(False, f"the holder is {age}, under {ELDERLY_AGE}")
    if grounds == "disabled" and not disabled:
        return delegation_item(False, "no valid disability certificate is registered for the holder")
    return delegation_item(True, "")


def reverified_items(kept: list[dict[str, Any]], fresh: list[dict[str, Any]], asked: set[str]) -> list[dict[str, Any]]:
    """After a re-verification only the items in question take the registries' fresh answer: the
    others, and every officer's finding of a forgery, stand."""
    fresh_by_indicator = {i["indicator"]: i for i in reversed(fresh)}  # the first of an indicator
    return [
        fresh_by_indicator.get(item["indicator"], item)
        if item["indicator"] in asked and item["state"] != ItemState.FORGED
        else item
        for item in kept
    ]


def in_review(items: list[dict[str, Any]], indicator: str) -> list[dict[str, Any]]:
    """The department's items with `indicator` in review: its supplement waits at the desk."""
    return [
        {**i, "state": ItemState.IN_REVIEW, "reason": "supplemented"} if i["indicator"] == indicator else i
        for i in items
    ]


def decided_items(
    items: list[dict[str, Any]], indicator: str, verdict: DeskVerdict, reason: str | None
) -> list[dict[str, Any]]:
    """The department's items after an officer's verdict on `indicator` (it goes last, as it always has)."""
    item = {
        "indicator": indicator,
        "state": VERDICT_STATES[verdict],
        "reason": None if verdict == DeskVerdict.CONFIRM else reason,
    }
    return [i for i in items if i["indicator"] != indicator] + [item]


def overdue(state: str, supplement_deadline: date | None, today: date) -> bool:
    """A pending desk task past the applicant's supplement deadline."""
    return state == DeskTaskState.PENDING and supplement_deadline is not None and supplement_deadline < today


def forgery_report(question: ApplicationSubmitted, department: str, indicator: str, now: datetime) -> dict[str, Any]:
    """The dishonesty record a forged item owes the credit registry: one per application and item,
    listed on the decision's Beijing date."""
    # The registry keeps an act in 40 characters: a stable digest of (application, item) stands for it.
    digest = hashlib.sha256(f"{question.application_id}:{indicator}".encode()).hexdigest()[:24]
    return {
        "act": f"forgery-{digest}",
        "application_id": question.application_id,
        "id_number": question.holder.id_number,
        "listed_on": now.astimezone(clock.BEIJING).date(),
        "reason": f"forged materials for the {indicator} item ({department})",
    }
