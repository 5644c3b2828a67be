"""Test doubles for handlers and use cases: a fake unit of work and an in-memory bus.

A service's handlers and use cases talk to `uow.store` (the service's store.py: its SQL, by
intent), `uow.emit`, `uow.before_commit` and `uow.after_commit`, never to the database directly. So a unit test hands
them a `FakeUnitOfWork` around a fake store of the service's own (a few dicts), and needs neither
PostgreSQL nor a broker. The `InMemoryBus` delivers events to a service's handler table as the
consumer would (one unit of work a delivery, the inbox dropping an event seen before) and keeps
what the handlers emit, so a test can follow a chain of events in memory (FastStream's test broker,
for this platform's handlers).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from shared.events.catalogue import parse_data
from shared.events.envelope import Envelope

Handler = Callable[[Any, Envelope, Any], Awaitable[None]]


class FakeUnitOfWork:
    """The unit of work's interface, in memory: what was emitted, and whether it was committed."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.emitted: list[Envelope] = []
        self.committed = False
        self.memo: dict[str, Any] = {}
        self._before_commit: dict[str, Callable[[], Awaitable[None]]] = {}
        self._after_commit: list[Callable[[], None]] = []

    async def __aenter__(self) -> FakeUnitOfWork:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if not self.committed:
            self.emitted = []  # rolled back: nothing was promised to anyone

    def emit(self, event: Envelope) -> None:
        self.emitted.append(event)

    def emit_by_statement(self, template: Envelope) -> dict[str, Any]:
        """The template's outbox row; the fake store writes the events from it with `emit` (the real
        statement writes them in the database)."""
        return {
            "event_id": template.id,
            "topic": template.type,
            "key": template.subject,
            "event_type": template.type,
            "payload": template.model_dump(mode="json"),
            "emit": self.emit,
        }

    def before_commit(self, key: str, hook: Callable[[], Awaitable[None]]) -> None:
        self._before_commit.setdefault(key, hook)

    def after_commit(self, hook: Callable[[], None]) -> None:
        self._after_commit.append(hook)

    async def commit(self) -> None:
        while self._before_commit:
            hook = self._before_commit.pop(next(iter(self._before_commit)))
            await hook()
        self.committed = True
        hooks, self._after_commit = self._after_commit, []
        for after in hooks:
            after()


class InMemoryBus:
    """Delivers events to handlers in memory, one fake unit of work a delivery, over one store.

    `deliver` hands an event to the handler of its type (if any) and returns what the handler
    emitted; `follow` keeps delivering what comes out to the same handlers, for a service whose
    handlers answer each other. Every delivered and emitted event is in `published`, in order.
    """

    def __init__(self, handlers: dict[str, Handler], store: Any) -> None:
        self.handlers = handlers
        self.store = store
        self.published: list[Envelope] = []
        self._seen: set[Any] = set()

    async def deliver(self, event: Envelope, *, emitted_here: bool = False) -> list[Envelope]:
        if not emitted_here:  # an event a handler emitted is in `published` already
            self.published.append(event)
        handler = self.handlers.get(event.type)
        if handler is None or event.id in self._seen:  # the inbox drops an event handled before
            return []
        uow = FakeUnitOfWork(self.store)
        async with uow:
            await handler(uow, event, parse_data(event))
            await uow.commit()
        self._seen.add(event.id)
        self.published += uow.emitted
        return uow.emitted

    async def follow(self, events: Iterable[Envelope], limit: int = 1000) -> list[Envelope]:
        """Deliver `events`, then everything they cause, breadth first; return all that was emitted."""
        queue, out = [(e, False) for e in events], []
        while queue:
            if len(out) > limit:
                raise AssertionError(f"more than {limit} events: a handler loop?")
            event, emitted_here = queue.pop(0)
            emitted = await self.deliver(event, emitted_here=emitted_here)
            out += emitted
            queue += [(e, True) for e in emitted]
        return out

    def of_type(self, event_type: str) -> list[Envelope]:
        return [e for e in self.published if e.type == event_type]
