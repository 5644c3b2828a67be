"""Async database access: one engine per process and a unit of work around each transaction.

Services use SQLAlchemy Core on an AsyncConnection: the hot paths (intake's insert, the
consumers' inbox checks) are single statements, and Core keeps them cheap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import lru_cache
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


def for_units(engine: AsyncEngine) -> AsyncEngine:
    """The engine a `UnitOfWork` is given: the same pool, its connections in autocommit, since a
    unit of work begins and commits its transaction on the driver itself."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


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
        self._raw: Any = None
        self._transaction: Any = None

    async def __aenter__(self) -> UnitOfWork:
        # The transaction is the driver's, begun and ended here; SQLAlchemy's connection runs in
        # autocommit (it begins nothing itself) and its statements fall inside this transaction.
        # SQLAlchemy's own BEGIN and COMMIT, and its work on each statement, cost more CPU than the
        # hot paths' queries; those run on the driver directly (`run`, `fetch`, and at commit).
        self.conn = await self._engine.connect()
        try:
            self._raw = (await self.conn.get_raw_connection()).driver_connection
            self._transaction = await self._driver(self._begin(), "BEGIN")
        except BaseException:
            await self.conn.close()
            raise
        return self

    async def _begin(self) -> Any:
        transaction = self._raw.transaction()
        await transaction.start()
        return transaction

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if not self._committed and not self.conn.invalidated:
                try:
                    await self._driver(self._transaction.rollback(), "ROLLBACK")
                except Exception:
                    # Interrupted mid-statement (a cancelled task): the connection is out of step, so
                    # it is closed rather than pooled. The error that brought us here is the one to tell.
                    if not self.conn.invalidated:
                        await self.conn.invalidate()
                    if exc_type is None:
                        raise
        finally:
            await self.conn.close()

    async def _driver(self, call: Awaitable[Any], sql: str) -> Any:
        return await _on_driver(self.conn, call, sql)

    async def run(self, statement: Any, params: dict[str, Any] | list[dict[str, Any]]) -> None:
        """Execute a module-level Core statement in this transaction, once or for each of many
        parameter sets, straight on the driver (compiled once; see `_form`)."""
        many = params if isinstance(params, list) else [params]
        if not many:
            return
        form = _form(statement, self._engine.dialect, many[0])
        if form is None:
            await self.conn.execute(statement, params)
        elif len(many) == 1:
            await self._driver(self._raw.execute(form.sql, *form.args(many[0])), form.sql)
        else:
            await self._driver(self._raw.executemany(form.sql, [form.args(p) for p in many]), form.sql)

    async def fetch(self, statement: Any, params: dict[str, Any]) -> list[Any]:
        """The rows of a module-level Core statement in this transaction (see `Row`)."""
        form = _form(statement, self._engine.dialect, params)
        if form is None:  # an IN list expanded at execution: SQLAlchemy runs it, rows alike
            result = await self.conn.execute(statement, params)
            kind = _row_kind(tuple(result.keys()))
            return [kind(r) for r in result.all()]
        records = await self._driver(self._raw.fetch(form.sql, *form.args(params)), form.sql)
        return form.rows(records)

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
            await self.run(statement, rows)
        self._deferred = {}
        if self._events:
            assert self._outbox is not None
            await self.run(self._outbox.insert, [self._outbox.row(e) for e in self._events])
        await self._driver(self._transaction.commit(), "COMMIT")
        self._committed = True
        if (self._events or self._written_by_statement) and self._outbox is not None:
            self._outbox.wake()
        self._events = []
        told, self._after_commit = self._after_commit, []
        for tell in told:
            tell()


class Row(tuple[Any, ...]):
    """A row of `UnitOfWork.fetch`: by position, slice, name (`row["id"]`) or attribute (`row.id`),
    as SQLAlchemy's rows are read."""

    __slots__ = ()
    _index: dict[str, int] = {}

    def __getitem__(self, key: Any) -> Any:
        return tuple.__getitem__(self, self._index[key] if isinstance(key, str) else key)

    def __getattr__(self, name: str) -> Any:
        try:
            return tuple.__getitem__(self, self._index[name])
        except KeyError:
            raise AttributeError(name) from None

    @property
    def _mapping(self) -> dict[str, Any]:
        return dict(zip(self._index, self, strict=True))


@lru_cache(maxsize=1024)
def _row_kind(names: tuple[str, ...]) -> type[Row]:
    """The class of rows with these columns: a `Row` that knows where each name is."""
    return type("Row", (Row,), {"__slots__": (), "_index": {n: i for i, n in enumerate(names)}})


class _Form:
    """A statement compiled for one set of parameter names: its SQL and, in order, each bind's
    name, type processor and the value it has when the caller gives none (a literal)."""

    __slots__ = ("sql", "binds", "_results")

    def __init__(self, compiled: Any, dialect: Any) -> None:
        processors = compiled._bind_processors
        self.sql: str = compiled.string
        self.binds = [
            (name, processors.get(name), compiled.binds[name].effective_value) for name in compiled.positiontup
        ]
        # The columns SQLAlchemy would convert on the way out, as it would (`_form` leaves it to
        # SQLAlchemy when the conversion depends on the type the server answers with).
        self._results = [
            (i, process)
            for i, column in enumerate(getattr(compiled, "_result_columns", []))
            if (process := column[3]._cached_result_processor(dialect, None)) is not None
        ]

    def rows(self, records: list[Any]) -> list[Row]:
        """The driver's records as rows (JSON arrives parsed already: the dialect's codec does it)."""
        if not records:
            return []
        kind = _row_kind(tuple(records[0].keys()))
        if not self._results:
            return [kind(r) for r in records]
        rows = []
        for record in records:
            values = list(record)
            for i, process in self._results:
                values[i] = process(values[i])
            rows.append(kind(values))
        return rows

    def args(self, params: dict[str, Any]) -> list[Any]:
        out = []
        for name, process, literal in self.binds:
            value = params[name] if name in params else literal
            out.append(process(value) if process is not None else value)
        return out


# Compiled forms by statement: only module-level statements are run this way, so this stays small;
# the statement is kept beside its forms so its id cannot be reused by another.
_FORMS: dict[int, tuple[Any, dict[tuple[str, ...], _Form | None]]] = {}


def _form(statement: Any, dialect: Any, params: dict[str, Any]) -> _Form | None:
    """The driver-ready form of a Core statement for these parameter names (compiled the first time
    only), or None for one SQLAlchemy must run (an IN list expanded at execution, a numeric result)."""
    held = _FORMS.get(id(statement))
    if held is None or held[0] is not statement:
        held = _FORMS[id(statement)] = (statement, {})
    keys = tuple(sorted(params))
    if keys not in held[1]:
        # As for an executemany: an INSERT gets no RETURNING of its key unless it asks for one.
        compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
        expanding = any(b.expanding for b in compiled.binds.values()) or compiled.literal_execute_params
        try:
            held[1][keys] = None if expanding else _Form(compiled, dialect)
        except TypeError:  # a result type whose conversion needs the server's type (a numeric)
            held[1][keys] = None
    return held[1][keys]


def _translated(exc: BaseException, sql: str) -> DBAPIError:
    """The driver's error as SQLAlchemy's, so callers handle it as they would any other; marked
    `connection_invalidated` (an outage: the work waits) when the connection cannot go on."""
    if isinstance(exc, asyncpg.PostgresError):
        if (exc.sqlstate or "")[:2] in ("08", "57"):  # the server is going away (a restart, a crash)
            return DBAPIError(sql, None, exc, connection_invalidated=True)
        error = IntegrityError if isinstance(exc, asyncpg.IntegrityConstraintViolationError) else DBAPIError
        return error(sql, None, exc)
    # An argument of the wrong type is the work's fault; anything else the driver raises (closed,
    # reset, a protocol out of step after the server went away) leaves the connection unusable.
    dropped = not isinstance(exc, asyncpg.DataError)
    return DBAPIError(sql, None, exc, connection_invalidated=dropped)


async def _on_driver(conn: AsyncConnection, call: Awaitable[Any], sql: str) -> Any:
    """Await a call on `conn`'s driver connection; its errors come out as SQLAlchemy's, and a
    connection that is gone is not given back to the pool."""
    try:
        return await call
    except Exception as exc:
        error = _translated(exc, sql)
        if error.connection_invalidated:
            await _discard(conn, exc)
        raise error from exc


async def _discard(conn: AsyncConnection, exc: BaseException) -> None:
    """Close a connection that is gone and every other the pool made before it, as SQLAlchemy does
    when its own statement finds the server gone (they would fail the same way, one by one)."""
    if conn.invalidated:
        return
    sync = conn.sync_connection
    if sync is not None and sync.connection is not None:
        sync.engine.pool._invalidate(sync.connection, exc, _checkin=False)
    await conn.invalidate(exc)


class OneStatement:
    """A Core statement compiled once and run straight on the driver's connection, in autocommit.

    For a request whose whole effect is one statement (atomic by itself): SQLAlchemy's
    per-execution work (and the greenlet hop) cost more than the query on the hot path. Errors
    come out as SQLAlchemy's, so callers handle them as they would any other.
    """

    def __init__(self, statement: Any) -> None:
        self.statement = statement

    async def fetchrow(self, engine: AsyncEngine, params: dict[str, Any]) -> Any:
        form = _form(self.statement, engine.dialect, params)
        assert form is not None, "OneStatement takes no expanding IN lists"
        async with engine.connect() as conn:
            raw: Any = (await conn.get_raw_connection()).driver_connection
            return await _on_driver(conn, raw.fetchrow(form.sql, *form.args(params)), form.sql)


class Database:
    def __init__(
        self,
        url: str,
        pool_size: int = 10,
        outbox: Outbox | None = None,
        store_factory: Callable[[UnitOfWork], Any] | None = None,
    ) -> None:
        self.engine = make_engine(url, pool_size)
        self._in_units = for_units(self.engine)
        self.outbox = outbox
        self.store_factory = store_factory

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self._in_units, self.outbox, self.store_factory)

    async def ping(self, timeout: float = 2.0) -> None:
        async def _ping() -> None:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

        await asyncio.wait_for(_ping(), timeout)

    async def dispose(self) -> None:
        await self.engine.dispose()
