"""Ranges every request value must fall in before it reaches the database or date arithmetic.

A path or query integer is a database key or position (PostgreSQL's `integer` ends at 2**31 - 1,
and asyncpg refuses a larger value with an error that is not the partner's to read); a business
date is one a person could mean (in year 1 or 9999, `date` arithmetic overflows). Out of range is a
422 naming the parameter, like any other invalid input.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator

INT32_MAX = 2**31 - 1
EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)


def _business_date(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}")
    return value


BusinessDate = Annotated[date, AfterValidator(_business_date)]

# A positive database key or position in a path (a review task, a score version, a list entry).
PathId = Annotated[int, Path(ge=1, le=INT32_MAX)]
