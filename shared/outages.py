"""Telling an outage from a fault: is this error about a dependency that is away, or about the work?

An outage (the database restarting, the broker gone, a registry down) says nothing about the
event or request being handled: the same work succeeds once the dependency is back, so it must
wait, never be dead-lettered or answered as a 500. Everything else is a fault of the work itself.
The error's whole chain (`__cause__`, `__context__`) is read, because SQLAlchemy, tenacity and
our own adapters wrap the driver's error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
from aiokafka import errors as kafka_errors
from sqlalchemy import exc as sa_exc

# SQLSTATE classes and codes that describe the server, not the statement: connection exceptions
# (08), insufficient resources (53: too many connections, disk full), operator intervention (57:
# admin shutdown, crash shutdown, cannot connect now), system errors (58), and a serialisation or
# deadlock conflict (40001, 40P01) that a retry resolves.
_OUTAGE_CLASSES = ("08", "53", "57", "58")
_OUTAGE_CODES = {"40001", "40P01"}


class Unavailable(Exception):
    """A dependency (a registry, a partner service) is down. The work is fine: it waits and
    is tried again; it is neither retried to exhaustion nor dead-lettered."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [e.__cause__, e.__context__, getattr(e, "orig", None)]


def _is_outage_one(e: BaseException) -> bool:
    if isinstance(e, Unavailable):
        return True
    # Refused, reset, unreachable, timed out; a missing Unix socket while PostgreSQL restarts.
    # (Handlers do no file I/O of their own, so an OSError there is the network's.)
    if isinstance(e, (OSError, asyncio.TimeoutError)):
        return True
    if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
        return True
    if isinstance(e, (sa_exc.TimeoutError, sa_exc.DisconnectionError)):  # pool exhausted, dropped connection
        return True
    if isinstance(e, asyncpg.exceptions.ConnectionDoesNotExistError) or (
        isinstance(e, asyncpg.InterfaceError) and "connection is closed" in str(e)
    ):
        return True
    sqlstate = getattr(e, "sqlstate", None)
    if isinstance(sqlstate, str) and (sqlstate[:2] in _OUTAGE_CLASSES or sqlstate in _OUTAGE_CODES):
        return True
    if isinstance(e, kafka_errors.KafkaError) and (
        e.retriable
        or isinstance(
            e, (kafka_errors.KafkaConnectionError, kafka_errors.KafkaTimeoutError, kafka_errors.NodeNotReadyError)
        )
    ):
        return True
    return False


def is_outage(exc: BaseException) -> bool:
    """True when the error (or anything it wraps) says a dependency is away, not that the work is bad."""
    return any(_is_outage_one(e) for e in _chain(exc))


def describe(exc: BaseException) -> str:
    """A short line naming the dependency's error, for logs and readiness."""
    for e in _chain(exc):
        if _is_outage_one(e) and not isinstance(e, sa_exc.StatementError):
            return f"{type(e).__name__}: {str(e)[:200]}"
    return f"{type(exc).__name__}: {str(exc)[:200]}"
