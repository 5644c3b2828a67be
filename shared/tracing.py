"""W3C trace context carried across HTTP requests and Kafka headers.

The trace id of the partner's request that submitted an application follows it through
every service, so one grep of the JSON logs shows an application's whole journey.
"""

from __future__ import annotations

import contextvars
import re
import secrets

import structlog

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("traceparent", default=None)


def new_traceparent(trace_id: str | None = None) -> str:
    return f"00-{trace_id or secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def parse_trace_id(traceparent: str | None) -> str | None:
    if not traceparent:
        return None
    m = _TRACEPARENT.match(traceparent.strip().lower())
    return m.group(1) if m else None


def continue_trace(traceparent: str | None) -> str:
    """Enter the trace of an incoming request or event (or start a new one); return our span."""
    trace_id = parse_trace_id(traceparent)
    tp = new_traceparent(trace_id)
    _current.set(tp)
    structlog.contextvars.bind_contextvars(trace_id=parse_trace_id(tp))
    return tp


def current_traceparent() -> str:
    tp = _current.get()
    return tp if tp else continue_trace(None)
