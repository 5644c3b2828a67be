"""The one clock of business dates: Beijing's.

Deadlines, notice periods, rounds and bars are counted in Beijing's calendar days, whatever the
host's time zone (a container runs in UTC: at 07:00 Beijing it is still yesterday there).
China keeps no daylight saving time, so Beijing is UTC+8 all year; a fixed offset needs no time
zone database in the image. `POINTS_TODAY=YYYY-MM-DD` pins the date for a whole process (a
rehearsal of a deadline, a test run); `pinned` does the same within a test, and `pinned_at` pins
the moment itself (say 23:30 UTC, when Beijing is already on the next day).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
_pinned: date | None = date.fromisoformat(os.environ["POINTS_TODAY"]) if os.environ.get("POINTS_TODAY") else None
_pinned_moment: datetime | None = None


def now() -> datetime:
    """The current moment, in Beijing time."""
    return _pinned_moment.astimezone(BEIJING) if _pinned_moment else datetime.now(BEIJING)


def beijing_date(moment: datetime) -> date:
    """The date of a moment (a stored timestamp, say) as Beijing's calendar has it."""
    return moment.astimezone(BEIJING).date()


def today() -> date:
    """Today's date in Beijing (or the pinned one)."""
    return _pinned or now().date()


@contextmanager
def pinned(day: date) -> Iterator[None]:
    """Within the block, today() is `day`."""
    global _pinned
    before, _pinned = _pinned, day
    try:
        yield
    finally:
        _pinned = before


@contextmanager
def pinned_at(moment: datetime) -> Iterator[None]:
    """Within the block, now() is `moment` (time-zone aware) and today() its date in Beijing."""
    global _pinned_moment
    if moment.tzinfo is None:
        raise ValueError("pin an aware moment: a naive one means a different instant in every zone")
    before, _pinned_moment = _pinned_moment, moment
    try:
        yield
    finally:
        _pinned_moment = before
