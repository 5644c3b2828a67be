"""One application travels the whole road on the real services, database and broker."""

from __future__ import annotations

import httpx
import pytest

from deploy.local.processes import LOGS
from services.verification.seed import demo_holder, demo_id_number
from shared.departments import DEPARTMENT_OF, DEPARTMENTS
from shared.tracing import parse_trace_id
from tests.integration.helpers import WINDOW, WINDOW_SCORES, application_body, follow_to_notice, status, wait_for

pytestmark = pytest.mark.integration


async def test_application_is_verified_scored_and_put_on_notice(platform):
    n = 11
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(f"{platform.url('intake')}/v1/applications", json=application_body(n), headers=WINDOW)
        assert r.status_code == 201, r.text
        created = r.json()
        app_id = created["id"]
        assert r.headers["location"] == f"/v1/applications/{app_id}"
        assert created["status"] == "submitted"
        assert {i["indicator"]: (i["department"], i["state"]) for i in created["items"]} == {
            item: (dept, "pending") for item, dept in DEPARTMENT_OF.items()
        }

        doc = await follow_to_notice(client, platform, app_id)
        assert doc["status"] == "scored"
        states = {i["indicator"]: i["state"] for i in doc["items"]}
        assert states["permit"] == states["residence"] == states["social_insurance"] == "passed"
        assert all(state in ("passed", "not_found", "returned") for state in states.values()), states
        # Every department answered once, each for its own items.
        answered = [e["summary"]["department"] for e in doc["timeline"] if e["event_type"] == "verification.completed"]
        assert sorted(answered) == sorted(DEPARTMENTS)
        assert doc["timeline"][-1]["event_type"] == "notice.published"

        # The explanation: every line's points add up to the published total.
        score = (await client.get(doc["score"]["explanation_url"], headers=WINDOW_SCORES)).json()
        lines = score["explanation"]["lines"]
        assert score["rule_set"]["id"] == "hangzhou-2021"
        assert (
            sum(line["points"] for line in lines)
            == pytest.approx(score["total"])
            == pytest.approx(doc["score"]["total"])
        )
        by_id = {line["indicator"]: line for line in lines}
        assert by_id["residence"]["department"] == "police"
        assert by_id["residence"]["points"] == min(5 * by_id["residence"]["fact_value"], 100)
        assert by_id["social_insurance"]["points"] == min(0.5 * by_id["social_insurance"]["fact_value"], 120)
        assert score["total"] > 0

        # The public reads the notice: the score, and masked personal data only.
        notice_id = doc["notice_url"].rsplit("/", 1)[-1]
        public = (await client.get(f"{platform.url('publicity')}/v1/notices/{notice_id}")).json()
        assert public["total"] == score["total"]
        full_name = demo_holder(n)["permit"]["name"]
        assert public["holder"] == full_name[0] + "*" * (len(full_name) - 1)
        assert public["id_number"] != demo_id_number(n) and public["id_number"].endswith(demo_id_number(n)[-4:])
        page = await client.get(doc["notice_url"])
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert full_name not in page.text and demo_id_number(n) not in page.text
        assert public["id_number"] in page.text

    # The partner's trace id follows the application into every service's JSON logs.
    trace_id = parse_trace_id(r.headers["traceparent"])
    for service in ("verification", "scoring", "publicity"):
        log = (LOGS / f"{platform.proc_name(service)}.log").read_text()
        assert trace_id in log, f"trace {trace_id} missing from the {service} log"


async def test_suspended_permit_pauses_the_score_and_opens_no_notice(platform):
    n = 13  # the demo registry suspends every holder with n % 97 == 13
    assert demo_holder(n)["permit"]["status"] == "suspended"
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(f"{platform.url('intake')}/v1/applications", json=application_body(n), headers=WINDOW)
        assert r.status_code == 201, r.text
        app_id = r.json()["id"]

        async def paused():
            doc = await status(client, platform, app_id)
            return doc["score"] and doc

        doc = await wait_for("scoring: a paused score reaches the status", paused)
        assert doc["status"] == "paused" and doc["score"]["status"] == "paused"
        assert {i["indicator"]: i["state"] for i in doc["items"]}["permit"] == "returned"
        notices = (
            await client.get(f"{platform.url('publicity')}/v1/notices", params={"application_id": app_id})
        ).json()
        assert notices == [] and doc["notice_url"] is None


async def test_partner_errors_are_problem_details(platform):
    async with httpx.AsyncClient(timeout=10) as client:
        url = f"{platform.url('intake')}/v1/applications"
        r = await client.post(url, json=application_body(12))
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
        body = application_body(12)
        body["applicant"]["id_number"] = body["applicant"]["id_number"][:-1] + (
            "0" if body["applicant"]["id_number"][-1] != "0" else "1"
        )
        body["consent"] = False
        r = await client.post(url, json=body, headers=WINDOW)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        fields = {e["field"]: e["message"] for e in r.json()["errors"]}
        assert "check digit" in fields["applicant.id_number"]
        assert "consent" in fields
        r = await client.get(f"{platform.url('intake')}/v1/applications/APP-NOPE", headers=WINDOW)
        assert r.status_code == 404 and r.json()["status"] == 404


async def test_every_service_reports_ready_and_exports_metrics(platform):
    async with httpx.AsyncClient(timeout=10) as client:
        for service in ("intake", "verification", "scoring", "publicity"):
            ready = await client.get(f"{platform.ops_url(service)}/readyz")
            assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok", ready.text
            assert ready.json()["checks"]["broker"] == "ok"
            metrics = await client.get(f"{platform.ops_url(service)}/metrics")
            assert "points_http_requests_total" in metrics.text
            spec = (await client.get(f"{platform.url(service)}/asyncapi.json")).json()
            assert spec["asyncapi"].startswith("3.") and "points.applications" in spec["channels"]
