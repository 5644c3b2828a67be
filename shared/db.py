"""Async database access: one engine per process and a unit of work around each transaction.

Services use SQLAlchemy Core on an AsyncConnection: the hot paths (intake's insert, the
consumers' inbox checks) are single statements, and Core keeps them cheap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import asyncpg
import orjson
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

if TYPE_CHECKING:
    from shared.bus.outbox import Outbox
    from shared.events.envelope import Envelope


def _dumps(value: object) -> str:
    return orjson.dumps(value, default=str).decode()


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    # No pre-ping (a round trip per checkout) and little overflow (overflow connections are
    # closed on return, so a burst would reconnect over and over); a dead connection fails
    # its transaction, which every caller already retries.
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max(2, pool_size // 4),
        pool_recycle=1800,
        json_serializer=_dumps,
        json_deserializer=orjson.loads,
    )


class UnitOfWork:
    """One database transaction plus the events it emits.

    Events are written to the service's outbox table inside the same transaction, so
    the state change and the promise to publish it commit or vanish together.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        outbox: Outbox | None = None,
        store_factory: Callable[[UnitOfWork], Any] | None = None,
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._store_factory = store_factory
        self._store: Any = None
        self._events: list[Envelope] = []
        self._deferred: dict[int, tuple[Any, list[dict[str, Any]]]] = {}
        # Per-transaction memory for handlers (e.g. a chain head already locked).
        self.memo: dict[str, Any] = {}
        self._before_commit: dict[str, Callable[[], Awaitable[None]]] = {}
        self._after_commit: list[Callable[[], None]] = []
        self._committed = False
        self._written_by_statement = False
        self.conn: AsyncConnection

    async def __aenter__(self) -> UnitOfWork:
        self.conn = await self._engine.connect()
        await self.conn.begin()
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if not self._committed:
                await self.conn.rollback()
        finally:
            await self.conn.close()

    @property
    def store(self) -> Any:
        """The service's store (its SQL, by intent) on this transaction: handlers and use cases
        speak to it, so a test can hand them a fake one instead (tests/fakes.py)."""
        if self._store is None:
            if self._store_factory is None:
                raise RuntimeError("this unit of work has no store: give the Database a store_factory")
            self._store = self._store_factory(self)
        return self._store

    def emit_by_statement(self, template: Envelope) -> dict[str, Any]:
        """For a statement that writes many events' outbox rows itself, from a set held in the database
        (a round's candidates, a chunk an event): the outbox row of `template` to build them from. The
        relay is woken at commit as for `emit`; nothing of the set passes through this process."""
        if self._outbox is None:
            raise RuntimeError("this unit of work has no outbox to emit into")
        self._written_by_statement = True
        return self._outbox.row(template)

    def later(self, statement: Any, params: dict[str, Any]) -> None:
        """Run `statement` with `params` at commit, batched with the other calls of it.

        A consumer batch of two hundred events then writes its timeline rows in one
        statement, not two hundred. Only for writes this transaction does not read back.
        Statements run in the order each was first deferred.
        """
        self._deferred.setdefault(id(statement), (statement, []))[1].append(params)

    def before_commit(self, key: str, hook: Callable[[], Awaitable[None]]) -> None:
        """Run `hook` once, just before commit: work that is cheaper done once for a whole
        batch of events (scoring every application the batch completed in one evaluation)."""
        self._before_commit.setdefault(key, hook)

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` once the transaction has committed, and never if it rolls back: what may only be
        told of what happened (a metric counted), not of what was merely tried."""
        self._after_commit.append(hook)

    def emit(self, event: Envelope) -> None:
        if self._outbox is None:
            raise RuntimeError("this unit of work has no outbox to emit into")
        self._events.append(event)

    async def commit(self) -> None:
        while self._before_commit:
            hook = self._before_commit.pop(next(iter(self._before_commit)))
            await hook()
        for statement, rows in self._deferred.values():
            await self.conn.execute(statement, rows)
        self._deferred = {}
        if self._events:
            assert self._outbox is not None
            await self._outbox.add(self.conn, self._events)
        await self.conn.commit()
        self._committed = True
        if (self._events or self._written_by_statement) and self._outbox is not None:
            self._outbox.wake()
        self._events = []
        told, self._after_commit = self._after_commit, []
        for tell in told:
            tell()


class OneStatement:
    """A Core statement compiled once and run straight on the driver's connection, in autocommit.

    For a request whose whole effect is one statement (atomic by itself): SQLAlchemy's
    per-execution work (and the greenlet hop) cost more than the query on the hot path. Errors
    come out as SQLAlchemy's, so callers handle them as they would any other.
    """

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._sql: str | None = None
        self._binds: list[tuple[str, Any]] = []

    def _compile(self, engine: AsyncEngine) -> str:
        compiled = self.statement.compile(dialect=engine.dialect)
        processors = compiled._bind_processors
        self._binds = [(name, processors.get(name)) for name in compiled.positiontup]
        self._sql = compiled.string
        return self._sql

    async def fetchrow(self, engine: AsyncEngine, params: dict[str, Any]) -> Any:
        sql = self._sql or self._compile(engine)
        args = [process(params[name]) if process else params[name] for name, process in self._binds]
        async with engine.connect() as conn:
            raw: Any = conn.sync_connection.connection.driver_connection  # type: ignore[union-attr]  # already checked out
            try:
                return await raw.fetchrow(sql, *args)
            except asyncpg.PostgresError as exc:
                if (exc.sqlstate or "")[:2] in ("08", "57"):  # the server is going away (a restart, a crash)
                    await conn.invalidate()
                    raise DBAPIError(sql, None, exc, connection_invalidated=True) from exc
                error = IntegrityError if isinstance(exc, asyncpg.IntegrityConstraintViolationError) else DBAPIError
                raise error(sql, None, exc) from exc
            except (asyncpg.InterfaceError, OSError) as exc:
                await conn.invalidate()  # a dropped connection must not go back to the pool
                raise DBAPIError(sql, None, exc, connection_invalidated=True) from exc


class Database:
    def __init__(
        self,
        url: str,
        pool_size: int = 10,
        outbox: Outbox | None = None,
        store_factory: Callable[[UnitOfWork], Any] | None = None,
    ) -> None:
        self.engine = make_engine(url, pool_size)
        self.outbox = outbox
        self.store_factory = store_factory

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.engine, self.outbox, self.store_factory)

    async def ping(self, timeout: float = 2.0) -> None:
        async def _ping() -> None:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

        await asyncio.wait_for(_ping(), timeout)

    async def dispose(self) -> None:
        await self.engine.dispose()
