"""Intake's pure rules: cut-off dates, which department verifies which indicator."""
from __future__ import annotations

import secrets
from datetime import date

from shared.calendar import cut_off_date  # noqa: F401  (re-exported: the routes use domain.cut_off_date)

from shared.departments import DEPARTMENT_OF, DEPARTMENTS

# Every item of an application, and the department whose registry holds its fact.
VERIFIED_BY: dict[str, str] = DEPARTMENT_OF


def expected_departments() -> list[str]:
    return sorted(DEPARTMENTS)


def new_application_id(today: date) -> str:
    # Sortable by day, unguessable: partners see it, and it must not let anyone enumerate.
    return f"APP-{today:%Y%m%d}-{secrets.token_hex(6).upper()}"



def delegation_department(delegation: dict | None) -> str | None:
    """Who verifies a delegation: social insurance the employment, the police the household relation."""
    if delegation is None:
        return None
    return "social_insurance" if delegation["relation"] == "employer" else "police"


def items_of(delegation: dict | None) -> dict[str, str]:
    """The items of an application and their departments: a delegated one has a `delegation` item too."""
    department = delegation_department(delegation)
    return {**VERIFIED_BY, "delegation": department} if department else VERIFIED_BY


def acting_as(delegation_relation: str | None, scopes: set[str], employer: bool) -> str:
    if delegation_relation:
        return delegation_relation
    if employer:
        return "employer"
    return next((s for s in ("window", "online", "guardian", "admin") if s in scopes), "holder")
