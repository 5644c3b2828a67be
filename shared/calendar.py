"""Working days on the national calendar, adjusted working weekends included.

`chinesecalendar` carries the State Council's published holiday schedule. A year it does not
know is not guessed at (a guess would silently move deadlines): `CalendarYearUnknown` is raised.
Between the State Council's announcement and a package release, operators may supply that
year's schedule in a YAML file (`WORKING_CALENDAR_FILE`):

    2027:
      holidays: [2027-01-01, 2027-02-05, ...]      # days off that fall on weekdays
      workdays: [2027-02-14, ...]                  # adjusted working weekends
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml


class CalendarYearUnknown(ValueError):
    """A working-day count reached a year whose holiday schedule nobody has published to us."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(
            f"the national holiday schedule for {year} is not known yet: update the chinesecalendar "
            f"package or give the State Council's schedule in WORKING_CALENDAR_FILE"
        )


@lru_cache(maxsize=1)
def _supplied_years() -> dict[int, tuple[frozenset[date], frozenset[date]]]:
    path = os.environ.get("WORKING_CALENDAR_FILE")
    if not path:
        return {}
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {
        int(year): (frozenset(spec.get("holidays") or ()), frozenset(spec.get("workdays") or ()))
        for year, spec in doc.items()
    }


@lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        supplied = _supplied_years().get(day.year)
        if supplied is None:
            raise CalendarYearUnknown(day.year) from None
        holidays, workdays = supplied
        return day in workdays or (day.weekday() < 5 and day not in holidays)


@lru_cache(maxsize=4096)  # every application of a day asks the same (its review deadline)
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


def coverage(today: date) -> dict[str, Any]:
    """Which years the working-day calendar knows, as built into this image (and supplied beside it).

    Reported at start-up and in /readyz: when the last known day draws near, a deadline counted
    past it would fail (`CalendarYearUnknown`), so operators see it coming and update the package
    or supply the year's schedule."""
    known = sorted({d.year for d in chinese_calendar.holidays} | set(_supplied_years()))
    # The years known without a gap from the package's first: a supplied year after a gap does not extend it.
    through = known[0]
    while through + 1 in known:
        through += 1
    covers_through = date(through, 12, 31)
    return {
        "package": f"chinesecalendar {version('chinesecalendar')}",
        "first_year": known[0],
        "covers_through": covers_through.isoformat(),
        "supplied_years": sorted(_supplied_years()),
        "days_left": (covers_through - today).days,
    }
