"""The JSON envelope every message on the bus carries (DESIGN.md §3)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, Field, ValidationError

from shared.tracing import current_traceparent


class EventParseError(ValueError):
    """A message that is not a valid envelope or payload: retrying cannot help, it goes to the DLQ."""


class Envelope(BaseModel):
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    version: int
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    source: str
    subject: str
    traceparent: str | None = None
    data: dict[str, Any]

    @classmethod
    def new(cls, payload: BaseModel, *, source: str, subject: str) -> Envelope:
        from shared.events.catalogue import type_of

        event_type, version = type_of(type(payload))
        return cls(
            type=event_type,
            version=version,
            source=source,
            subject=subject,
            traceparent=current_traceparent(),
            data=payload.model_dump(mode="json"),
        )

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
