"""Reference figure: raw produce→consume rate of the broker on this machine, same run."""

from __future__ import annotations

import asyncio
import secrets
import time

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.bus.kafka import make_producer
from shared.settings import Settings


async def broker_rate(settings: Settings, messages: int = 50_000, size: int = 900) -> dict:
    """acks=all producer and one consumer running at once; messages the size of our envelopes."""
    topic = f"bench-raw-{secrets.token_hex(3)}"
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    await admin.create_topics([NewTopic(topic, settings.kafka_partitions, 1)])
    await admin.close()
    payload = b"x" * size
    producer = make_producer(settings)
    await producer.start()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    got = 0

    async def consume() -> float:
        nonlocal got
        while got < messages:
            batch = await consumer.getmany(timeout_ms=500, max_records=2000)
            got += sum(len(v) for v in batch.values())
        return time.perf_counter()

    started = time.perf_counter()
    reader = asyncio.create_task(consume())
    futures = [await producer.send(topic, payload, key=str(i % 1000).encode()) for i in range(messages)]
    await asyncio.gather(*futures)
    produced = time.perf_counter()
    finished = await asyncio.wait_for(reader, 120)
    await producer.stop()
    await consumer.stop()
    # The local broker keeps messages in memory and slows as it holds more: what is measured after
    # the reference must not pay for the reference's 45 MB.
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    await admin.delete_topics([topic])
    await admin.close()
    return {
        "messages": messages,
        "message_bytes": size,
        "produce_per_s": round(messages / (produced - started)),
        "produce_to_consume_per_s": round(messages / (finished - started)),
    }
