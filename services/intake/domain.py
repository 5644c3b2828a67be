"""Intake's pure rules: cut-off dates, which department verifies which indicator, who may act
for whom, the states of an application and of its items, and the refusals intake can give."""

from __future__ import annotations

import secrets
from datetime import date
from enum import StrEnum
from typing import Any

from shared.calendar import cut_off_date  # noqa: F401  (re-exported: the use cases use domain.cut_off_date)
from shared.departments import DEPARTMENT_OF, DEPARTMENTS

# Every item of an application, and the department whose registry holds its fact.
VERIFIED_BY: dict[str, str] = DEPARTMENT_OF


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    VERIFYING = "verifying"
    SCORED = "scored"
    VOID = "void"
    PAUSED = "paused"
    VETOED = "vetoed"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


# Before a score: the holder may still withdraw (and may not open a second application).
IN_PROGRESS = frozenset({ApplicationStatus.SUBMITTED.value, ApplicationStatus.VERIFYING.value})
# A refused application (its delegation unproven) stays open to a supplement of that proof.
OPEN_TO_MATERIALS = frozenset({"submitted", "verifying", "scored", "refused"})


class ItemState(StrEnum):
    """An item has no row until a department answers: until then it reads as pending."""

    PENDING = "pending"
    PASSED = "passed"
    IN_REVIEW = "in_review"
    RETURNED = "returned"
    NOT_FOUND = "not_found"
    FORGED = "forged"
    OVERDUE = "overdue"
    NOT_APPLICABLE = "not_applicable"


def expected_departments() -> list[str]:
    return sorted(DEPARTMENTS)


def new_application_id(today: date) -> str:
    # Sortable by day, unguessable: partners see it, and it must not let anyone enumerate.
    return f"APP-{today:%Y%m%d}-{secrets.token_hex(6).upper()}"


def delegation_department(delegation: dict[str, Any] | None) -> str | None:
    """Who verifies a delegation: social insurance the employment, the police the household relation."""
    if delegation is None:
        return None
    return "social_insurance" if delegation["relation"] == "employer" else "police"


def items_of(delegation: dict[str, Any] | None) -> dict[str, str]:
    """The items of an application and their departments: a delegated one has a `delegation` item too."""
    department = delegation_department(delegation)
    return {**VERIFIED_BY, "delegation": department} if department else VERIFIED_BY


def acting_as(delegation_relation: str | None, scopes: set[str] | frozenset[str], employer: bool) -> str:
    if delegation_relation:
        return delegation_relation
    if employer:
        return "employer"
    return next((s for s in ("window", "online", "guardian", "admin") if s in scopes), "holder")


def acting_employer(relation: str | None, scopes: set[str] | frozenset[str], employers: set[str]) -> str | None:
    """Who may act for whom: an employer's key only as employer, a guardian's only with a representative.
    Returns the employer's credit code for an employer's application."""
    if employers:
        if relation != "employer":
            raise DelegationRefused(
                "delegation",
                'an employer\'s key applies for its staff: give relation "employer" '
                "and the holder's written authorisation",
            )
        return next(iter(employers))
    if relation == "employer":
        raise DelegationRefused("delegation.relation", "only an employer's key applies as employer")
    if "guardian" in scopes and relation is None:
        raise DelegationRefused("delegation", "a guardian's key names the representative, the relation and the grounds")
    return None


# The refusals. Use cases raise them; the API answers each with its problem document (api/problems.py).


class Refused(Exception):
    """Something intake will not do, and why: no HTTP here."""


class DelegationRefused(Refused):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


class MaterialRefused(Refused):
    """A file that is not accepted (empty, too large, not a PDF, JPEG or PNG); `status` says which."""

    def __init__(self, field: str, message: str, status: int) -> None:
        super().__init__(message)
        self.field, self.message, self.status = field, message, status


class ApplicationInProgress(Refused):
    """The holder already has an application that is not yet scored."""


class HolderBarred(Refused):
    def __init__(self, barred_until: date, reason: str) -> None:
        super().__init__(reason)
        self.barred_until, self.reason = barred_until, reason


class BarJustEnded(Refused):
    """The statement's guard found a bar that had ended by the time we looked: send again."""


class NotVisible(Refused):
    """No such application, or another partner's: the two must read the same."""

    def __init__(self, application_id: str) -> None:
        super().__init__(application_id)
        self.application_id = application_id


class TooLateToWithdraw(Refused):
    def __init__(self, application_id: str, status: str) -> None:
        super().__init__(status)
        self.application_id, self.status = application_id, status


class ApplicationClosed(Refused):
    def __init__(self, application_id: str, status: str) -> None:
        super().__init__(status)
        self.application_id, self.status = application_id, status


class UnknownIndicator(Refused):
    def __init__(self, indicator: str, known: list[str]) -> None:
        super().__init__(indicator)
        self.indicator, self.known = indicator, known


class ItemClosed(Refused):
    def __init__(self, indicator: str, state: str) -> None:
        super().__init__(state)
        self.indicator, self.state = indicator, state


class SupplementDeadlinePassed(Refused):
    def __init__(self, indicator: str, supplement_deadline: date) -> None:
        super().__init__(indicator)
        self.indicator, self.supplement_deadline = indicator, supplement_deadline


class MaterialNotFound(Refused):
    def __init__(self, application_id: str, material_id: str) -> None:
        super().__init__(material_id)
        self.application_id, self.material_id = application_id, material_id
