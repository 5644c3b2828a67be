"""Resident identity numbers (GB 11643-1999): 18 characters, the last a check digit."""

from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# ASCII digits only: full-width digits would pass `\d` and make a second identity for one person.
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")


def check_digit(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=False)) % 11]


def id_number_problem(value: str) -> str | None:
    """Why an ID number is invalid, or None when it is valid."""
    v = value.strip().upper()
    if not _SHAPE.match(v):
        return "must be 17 digits followed by a digit or X"
    try:
        date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return "contains an impossible birth date"
    if check_digit(v[:17]) != v[17]:
        return "check digit does not match (GB 11643)"
    return None


def birth_date(value: str) -> date:
    return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def age_on(id_number: str, day: date) -> int:
    """Completed years of the ID number's holder on `day`."""
    born = birth_date(id_number)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def make_id_number(region: str, born: date, sequence: int) -> str:
    first17 = f"{region}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_digit(first17)


# Unified social credit codes of organisations (GB 32100-2015): 18 characters, the last a check character.
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_check_char(first17: str) -> str:
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=False))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def credit_code_problem(value: str) -> str | None:
    """Why a unified social credit code is invalid, or None when it is valid."""
    v = value.strip().upper()
    if len(v) != 18 or any(c not in _CREDIT_CHARS for c in v):
        return f"must be 18 characters from {_CREDIT_CHARS}"
    if credit_check_char(v[:17]) != v[17]:
        return "check character does not match (GB 32100)"
    return None
