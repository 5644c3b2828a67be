"""One application's trace, followed across the four real services into a tracing backend.

The services export OTLP to a receiver in the test (the wire format a collector or Jaeger reads),
on a platform of their own: the suite's platform runs without an endpoint, as a default
installation does, and so exports nothing.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import urllib.request

import httpx
import pytest

from deploy.local.platform import SERVICES, Platform
from deploy.local.processes import LOGS
from tests.conftest import TEST_DATABASE, TEST_PORT_BASE
from tests.integration.helpers import WINDOW, application_body, follow_to_notice, wait_for
from tests.integration.otlp_receiver import OtlpReceiver, ReceivedSpan

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def traced(infra):
    with OtlpReceiver() as receiver:
        p = Platform(
            port_base=TEST_PORT_BASE + 80,
            database=f"{TEST_DATABASE}_traces",
            topic_prefix=f"o{secrets.token_hex(3)}.",
            extra_env={
                "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                "OTEL_BSP_SCHEDULE_DELAY": "100",  # spans leave within a tenth of a second
                "OUTBOX_POLL_INTERVAL_MS": "100",
                "LOG_LEVEL": "INFO",
                "SIMULATION_DIR": ".local/test-trace-simulations",
            },
        )
        p.infra_up(fresh_database=True)
        p.migrate_and_seed(holders=50)
        try:
            p.start_services()
            yield p, receiver
        finally:
            p.stop_services()


def _submit_as_partner(url: str, body: dict, headers: dict) -> tuple[int, dict, dict]:
    """With urllib, not httpx: a service app built in this process (another test's) instruments httpx
    here too, and the instrumented client would send its own traceparent instead of the partner's."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={**headers, "content-type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        return r.status, dict(r.headers), json.loads(r.read())


def _db(span: ReceivedSpan) -> bool:
    return (span.attributes.get("db.system") or span.attributes.get("db.system.name")) == "postgresql"


async def test_one_application_is_one_trace_across_the_four_services(traced):
    platform, receiver = traced
    trace_id, partner_span = secrets.token_hex(16), secrets.token_hex(8)
    status, headers, created = await asyncio.to_thread(
        _submit_as_partner,
        f"{platform.url('intake')}/v1/applications",
        application_body(11),
        {**WINDOW, "traceparent": f"00-{trace_id}-{partner_span}-01"},
    )
    assert status == 201, created
    assert headers["traceparent"].split("-")[1] == trace_id  # the partner's trace, continued
    async with httpx.AsyncClient(timeout=10) as client:
        await follow_to_notice(client, platform, created["id"])

    async def probe() -> list[ReceivedSpan] | None:
        spans = receiver.of_trace(trace_id)
        consumers = {s.service for s in spans if s.kind == "consumer" and s.name.endswith(" process")}
        return spans if {"verification", "scoring", "publicity"} <= consumers else None

    spans = await wait_for("the trace reaches the backend from every service", probe, timeout=20)
    by_id = {s.span_id: s for s in spans}
    assert {s.service for s in spans} == set(SERVICES)

    # The request: the partner's span is its parent; its statements and its outbound call are its children.
    request = next(s for s in spans if s.service == "intake" and s.kind == "server" and s.parent_id == partner_span)
    assert request.attributes.get("http.route") == "/v1/applications"
    intake_statements = [s for s in spans if s.service == "intake" and _db(s)]
    assert intake_statements and all(s.parent_id in by_id for s in intake_statements)
    # Its outbound call for the rule sets in force: the same trace goes on in scoring's server span.
    call = next(s for s in spans if s.service == "intake" and s.kind == "client" and not _db(s))
    assert any(s.service == "scoring" and s.kind == "server" and s.parent_id == call.span_id for s in spans)

    # The event left through the outbox under the request's trace, long after the request answered.
    published = next(s for s in spans if s.service == "intake" and s.name == "application.submitted publish")
    assert published.kind == "producer"
    sent = next(s for s in spans if s.parent_id == published.span_id and s.kind == "producer")

    # Every service handled its events in the same trace, each a child of the send that carried it,
    # and its statements are children of that handling.
    process = [s for s in spans if s.kind == "consumer" and s.name.endswith(" process")]
    verification = [s for s in process if s.service == "verification" and s.name == "application.submitted process"]
    assert verification and all(s.parent_id == sent.span_id for s in verification)
    for handling in process:
        carrier = by_id.get(handling.parent_id)
        assert carrier is not None and carrier.kind == "producer" and carrier.service != handling.service, handling
    for service in ("verification", "scoring", "publicity"):
        statements = [s for s in spans if s.service == service and _db(s)]
        assert statements, f"no database statement of {service} in the trace"
    assert any(s.name == "score.computed process" and s.service == "publicity" for s in process)

    # The logs keep the same trace id: one grep finds the application's whole journey.
    for service in SERVICES:
        assert trace_id in (LOGS / f"{platform.proc_name(service)}.log").read_text(), service
