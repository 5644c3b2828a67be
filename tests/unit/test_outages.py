"""An outage is told from a fault by the error's whole chain: the first waits, the second is the work's."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka import errors as kafka_errors
from sqlalchemy import exc as sa_exc

from shared.outages import Unavailable, describe, is_outage


def _wrapped(orig: BaseException, invalidated: bool = False) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError("SELECT 1", None, orig, connection_invalidated=invalidated)  # type: ignore[arg-type]


def _caused_by(cause: BaseException) -> RuntimeError:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise RuntimeError("handler failed") from inner
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        FileNotFoundError(2, "No such file or directory"),  # the Unix socket, while PostgreSQL restarts
        TimeoutError(),
        _wrapped(ConnectionResetError(), invalidated=True),
        _wrapped(asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command")),
        _wrapped(asyncpg.exceptions.CannotConnectNowError("the database system is starting up")),
        _wrapped(asyncpg.exceptions.TooManyConnectionsError("too many clients")),
        _wrapped(asyncpg.exceptions.SerializationError("could not serialize access")),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        sa_exc.TimeoutError("QueuePool limit reached"),
        kafka_errors.KafkaConnectionError("Unable to bootstrap"),
        kafka_errors.KafkaTimeoutError(),
        kafka_errors.NotLeaderForPartitionError(),
        Unavailable("the registry's circuit is open"),
        _caused_by(ConnectionResetError()),  # wrapped by a handler
    ],
    ids=lambda e: type(e).__name__,
)
def test_an_unavailable_dependency_is_an_outage(error):
    assert is_outage(error)


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("a bug"),
        KeyError("indicator"),
        ValueError("bad date"),
        _wrapped(asyncpg.exceptions.UniqueViolationError("duplicate key")),
        _wrapped(asyncpg.exceptions.NumericValueOutOfRangeError("integer out of range")),
        _wrapped(asyncpg.exceptions.UndefinedTableError("relation does not exist")),
        kafka_errors.MessageSizeTooLargeError(),
        _caused_by(ValueError("bad payload")),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_fault_of_the_work_is_not_an_outage(error):
    assert not is_outage(error)


def test_the_description_names_the_dependency_error_not_the_wrapper():
    assert describe(_caused_by(ConnectionRefusedError(111, "Connection refused"))).startswith("ConnectionRefusedError")
