"""Intake's pure rules: cut-off dates, which department verifies which indicator."""
from __future__ import annotations

import secrets
from datetime import date

from shared.calendar import cut_off_date  # noqa: F401  (re-exported: the routes use domain.cut_off_date)

# Indicators the spine verifies, and the department whose registry holds each fact.
VERIFIED_BY: dict[str, str] = {
    "permit": "police",
    "residence": "police",
    "social_insurance": "social_insurance",
}


def expected_departments() -> list[str]:
    return sorted(set(VERIFIED_BY.values()))


def new_application_id(today: date) -> str:
    # Sortable by day, unguessable: partners see it, and it must not let anyone enumerate.
    return f"APP-{today:%Y%m%d}-{secrets.token_hex(6).upper()}"

