"""Intake's own settings (environment variables, as every setting: see the README's table)."""

from __future__ import annotations

from shared.departments import DEPARTMENTS
from shared.settings import Settings


class IntakeSettings(Settings):
    # Departments whose registries the platform reads (data-sharing first): the applicant is told
    # no materials are needed for their indicators.
    shared_data_departments: str = ",".join(DEPARTMENTS)
    # A returned item may be supplemented until the review deadline, and never in fewer working days than this.
    supplement_min_working_days: int = 5
