"""What operators read from the running services: readiness with the calendar's coverage."""

from __future__ import annotations

from datetime import date

import chinese_calendar
import httpx
import pytest

from shared import clock

pytestmark = pytest.mark.integration
SERVICES = ("intake", "verification", "scoring", "publicity")


async def test_readiness_reports_what_the_working_day_calendar_covers(platform):
    last_year = max(d.year for d in chinese_calendar.holidays)
    async with httpx.AsyncClient(timeout=10) as client:
        for service in SERVICES:
            ready = (await client.get(f"{platform.url(service)}/readyz")).json()
            known = ready["calendar"]
            assert known["covers_through"] == f"{last_year}-12-31", service
            assert known["package"].startswith("chinesecalendar ")
            assert known["days_left"] == (date(last_year, 12, 31) - clock.today()).days
