"""The JSON envelope every message on the bus carries (DESIGN.md §3)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, Field, ValidationError

from shared import tracing


class EventParseError(ValueError):
    """A message that is not a valid envelope or payload: retrying cannot help, it goes to the DLQ."""


class Envelope(BaseModel):
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    version: int
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    source: str
    subject: str
    # The W3C trace context the event was made in (kept with the outbox row: shared.tracing).
    traceparent: str | None = None
    tracestate: str | None = None
    data: dict[str, Any]

    @classmethod
    def new(cls, payload: BaseModel, *, source: str, subject: str, trace: Mapping[str, str] | None = None) -> Envelope:
        """`trace`: the context it belongs to, if not the current one (work done for a whole batch)."""
        from shared.events.catalogue import type_of

        event_type, version = type_of(type(payload))
        carried = tracing.carrier() if trace is None else trace
        return cls(
            type=event_type,
            version=version,
            source=source,
            subject=subject,
            traceparent=carried.get("traceparent"),
            tracestate=carried.get("tracestate"),
            data=payload.model_dump(mode="json"),
        )

    @property
    def trace(self) -> dict[str, str]:
        return {k: v for k, v in (("traceparent", self.traceparent), ("tracestate", self.tracestate)) if v}

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> Envelope:
        if raw is None:
            raise EventParseError("empty message")
        try:
            return cls.model_validate(orjson.loads(raw))
        except (orjson.JSONDecodeError, ValidationError) as exc:
            raise EventParseError(f"not a valid event envelope: {exc}") from exc
