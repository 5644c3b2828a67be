"""The service's link to the broker, made in the background so that the broker is never a
precondition of serving.

A service answers its API as soon as its database is there: intake accepts applications while
the broker is away (the outbox keeps their events), and the link connects the producer, starts
the outbox relay and joins the consumer groups (all at once, not one after another) whenever
the broker comes. Readiness reports what the link is waiting for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiokafka import AIOKafkaProducer

from shared.bus.consumer import EventConsumer
from shared.bus.kafka import ensure_topics, make_producer
from shared.bus.outbox import OutboxRelay
from shared.logging import get_logger
from shared.outages import describe
from shared.settings import Settings

log = get_logger(__name__)


class BrokerLink:
    def __init__(
        self,
        settings: Settings,
        relay: OutboxRelay,
        consumers: list[EventConsumer],
        producer_factory: Callable[[Settings], AIOKafkaProducer] = make_producer,
    ) -> None:
        self.settings = settings
        self.relay = relay
        self.consumers = consumers
        self._producer_factory = producer_factory
        self.producer: AIOKafkaProducer | None = None
        self.waiting_for: str | None = "connecting"
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self.producer is not None and all(c.running for c in self.consumers)

    def start(self) -> None:
        self._task = asyncio.create_task(self._connect_forever(), name="broker-link")

    async def _connect_forever(self) -> None:
        attempt = 0
        while True:
            try:
                await self._connect()
                self.waiting_for = None
                log.info("connected to the broker", consumers=[c.name for c in self.consumers])
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.waiting_for = f"broker: {describe(exc)}"
                if attempt % 10 == 0:
                    log.warning("broker not reachable yet: serving without it, retrying", error=self.waiting_for)
                attempt += 1
                await asyncio.sleep(min(5.0, 0.25 * 2 ** min(attempt, 5)))

    async def _connect(self) -> None:
        if self.producer is None:
            if self.settings.kafka_create_topics:  # else the topics job made them, with their settings
                await ensure_topics(self.settings, attempts=1)
            producer = self._producer_factory(self.settings)
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self.producer = producer
            self.relay.producer = producer
            for c in self.consumers:
                c.producer = producer
            self.relay.start()
        # Every group joins at once: ten departments take one join's time, not ten.
        pending = [c for c in self.consumers if not c.running]
        results = await asyncio.gather(*(c.start() for c in pending), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            raise failed[0]

    async def stop(self) -> None:
        if self._task and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        await asyncio.gather(*(c.stop() for c in self.consumers if c.running), return_exceptions=True)
        await self.relay.stop()
        if self.producer is not None:
            await self.producer.stop()
