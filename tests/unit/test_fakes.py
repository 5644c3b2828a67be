"""The in-memory bus behaves as the real consumer does where handlers can tell: one unit of work a
delivery, a repeated event dropped, emitted events followed, nothing emitted by a failed handler."""

from __future__ import annotations

from datetime import date

import pytest

from shared.events import Envelope
from shared.events.catalogue import ApplicationWithdrawn
from tests.fakes import InMemoryBus


def withdrawn(app: str) -> Envelope:
    return Envelope.new(
        ApplicationWithdrawn(
            application_id=app, withdrawn_at=date(2026, 11, 29).isoformat() + "T00:00:00Z", principal="demo-window"
        ),
        source="test",
        subject=app,
    )


async def test_a_repeated_event_is_dropped_and_emitted_events_are_followed():
    store: dict[str, int] = {}

    async def count(uow, event, data):
        uow.store[data.application_id] = uow.store.get(data.application_id, 0) + 1
        if data.application_id == "A":
            uow.emit(withdrawn("B"))

    bus = InMemoryBus({"application.withdrawn": count}, store)
    first = withdrawn("A")
    emitted = await bus.follow([first, first])
    assert store == {"A": 1, "B": 1}
    assert [e.subject for e in emitted] == ["B"] and [e.subject for e in bus.of_type("application.withdrawn")] == [
        "A",
        "B",
        "A",
    ]


async def test_a_failing_handler_emits_nothing():
    async def fail(uow, event, data):
        uow.emit(withdrawn("C"))
        raise RuntimeError("broken")

    bus = InMemoryBus({"application.withdrawn": fail}, {})
    with pytest.raises(RuntimeError):
        await bus.deliver(withdrawn("A"))
    assert [e.subject for e in bus.published] == ["A"]
