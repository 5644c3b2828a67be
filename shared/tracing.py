"""OpenTelemetry traces: one trace per partner request, followed across every service.

The maintained instrumentations make the spans: FastAPI (every request), asyncpg (every
statement), httpx (every outbound call, with `traceparent` sent on), aiokafka (every message
sent and received, with the W3C context in its headers). What they cannot see is ours: an event
is published by the outbox relay long after the request that caused it, so the request's
context is kept in the event (the outbox row) and the relay publishes under it (`publishing`);
a consumer handles each event under the context its message carries (`handling`).

Spans are exported (OTLP over HTTP) only when OTEL_EXPORTER_OTLP_ENDPOINT is set. Without it
nothing is recorded and the per-statement and per-message instrumentations are not installed,
but trace ids are still made and passed on (a sampler that keeps nothing; the envelope carries
the context), so the JSON logs of every service still carry the partner's trace id.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.types import Attributes

ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
RATIO = "OTEL_TRACES_SAMPLER_ARG"
_provider: TracerProvider | None = None
_exporting = False
_tracer = trace.get_tracer("points")


class _NoLonelyBackgroundSpans(Sampler):
    """Keeps the traces a request or a message starts (a `ratio` of them); drops those a poll starts
    on its own.

    The outbox relay and the sweepers query the database every fraction of a second: a trace for
    each of those statements would bury the traces someone wants to read.
    """

    def __init__(self, ratio: float) -> None:
        self._kept = TraceIdRatioBased(ratio)

    def should_sample(
        self,
        parent_context: otel_context.Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        if kind in (SpanKind.SERVER, SpanKind.PRODUCER, SpanKind.CONSUMER):
            return self._kept.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)
        return SamplingResult(Decision.DROP)

    def get_description(self) -> str:
        return "NoLonelyBackgroundSpans"


def configure_tracing(service: str) -> None:
    """Install the tracer provider and the instrumentations, once per process."""
    global _provider, _exporting
    if _provider is not None:
        return
    exporting = _exporting = bool(os.environ.get(ENDPOINT))
    _provider = TracerProvider(
        resource=Resource.create({"service.name": service, "service.namespace": "points"}),
        # OTEL_TRACES_SAMPLER_ARG: the share of new traces kept (a busy platform need not record them all).
        sampler=ParentBased(_NoLonelyBackgroundSpans(float(os.environ.get(RATIO) or 1.0))) if exporting else ALWAYS_OFF,
    )
    if exporting:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # The exporter reads the endpoint, headers and timeout from the standard OTEL_* variables.
        _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(_provider)

    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    # Outbound calls carry the trace on (traceparent), recorded or not.
    HTTPXClientInstrumentor().instrument(tracer_provider=_provider)
    if not exporting:
        # A span nobody records still costs its wrapper, and there is one for every statement and every
        # message (a fifth more CPU an application, measured). Unrecorded, the context travels in the envelope.
        return
    from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    AIOKafkaInstrumentor().instrument(tracer_provider=_provider)
    # At the driver, under SQLAlchemy: whatever SQLAlchemy's version, every statement is seen.
    AsyncPGInstrumentor().instrument(tracer_provider=_provider)  # type: ignore[no-untyped-call]


def instrument_app(app: Any) -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # One span a request: not one more for each ASGI message sent and received.
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=_provider,
        # 模拟积分 at hundreds a second: anonymous and stateless, it starts no trace worth keeping
        # unless spans are exported (the middleware's work is a tenth of such a request's CPU).
        excluded_urls="/healthz,/readyz,/metrics" + ("" if _exporting else ",/v1/estimate"),
        exclude_spans=["receive", "send"],
    )


def shutdown() -> None:
    """Send what is still buffered (a stopping service's last spans)."""
    if _provider is not None:
        _provider.force_flush(5000)


def current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


def current_traceparent() -> str | None:
    return carrier().get("traceparent")


def carrier() -> dict[str, str]:
    """The current context as W3C headers (`traceparent`, `tracestate`), to keep or to send."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers


def parse_trace_id(traceparent: str | None) -> str | None:
    """The trace id of a `traceparent` header, or None if it is not one."""
    ctx = trace.get_current_span(propagate.extract({"traceparent": traceparent or ""})).get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


@contextmanager
def publishing(
    made_in: Mapping[str, str], name: str, headers: list[tuple[str, bytes]], attributes: Attributes = None
) -> Iterator[None]:
    """Publish under the context an event was made in (kept in its outbox row): the message sent
    carries that trace on in its `headers`, however long after the request the relay sends it."""
    with _tracer.start_as_current_span(
        name, context=propagate.extract(dict(made_in)), kind=SpanKind.PRODUCER, attributes=attributes
    ):
        if not _exporting:  # else aiokafka's instrumentation adds its send span's context
            headers += [(k, v.encode()) for k, v in carrier().items()]
        yield


@contextmanager
def handling(
    headers: Sequence[tuple[str, bytes]] | None, fallback: Mapping[str, str], name: str, attributes: Attributes = None
) -> Iterator[None]:
    """Handle a message under the context its headers carry (or, failing those, its envelope's)."""
    carried = {k: v.decode("latin-1") for k, v in headers or [] if k in ("traceparent", "tracestate")}
    with _tracer.start_as_current_span(
        name, context=propagate.extract(carried or dict(fallback)), kind=SpanKind.CONSUMER, attributes=attributes
    ):
        yield


@contextmanager
def batch(name: str, members: Sequence[Mapping[str, str]], attributes: Attributes = None) -> Iterator[None]:
    """Work done once for a batch of messages (claiming them in the inbox): linked to each one's trace."""
    links = []
    for m in members if _exporting else ():  # links are only read where spans are recorded
        ctx = trace.get_current_span(propagate.extract(dict(m))).get_span_context()
        if ctx.is_valid:
            links.append(Link(ctx))
    with _tracer.start_as_current_span(name, kind=SpanKind.CONSUMER, links=links, attributes=attributes):
        yield
