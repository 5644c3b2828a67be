"""Idempotent event consumer: inbox, bounded retries with backoff, dead-letter topic.

Each polled batch is first handled in one transaction (the fast path). If anything in
it fails, the transaction is rolled back and the batch is replayed one event at a time,
each with bounded retries; an event that still fails, or cannot be parsed at all, goes
to `<topic>.dlq` with the error attached, and the consumer moves on. Offsets are
committed only after a batch's effects (or its dead letters) are durable, so a crash
redelivers and the inbox turns the redelivery into a no-op.

An outage is not a fault of the events (see shared.outages): while the database, the broker
or a registry is away, the consumer keeps its batch in hand and tries it again with capped
exponential backoff, for as long as it takes, reporting what it waits for (`waiting_for`,
readiness, the `points_consumer_waiting` gauge). Nothing is dead-lettered for an outage.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from sqlalchemy import String, Table, bindparam, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared import tracing
from shared.bus.kafka import kafka_security
from shared.db import Database, UnitOfWork
from shared.events.catalogue import parse_data
from shared.events.envelope import Envelope, EventParseError
from shared.logging import get_logger
from shared.metrics import BATCH_SIZE, CONSUMER_WAITING, DEAD_LETTERS, EVENTS_CONSUMED, HANDLER_LATENCY, OUTAGE_WAITS
from shared.outages import describe, is_outage
from shared.settings import Settings

log = get_logger(__name__)

Handler = Callable[[UnitOfWork, Envelope, Any], Awaitable[None]]


@dataclass
class _Parsed:
    record: ConsumerRecord
    event: Envelope | None = None
    payload: Any = None
    error: str | None = None


def partition_lag(end: int, committed: int | None, first: int) -> int:
    """The messages on a partition a group has yet to handle. It reads from its committed offset or,
    with none (nothing committed yet, or the committed one deleted by retention), from the first
    message still there (`auto_offset_reset="earliest"`): counting from 0 would add what retention
    has already deleted, and a new group on an old topic would seem to lag for ever."""
    start = first if committed is None else max(committed, first)
    return max(0, end - start)


def _claiming(inbox: Table, consumer: str) -> Any:
    """INSERT … SELECT FROM unnest(ids, types) ON CONFLICT DO NOTHING RETURNING event_id: one statement
    for a batch of any size, compiled once (a multi-row VALUES list is compiled anew for every
    batch, a tenth of a consumer's CPU under load)."""
    given = (
        func.unnest(bindparam("ids", type_=ARRAY(PG_UUID(as_uuid=True))), bindparam("types", type_=ARRAY(String)))
        .table_valued("event_id", "event_type")
        .render_derived()
    )
    rows = select(literal(consumer, String), given.c.event_id, given.c.event_type)
    return (
        pg_insert(inbox)
        .from_select(["consumer", "event_id", "event_type"], rows)
        .on_conflict_do_nothing()
        .returning(inbox.c.event_id)
    )


class EventConsumer:
    def __init__(
        self,
        *,
        name: str,
        topics: list[str],
        handlers: dict[str, Handler],
        db: Database,
        inbox: Table,
        producer: AIOKafkaProducer,
        settings: Settings,
    ) -> None:
        self.name = name
        self.topics = [settings.topic(t) for t in topics]
        self.handlers = handlers
        self.db = db
        self.inbox = inbox
        self._claim_statement = _claiming(inbox, name)
        self.producer = producer
        self.settings = settings
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.processed = 0
        # What the consumer is waiting for (a dependency's error), or None while it works.
        self.waiting_for: str | None = None
        self._dead_lettered: set[tuple[str, int, int]] = set()

    @property
    def group_id(self) -> str:
        return self.settings.group(self.name)

    def _make_consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=self.group_id,
            client_id=f"{self.settings.service_name}-{self.name}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self.settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=self.settings.kafka_heartbeat_interval_ms,
            max_poll_records=self.settings.kafka_max_batch,
            # Static membership: a restarted process takes its own place back at once, instead of
            # waiting a session timeout for the group to forget the one that died.
            group_instance_id=(
                f"{self.settings.kafka_group_instance_id}-{self.name}"
                if self.settings.kafka_group_instance_id
                else None
            ),
            **kafka_security(self.settings),
        )

    async def start(self) -> None:
        """Connect and join the group (raises while the broker is away: the caller retries)."""
        consumer = self._make_consumer()
        try:
            await consumer.start()
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.name}")

    async def stop(self) -> None:
        self._stopping = True
        if self._task:
            try:
                await asyncio.wait_for(self._task, 10)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
        if self._consumer:
            await self._consumer.stop()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def lag(self) -> dict[tuple[str, int], int]:
        """Per assigned partition, the messages on it the group has not committed (asked of the broker)."""
        consumer = self._consumer
        if consumer is None or not self.running:
            return {}
        partitions = sorted(consumer.assignment())
        if not partitions:
            return {}
        ends = await consumer.end_offsets(partitions)
        committed = await asyncio.gather(*(consumer.committed(tp) for tp in partitions))
        firsts = await consumer.beginning_offsets(partitions)
        return {
            (tp.topic, tp.partition): partition_lag(ends[tp], done, firsts[tp])
            for tp, done in zip(partitions, committed, strict=True)
        }

    def _waiting(self, reason: str | None) -> None:
        self.waiting_for = reason
        CONSUMER_WAITING.labels(self.name).set(1 if reason else 0)

    async def _pause(self, attempt: int) -> None:
        """Exponential backoff with a cap: a long outage costs a poll every few seconds, not a storm."""
        delay = (
            min(
                self.settings.consumer_outage_backoff_max_ms,
                self.settings.consumer_retry_backoff_ms * 2 ** min(attempt, 16),
            )
            / 1000
        )
        await asyncio.sleep(delay)

    async def _run(self) -> None:
        assert self._consumer is not None
        while not self._stopping:
            try:
                batches = await self._consumer.getmany(timeout_ms=200, max_records=self.settings.kafka_max_batch)
                records = [r for recs in batches.values() for r in recs]
                if not records:
                    self._waiting(None)
                    continue
                if len(records) < self.settings.kafka_max_batch and self.settings.consumer_coalesce_ms:
                    # Under load, wait a moment for more: one transaction, one offset commit
                    # and one relay batch for many events instead of one each.
                    await asyncio.sleep(self.settings.consumer_coalesce_ms / 1000)
                    more = await self._consumer.getmany(
                        timeout_ms=0, max_records=self.settings.kafka_max_batch - len(records)
                    )
                    records += [r for recs in more.values() for r in recs]
                BATCH_SIZE.labels(self.name).observe(len(records))
                started = time.perf_counter()
                if not await self._process_until_done(records):
                    return  # stopping: nothing committed, the batch is redelivered to whoever comes next
                await self._consumer.commit()
                HANDLER_LATENCY.labels(self.name).observe(time.perf_counter() - started)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The broker is away, or the group rebalanced under us: the effects are durable but
                # the offsets may not be, so the same records may come back (the inbox drops them).
                log.warning(
                    "consumer could not commit or poll, rewinding to committed offsets",
                    consumer=self.name,
                    error=describe(exc),
                )
                await self._rewind()

    async def _process_until_done(self, records: list[ConsumerRecord]) -> bool:
        """Handle the batch, waiting out any outage of the database or broker; False if stopping first.

        The batch is kept in hand while it waits: polling on would hand out later records, and
        committing them would skip this batch.
        """
        attempt = 0
        while True:
            try:
                await self.process(records)
                self._waiting(None)
                return True
            except Exception as exc:
                if not is_outage(exc):
                    raise
                self._waiting(describe(exc))
                OUTAGE_WAITS.labels(self.name).inc()
                if attempt % 10 == 0:
                    log.warning(
                        "a dependency is away: the batch waits",
                        consumer=self.name,
                        size=len(records),
                        attempt=attempt + 1,
                        error=self.waiting_for,
                    )
            if self._stopping:
                return False
            await self._pause(attempt)
            attempt += 1

    async def _rewind(self) -> None:
        """Seek every assigned partition back to its committed offset, however long the broker is away:
        polling on from the current position would skip what was not committed."""
        assert self._consumer is not None
        attempt = 0
        while not self._stopping:
            try:
                for tp in self._consumer.assignment():
                    committed = await self._consumer.committed(tp)
                    if committed is None:
                        await self._consumer.seek_to_beginning(tp)
                    else:
                        self._consumer.seek(tp, committed)
                self._waiting(None)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._waiting(describe(exc))
                if attempt % 10 == 0:
                    log.warning("could not rewind consumer yet", consumer=self.name, error=describe(exc))
                await self._pause(attempt)
                attempt += 1

    async def process(self, records: list[ConsumerRecord]) -> None:
        """Handle a batch: one transaction if all goes well, else one event at a time."""
        parsed = [self._parse(r) for r in records]
        for p in parsed:
            if p.error is not None:
                await self._dead_letter(p.record, p.error)
        good = [p for p in parsed if p.error is None]
        if not good:
            return
        try:
            # The batch's own statements (inbox, commit) in a span linked to every event's trace;
            # each event's handling in the trace of the request that caused it (_handle_one).
            with tracing.batch(f"{self.name} batch", [p.event.trace for p in good if p.event is not None]):
                async with self.db.unit_of_work() as uow:
                    # Only events it handles go in the inbox: one it ignores has no effect to repeat.
                    handled = [p for p in good if p.event is not None and p.event.type in self.handlers]
                    fresh = await self._claim(uow, handled) if handled else set()
                    for p in good:
                        await self._handle_one(uow, p, claimed=p.event.id in fresh)  # type: ignore[union-attr]
                        fresh.discard(p.event.id)  # type: ignore[union-attr]  # a repeat inside the batch
                    await uow.commit()
            self.processed += len(good)
            return
        except Exception as exc:
            if is_outage(exc):
                raise  # nothing is wrong with the events: the whole batch waits for the dependency
            log.warning("batch failed, replaying one by one", consumer=self.name, size=len(good), error=repr(exc))
        for p in good:
            await self._handle_isolated(p)

    def _parse(self, record: ConsumerRecord) -> _Parsed:
        try:
            event = Envelope.from_bytes(record.value)
            handler = self.handlers.get(event.type)
            payload = parse_data(event) if handler is not None else None
            return _Parsed(record, event, payload)
        except EventParseError as exc:
            return _Parsed(record, error=str(exc))

    async def _claim(self, uow: UnitOfWork, parsed: list[_Parsed]) -> set[Any]:
        """Record the events in the inbox; return the ids not seen before (one statement a batch)."""
        types = {p.event.id: p.event.type for p in parsed if p.event is not None}
        rows = await uow.fetch(self._claim_statement, {"ids": list(types), "types": list(types.values())})
        return {row[0] for row in rows}

    async def _handle_one(self, uow: UnitOfWork, p: _Parsed, claimed: bool | None = None) -> None:
        event = p.event
        assert event is not None
        with tracing.handling(
            p.record.headers,
            event.trace,
            f"{event.type} process",
            {"messaging.consumer.group.name": self.group_id, "messaging.destination.name": p.record.topic},
        ):
            await self._handle_traced(uow, p, event, claimed)

    async def _handle_traced(self, uow: UnitOfWork, p: _Parsed, event: Envelope, claimed: bool | None) -> None:
        handler = self.handlers.get(event.type)
        if handler is None:
            EVENTS_CONSUMED.labels(self.name, event.type, "ignored").inc()
            return
        if claimed is None:
            claimed = bool(await self._claim(uow, [p]))
        if not claimed:
            EVENTS_CONSUMED.labels(self.name, event.type, "duplicate").inc()
            return
        await handler(uow, event, p.payload)
        EVENTS_CONSUMED.labels(self.name, event.type, "handled").inc()
        log.info("event handled", consumer=self.name, type=event.type, subject=event.subject, event_id=str(event.id))

    async def _handle_isolated(self, p: _Parsed) -> None:
        attempts = self.settings.consumer_max_retries + 1
        error = ""
        for attempt in range(attempts):
            try:
                async with self.db.unit_of_work() as uow:
                    await self._handle_one(uow, p)
                    await uow.commit()
                self.processed += 1
                return
            except EventParseError as exc:  # a handler found the payload unusable: no retry helps
                error = str(exc)
                break
            except Exception as exc:
                if is_outage(exc):
                    raise  # the database or a registry went away meanwhile: the batch waits, whole
                error = f"{type(exc).__name__}: {exc}"
                log.warning("handler failed", consumer=self.name, attempt=attempt + 1, error=error)
                if attempt + 1 < attempts:
                    await asyncio.sleep(self.settings.consumer_retry_backoff_ms / 1000 * (2**attempt))
        await self._dead_letter(p.record, error)

    async def _dead_letter(self, record: ConsumerRecord, error: str) -> None:
        where = (record.topic, record.partition, record.offset)
        if where in self._dead_lettered:
            return  # the batch is being replayed (a dependency was down): this one is in the DLQ already
        if len(self._dead_lettered) > 10_000:
            self._dead_lettered.clear()
        dlq = f"{record.topic}.dlq"
        headers = list(record.headers or []) + [
            ("dlq.error", error[:4000].encode()),
            ("dlq.consumer", self.name.encode()),
            ("dlq.topic", record.topic.encode()),
            ("dlq.partition", str(record.partition).encode()),
            ("dlq.offset", str(record.offset).encode()),
        ]
        await self.producer.send_and_wait(dlq, value=record.value, key=record.key, headers=headers)
        self._dead_lettered.add(where)
        DEAD_LETTERS.labels(self.name, record.topic).inc()
        log.error(
            "event dead-lettered", consumer=self.name, topic=record.topic, offset=record.offset, error=error[:500]
        )
