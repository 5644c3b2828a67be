"""Gauges read when Prometheus scrapes: the outbox's backlog and the consumers' lag.

Read at scrape time rather than kept up to date by the relay or the consumers themselves: a relay
that has stalled, or a consumer stuck on a batch, would stop updating its own gauges just when
they matter. Each read is bounded, so `/metrics` answers even while the database or the broker
is away (the gauges then keep their last values; readiness says what is down).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Table, func, select

from shared.bus.consumer import EventConsumer
from shared.db import Database
from shared.logging import get_logger
from shared.metrics import CONSUMER_LAG, OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE

log = get_logger(__name__)
TIMEOUT_SECONDS = 2.0


async def refresh(db: Database, outbox: Table, consumers: Sequence[EventConsumer]) -> None:
    results = await asyncio.gather(
        asyncio.wait_for(_outbox(db, outbox), TIMEOUT_SECONDS),
        asyncio.wait_for(_lag(consumers), TIMEOUT_SECONDS),
        return_exceptions=True,
    )
    for what, result in zip(("outbox backlog", "consumer lag"), results, strict=True):
        if isinstance(result, Exception):
            log.warning("could not read a gauge", gauge=what, error=repr(result))


async def _outbox(db: Database, outbox: Table) -> None:
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None))
            )
        ).one()
    OUTBOX_BACKLOG.set(row[0])
    OUTBOX_OLDEST_AGE.set((datetime.now(UTC) - row[1]).total_seconds() if row[1] else 0)


async def _lag(consumers: Sequence[EventConsumer]) -> None:
    lags = await asyncio.gather(*(c.lag() for c in consumers))
    CONSUMER_LAG.clear()  # partitions moved to another replica are no longer this one's to report
    for c, lag in zip(consumers, lags, strict=True):
        for (topic, partition), behind in lag.items():
            CONSUMER_LAG.labels(c.name, c.group_id, topic, str(partition)).set(behind)
