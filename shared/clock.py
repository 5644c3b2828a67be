"""The one clock of business dates: Beijing's.

Deadlines, notice periods, rounds and bars are counted in Beijing's calendar days, whatever the
host's time zone (a container runs in UTC: at 07:00 Beijing it is still yesterday there).
China keeps no daylight saving time, so Beijing is UTC+8 all year; a fixed offset needs no time
zone database in the image. `POINTS_TODAY=YYYY-MM-DD` pins the date for a whole process (a
rehearsal of a deadline, a test run); `pinned` does the same within a test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
_pinned: date | None = date.fromisoformat(os.environ["POINTS_TODAY"]) if os.environ.get("POINTS_TODAY") else None


def now() -> datetime:
    """The current moment, in Beijing time."""
    return datetime.now(BEIJING)


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
