"""Publicity's pure rules: what a notice shows and for how long."""
from __future__ import annotations

import secrets
from datetime import date

from shared.calendar import working_period
from shared.masking import mask_id_number, mask_name


def new_notice_id(day: date) -> str:
    return f"NTC-{day:%Y%m%d}-{secrets.token_hex(5).upper()}"


def notice_period(published_on: date, working_days: int) -> tuple[date, date]:
    """The notice runs for `working_days` working days, starting on publication (or the next working day)."""
    return working_period(published_on, working_days)


def public_lines(lines: list[dict]) -> list[dict]:
    """Per-indicator points for the notice; fact values stay out (they are personal data)."""
    return [{"indicator": l["indicator"], "category": l["category"], "name_zh": l["name_zh"], "name_en": l["name_en"],
             "points": l["points"]} for l in lines]


def masked_holder(name: str, id_number: str) -> tuple[str, str]:
    return mask_name(name), mask_id_number(id_number)
