"""Trace context through the outbox and the bus, without a broker: an event keeps the context it was
made in, the relay publishes under it, a consumer handles under what the message carries.

The process's tracer is the services' own (shared.tracing.configure_tracing): without an OTLP
endpoint it records nothing but still makes and passes on ids, which is what is checked here.
Export to a backend, across the four real services, is tests/integration/test_traces.py."""

from __future__ import annotations

from datetime import date

import pytest
from opentelemetry import context, trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

from shared import tracing
from shared.events import Envelope, parse_data
from shared.events.catalogue import ApplicationSubmitted, Holder

TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
PARTNER = f"00-{TRACE_ID:032x}-00f067aa0ba902b7-01"


@pytest.fixture(autouse=True, scope="module")
def tracer():
    tracing.configure_tracing("unit-test")


def _in_partner_request():
    """The context of a request whose partner sent a traceparent and a tracestate."""
    span = NonRecordingSpan(
        SpanContext(
            TRACE_ID,
            0x00F067AA0BA902B7,
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
            trace_state=TraceState([("partner", "window-7")]),
        )
    )
    return context.attach(trace.set_span_in_context(span))


def _submitted(**kw) -> Envelope:
    return Envelope.new(
        ApplicationSubmitted(
            application_id="APP-1",
            holder=Holder(name="张三", id_number="11010519491231002X", permit_number="P1"),
            applied_on=date(2026, 11, 26),
            cut_off_date=date(2026, 10, 1),
            expected_departments=["police"],
        ),
        source="intake",
        subject="APP-1",
        **kw,
    )


def test_an_event_keeps_the_trace_and_tracestate_of_the_request_that_made_it():
    token = _in_partner_request()
    try:
        ev = _submitted()
    finally:
        context.detach(token)
    back = Envelope.from_bytes(ev.to_bytes())
    assert back.traceparent == PARTNER and back.tracestate == "partner=window-7"
    assert back.trace == {"traceparent": PARTNER, "tracestate": "partner=window-7"}
    assert parse_data(back).holder.name_masked == "张*"


def test_an_event_made_for_a_batch_takes_the_trace_it_is_given():
    elsewhere = {"traceparent": f"00-{'ab' * 16}-{'cd' * 8}-01"}
    token = _in_partner_request()
    try:
        ev = _submitted(trace=elsewhere)
    finally:
        context.detach(token)
    assert ev.trace == elsewhere


def test_an_event_made_outside_any_request_carries_no_trace():
    assert _submitted().traceparent is None


def test_the_relay_publishes_in_the_trace_the_event_was_made_in():
    headers = [("event_type", b"application.submitted")]
    made_in = {"traceparent": PARTNER, "tracestate": "partner=window-7"}
    with tracing.publishing(made_in, "application.submitted publish", headers):
        current = tracing.carrier()
    assert tracing.parse_trace_id(current["traceparent"]) == f"{TRACE_ID:032x}"
    assert current["traceparent"] != PARTNER  # a span of its own, the request's child
    assert current["tracestate"] == "partner=window-7"
    # Nothing is exported here (no endpoint), so no instrumentation writes the message's headers: the relay does.
    assert dict(headers) == {
        "event_type": b"application.submitted",
        "traceparent": current["traceparent"].encode(),
        "tracestate": b"partner=window-7",
    }


def test_a_consumer_handles_in_the_trace_its_message_carries():
    on_the_wire = f"00-{'12' * 16}-{'34' * 8}-01"
    headers = [("event_type", b"application.submitted"), ("traceparent", on_the_wire.encode())]
    with tracing.handling(headers, {"traceparent": PARTNER}, "application.submitted process"):
        assert tracing.current_trace_id() == "12" * 16
    # A message without headers (replayed by hand, say): the envelope's context.
    with tracing.handling([], {"traceparent": PARTNER}, "application.submitted process"):
        assert tracing.current_trace_id() == f"{TRACE_ID:032x}"
    assert tracing.current_trace_id() is None  # nothing leaks past the event


@pytest.mark.parametrize("bad", [None, "", "00-xyz", f"00-{'0' * 32}-{'34' * 8}-01"])
def test_what_is_not_a_traceparent_has_no_trace_id(bad):
    assert tracing.parse_trace_id(bad) is None
