"""Transactional outbox and its relay.

A service's state change and its outgoing events commit in one transaction (see
UnitOfWork); the relay then publishes unpublished rows in id order and marks them.
A crash between publish and mark re-publishes on restart (consumers deduplicate with
their inbox); nothing committed is ever lost.

Only one relay per service publishes at a time (a transaction-scoped advisory lock),
so replicas never reorder the events of one application.
"""

from __future__ import annotations

import asyncio
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from sqlalchemy import BigInteger, Integer, Table, Text, bindparam, cast, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import failpoints, tracing
from shared.db import UnitOfWork, for_units
from shared.events.catalogue import topic_of
from shared.events.envelope import Envelope
from shared.logging import get_logger
from shared.metrics import EVENTS_PUBLISHED, OUTBOX_LAG, OUTBOX_UNDELIVERABLE
from shared.settings import Settings

log = get_logger(__name__)


class Outbox:
    def __init__(self, table: Table, settings: Settings) -> None:
        self.table = table
        self.settings = settings
        self._wake = asyncio.Event()
        self.insert = insert(table)
        # Advisory lock key: one relay per schema.
        self.lock_key = zlib.crc32(f"outbox:{table.schema}".encode())

    def wake(self) -> None:
        self._wake.set()

    def row(self, e: Envelope) -> dict[str, Any]:
        """The outbox row of an event (for statements that write it themselves, see `add`)."""
        return {
            "event_id": e.id,
            "topic": self.settings.topic(topic_of(e)),
            "key": e.subject,
            "event_type": e.type,
            "payload": e.model_dump(mode="json"),
        }

    async def wait(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            pass
        self._wake.clear()


class OutboxRelay:
    def __init__(self, engine: AsyncEngine, outbox: Outbox, producer: AIOKafkaProducer, settings: Settings) -> None:
        self.engine = engine
        self.outbox = outbox
        self.producer = producer
        self.settings = settings
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._in_units = for_units(engine)  # a unit of work: transaction and statements on the driver
        t = outbox.table
        # Only one relay per service publishes at a time: the rest find the lock taken, and no rows.
        locked = select(func.pg_try_advisory_xact_lock(bindparam("lock", type_=BigInteger))).scalar_subquery()
        self._pending = (
            select(
                t.c.id,
                t.c.event_id,
                t.c.topic,
                t.c.key,
                t.c.event_type,
                cast(t.c.payload, Text).label("payload"),
                t.c.payload["traceparent"].astext.label("traceparent"),
                t.c.payload["tracestate"].astext.label("tracestate"),
                t.c.created_at,
            )
            .where(locked, t.c.published_at.is_(None))
            .order_by(t.c.id)
            .limit(bindparam("n", type_=Integer))
        )
        ids = bindparam("ids", type_=ARRAY(BigInteger))
        self._mark = update(t).where(t.c.id == func.any(ids)).values(published_at=func.now())

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.outbox.table.schema}")

    async def stop(self) -> None:
        self._stopping = True
        self.outbox.wake()
        if self._task:
            try:
                await asyncio.wait_for(self._task, 10)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()

    async def _run(self) -> None:
        interval = self.settings.outbox_poll_interval_ms / 1000
        while not self._stopping:
            try:
                sent = await self.publish_pending()
            except Exception as exc:  # broker or database down: back off, never die
                log.warning("outbox relay failed, will retry", error=str(exc))
                sent = 0
                await asyncio.sleep(1.0)
            if sent == 0:
                await self.outbox.wait(interval)
            if sent < self.settings.outbox_batch_size:
                # Let the commits of the next few milliseconds join the next batch: under load,
                # one relay transaction per batch instead of one per handful of events.
                await asyncio.sleep(self.settings.outbox_coalesce_ms / 1000)

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows; return how many were sent.

        Four round trips a batch, on the driver (see UnitOfWork): begin; take the lock and the rows
        in one statement; mark them; commit. A row's payload goes to the broker as the text the
        database gives, without being parsed and written again.
        """
        async with UnitOfWork(self._in_units) as uow:
            rows = await uow.fetch(self._pending, {"lock": self.outbox.lock_key, "n": self.settings.outbox_batch_size})
            if not rows:
                return 0
            failpoints.hit("outbox.before_publish")
            futures = []
            for row in rows:
                headers = [("event_type", row["event_type"].encode()), ("event_id", str(row["event_id"]).encode())]
                # Sent under the request's context, kept in the row: the message's headers carry it on.
                made_in = {k: row[k] for k in ("traceparent", "tracestate") if row[k]}
                try:
                    with tracing.publishing(
                        made_in, f"{row['event_type']} publish", headers, {"messaging.destination.name": row["topic"]}
                    ):
                        futures.append(
                            await self.producer.send(
                                row["topic"], value=row["payload"].encode(), key=row["key"].encode(), headers=headers
                            )
                        )
                except MessageSizeTooLargeError:
                    # No retry makes it fit: it must not hold up every event behind it. The row is
                    # marked relayed with the others but stays in the table, payload and all, for an operator.
                    OUTBOX_UNDELIVERABLE.labels(row["event_type"]).inc()
                    log.error(
                        "outbox event too large for the broker: not published, kept in the outbox table",
                        outbox_id=row["id"],
                        event_type=row["event_type"],
                        bytes=len(row["payload"].encode()),
                    )
            await asyncio.gather(*futures)
            failpoints.hit("outbox.after_publish_before_mark")
            await uow.run(self._mark, {"ids": [r["id"] for r in rows]})
            await uow.commit()
            now = datetime.now(UTC)
            for row in rows:
                EVENTS_PUBLISHED.labels(row["event_type"]).inc()
            OUTBOX_LAG.observe((now - rows[0]["created_at"]).total_seconds())
            return len(rows)


async def mark_for_republish(engine: AsyncEngine, table: Table, since: timedelta) -> int:
    """Re-queue events published within `since`: used after a broker lost its log.

    Consumers' inboxes make the second delivery harmless to those who already saw it.
    """
    cutoff = datetime.now(UTC) - since
    async with engine.begin() as conn:
        result = await conn.execute(
            update(table)
            .where(table.c.published_at.is_not(None), table.c.created_at >= cutoff)
            .values(published_at=None)
        )
        return result.rowcount or 0
