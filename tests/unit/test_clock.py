"""Business dates are Beijing's, whatever the host's zone, and a test can pin them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared import clock


def test_today_is_beijings_date_not_utcs(monkeypatch):
    # 2026-11-29 23:30 UTC is already 2026-11-30 07:30 in Beijing.
    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 11, 29, 23, 30, tzinfo=UTC).astimezone(tz)

    monkeypatch.setattr(clock, "datetime", Frozen)
    assert clock.now().utcoffset().total_seconds() == 8 * 3600
    assert clock.today() == date(2026, 11, 30)


def test_a_pinned_date_holds_inside_the_block_only():
    with clock.pinned(date(2027, 2, 10)):
        assert clock.today() == date(2027, 2, 10)
    assert clock.today() == clock.now().date()
