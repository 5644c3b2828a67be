"""Working days on the national calendar, adjusted working weekends included.

`chinesecalendar` carries the State Council's published holiday schedule; for a year it
does not know yet we fall back to Monday–Friday, and say so in the logs.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (n=0: `start` itself if it is a working day, else the next one)."""
    day = start
    while not is_working_day(day):
        day += timedelta(days=1)
    remaining = n
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_period(start: date, length: int) -> tuple[date, date]:
    """First and last day of a period of `length` working days beginning on or after `start`."""
    first = add_working_days(start, 0)
    return first, add_working_days(first, length - 1)


def cut_off_date(application_date: date, acceptance_opens: date | None = None) -> date:
    """Facts count up to the first day of the month before the acceptance period opens
    (continuous acceptance: before the application date)."""
    day = acceptance_opens or application_date
    return date(day.year - 1, 12, 1) if day.month == 1 else date(day.year, day.month - 1, 1)


def shift_years(day: date, years: int) -> date:
    """The same day `years` later (negative: earlier); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
