"""What the working-day calendar built into the image covers, as start-up and /readyz report it."""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest

from shared import calendar


@pytest.fixture
def supplied(tmp_path, monkeypatch):
    """Supply years' schedules in WORKING_CALENDAR_FILE, as an operator would."""

    def supply(*years: int) -> None:
        path = tmp_path / "calendar.yaml"
        path.write_text("".join(f"{y}:\n  holidays: [{y}-01-01]\n  workdays: []\n" for y in years))
        monkeypatch.setenv("WORKING_CALENDAR_FILE", str(path))
        calendar._supplied_years.cache_clear()

    yield supply
    monkeypatch.delenv("WORKING_CALENDAR_FILE", raising=False)
    calendar._supplied_years.cache_clear()


def test_coverage_names_the_package_and_its_last_known_day():
    last_year = max(d.year for d in chinese_calendar.holidays)
    known = calendar.coverage(date(last_year, 12, 1))
    assert known["package"].startswith("chinesecalendar ")
    assert known["covers_through"] == f"{last_year}-12-31" and known["days_left"] == 30
    assert known["supplied_years"] == []
    # The last day covered really is countable, the day after is not.
    assert isinstance(calendar.is_working_day(date(last_year, 12, 31)), bool)
    with pytest.raises(calendar.CalendarYearUnknown):
        calendar.add_working_days(date(last_year, 12, 31), 30)


def test_a_supplied_next_year_extends_coverage_but_one_after_a_gap_does_not(supplied):
    last_year = max(d.year for d in chinese_calendar.holidays)
    supplied(last_year + 1)
    assert calendar.coverage(date(last_year, 12, 1))["covers_through"] == f"{last_year + 1}-12-31"
    supplied(last_year + 3)
    known = calendar.coverage(date(last_year, 12, 1))
    assert known["covers_through"] == f"{last_year}-12-31" and known["supplied_years"] == [last_year + 3]
