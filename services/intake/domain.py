"""Intake's pure rules: cut-off dates, which department verifies which indicator."""
from __future__ import annotations

import secrets
from datetime import date

# Indicators the spine verifies, and the department whose registry holds each fact.
VERIFIED_BY: dict[str, str] = {
    "permit": "police",
    "residence": "police",
    "social_insurance": "social_insurance",
}


def expected_departments() -> list[str]:
    return sorted(set(VERIFIED_BY.values()))


def cut_off_date(applied_on: date) -> date:
    """First day of the month before the application date (continuous acceptance)."""
    if applied_on.month == 1:
        return date(applied_on.year - 1, 12, 1)
    return date(applied_on.year, applied_on.month - 1, 1)


def new_application_id(today: date) -> str:
    # Sortable by day, unguessable: partners see it, and it must not let anyone enumerate.
    return f"APP-{today:%Y%m%d}-{secrets.token_hex(6).upper()}"


def status_after_score(score_status: str) -> str:
    return {"scored": "scored", "void": "void", "paused": "paused"}.get(score_status, "scored")
