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
            ready = (await client.get(f"{platform.ops_url(service)}/readyz")).json()
            known = ready["calendar"]
            assert known["covers_through"] == f"{last_year}-12-31", service
            assert known["package"].startswith("chinesecalendar ")
            assert known["days_left"] == (date(last_year, 12, 31) - clock.today()).days


async def test_operational_endpoints_answer_on_their_own_port_only(platform):
    async with httpx.AsyncClient(timeout=10) as client:
        for service in SERVICES:
            ops, public = platform.ops_url(service), platform.url(service)
            assert (await client.get(f"{ops}/healthz")).json() == {"status": "ok", "service": service}
            assert (await client.get(f"{ops}/readyz")).json()["status"] == "ready"
            metrics = await client.get(f"{ops}/metrics")
            assert metrics.status_code == 200 and "points_http_requests_total" in metrics.text
            # The public port (the one an Ingress exposes) serves none of them, and the ops port no API.
            for path in ("/healthz", "/readyz", "/metrics"):
                assert (await client.get(f"{public}{path}")).status_code == 404, (service, path)
            assert (await client.get(f"{ops}/openapi.json")).status_code == 404
            assert (await client.get(f"{public}/asyncapi.json")).status_code == 200
