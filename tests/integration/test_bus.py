"""The bus's guarantees on the real broker and database: inbox, dead letters, restarts."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, date, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local import broker
from shared.bus.consumer import EventConsumer
from shared.bus.kafka import ensure_topics, make_producer
from shared.bus.tables import inbox_table
from shared.db import Database
from shared.events import Envelope
from shared.events.catalogue import APPLICATIONS, ApplicationSubmitted, ApplicationWithdrawn, Holder
from shared.settings import Settings

pytestmark = pytest.mark.integration

metadata = MetaData(schema="bustest")
inbox = inbox_table(metadata)
effects = Table(
    "effects",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("consumer", String(60), nullable=False),
)


@pytest.fixture
async def bus(database_url):
    """Settings with a fresh topic prefix, the bustest schema, a started producer."""
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap_servers=broker.bootstrap(),  # the embedded broker, wherever POINTS_BROKER_PORT put it
        kafka_topic_prefix=f"bus{secrets.token_hex(3)}.",
        consumer_max_retries=2,
        consumer_retry_backoff_ms=20,
    )
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE SCHEMA IF NOT EXISTS bustest"))
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    await engine.dispose()
    await ensure_topics(settings)
    producer = make_producer(settings)
    await producer.start()
    db = Database(database_url)
    yield settings, producer, db
    await producer.stop()
    await db.dispose()


def event(i: int = 0) -> Envelope:
    return Envelope.new(
        ApplicationSubmitted(
            application_id=f"APP-T-{i}",
            holder=Holder(name="测试", id_number="330106197002070013", permit_number="P1"),
            applied_on=date(2026, 11, 26),
            cut_off_date=date(2026, 10, 1),
            expected_departments=["police"],
        ),
        source="test",
        subject=f"APP-T-{i}",
    )


def recorder(consumer_name: str, fail: bool = False):
    async def handle(uow, ev, data):
        if fail:
            raise RuntimeError("registry unavailable")
        await uow.conn.execute(insert(effects).values(event_id=ev.id, consumer=consumer_name))

    return {"application.submitted": handle}


def consumer(settings, producer, db, name, handlers) -> EventConsumer:
    return EventConsumer(
        name=name, topics=[APPLICATIONS], handlers=handlers, db=db, inbox=inbox, producer=producer, settings=settings
    )


async def effect_count(db: Database, **where) -> int:
    q = select(func.count()).select_from(effects)
    for k, v in where.items():
        q = q.where(effects.c[k] == v)
    async with db.engine.connect() as conn:
        return await conn.scalar(q)


async def until(predicate, timeout=30.0, what="condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def read_dlq(settings, expected: int, timeout: float = 20.0):
    c = AIOKafkaConsumer(
        settings.topic(APPLICATIONS + ".dlq"),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await c.start()
    out = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(out) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await c.getmany(timeout_ms=300)
            out += [r for recs in batch.values() for r in recs]
    finally:
        await c.stop()
    return out


async def test_the_same_event_delivered_twice_has_one_effect(bus):
    settings, producer, db = bus
    ev = event(1)
    topic = settings.topic(APPLICATIONS)
    for _ in range(2):  # the outbox re-publishing after a crash looks exactly like this
        await producer.send_and_wait(topic, ev.to_bytes(), key=ev.subject.encode())
    c = consumer(settings, producer, db, "redelivery", recorder("redelivery"))
    await c.start()
    try:
        await until(lambda: asyncio.sleep(0, c.processed >= 1), what="the first delivery")
        await asyncio.sleep(1.0)  # give the second delivery every chance to have an effect
    finally:
        await c.stop()
    assert await effect_count(db, event_id=ev.id) == 1
    # Delivered again later, after a restart, it still changes nothing.
    records = [
        type(
            "R", (), {"value": ev.to_bytes(), "topic": topic, "partition": 0, "offset": 0, "key": b"k", "headers": []}
        )()
    ]
    await c.process(records)
    assert await effect_count(db, event_id=ev.id) == 1


async def test_an_event_no_handler_takes_leaves_no_inbox_row(bus):
    settings, producer, db = bus
    handled, ignored = (
        event(2),
        Envelope.new(
            ApplicationWithdrawn(application_id="APP-T-3", withdrawn_at=datetime.now(UTC), principal="p"),
            source="test",
            subject="APP-T-3",
        ),
    )
    c = consumer(settings, producer, db, "only-submissions", recorder("only-submissions"))

    def record(e: Envelope, offset: int):
        fields = {"value": e.to_bytes(), "topic": "t", "partition": 0, "offset": offset, "key": b"k", "headers": []}
        return type("R", (), fields)()

    await c.process([record(handled, 0), record(ignored, 1)])
    async with db.engine.connect() as conn:
        claimed = set(
            (await conn.execute(select(inbox.c.event_id).where(inbox.c.consumer == "only-submissions"))).scalars()
        )
    # The submission is claimed and had its effect; the withdrawal, which nothing here handles, is not
    # written to the inbox at all (a redelivery of it changes nothing either way).
    assert claimed == {handled.id} and await effect_count(db, event_id=handled.id) == 1


async def test_an_unparseable_message_is_dead_lettered_and_the_consumer_goes_on(bus):
    settings, producer, db = bus
    topic = settings.topic(APPLICATIONS)
    await producer.send_and_wait(topic, b"{not json", key=b"APP-T-2")
    await producer.send_and_wait(topic, b'{"id": "x", "type": "application.submitted"}', key=b"APP-T-2")
    good = event(2)
    await producer.send_and_wait(topic, good.to_bytes(), key=good.subject.encode())
    c = consumer(settings, producer, db, "poison", recorder("poison"))
    await c.start()
    try:
        await until(lambda: effect_count(db, event_id=good.id), what="the good event after the poison ones")
    finally:
        await c.stop()
    dead = await read_dlq(settings, 2)
    assert [d.value for d in dead] == [b"{not json", b'{"id": "x", "type": "application.submitted"}']
    headers = dict(dead[0].headers)
    assert b"not a valid event envelope" in headers["dlq.error"]
    assert headers["dlq.consumer"] == b"poison" and headers["dlq.topic"] == topic.encode()


async def test_an_event_that_keeps_failing_is_retried_then_dead_lettered(bus):
    settings, producer, db = bus
    topic = settings.topic(APPLICATIONS)
    bad = event(3)
    await producer.send_and_wait(topic, bad.to_bytes(), key=bad.subject.encode())
    c = consumer(settings, producer, db, "failing", recorder("failing", fail=True))
    await c.start()
    try:
        dead = await read_dlq(settings, 1)
    finally:
        await c.stop()
    assert len(dead) == 1 and dead[0].value == bad.to_bytes()
    assert b"RuntimeError: registry unavailable" in dict(dead[0].headers)["dlq.error"]
    assert await effect_count(db, event_id=bad.id) == 0
    # Dead-lettered means done: the inbox did not record it, so a replay from the DLQ can still apply it.
    async with db.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(inbox).where(inbox.c.event_id == bad.id)) == 0


async def test_a_consumer_restarted_mid_stream_resumes_from_its_committed_offset(bus):
    settings, producer, db = bus
    settings = settings.model_copy(update={"kafka_max_batch": 20})
    topic = settings.topic(APPLICATIONS)
    events = [event(100 + i) for i in range(300)]
    for ev in events:
        await producer.send(topic, ev.to_bytes(), key=ev.subject.encode())
    await producer.flush()

    first = consumer(settings, producer, db, "restart", recorder("restart"))
    await first.start()
    await until(lambda: asyncio.sleep(0, first.processed >= 60), what="the first consumer to get going")
    await first.stop()  # mid-stream: offsets of finished batches are committed
    done_before = await effect_count(db, consumer="restart")
    assert 60 <= done_before < 300

    second = consumer(settings, producer, db, "restart", recorder("restart"))
    await second.start()
    try:
        await until(lambda: _all_done(db, 300), what="all 300 events after the restart")
    finally:
        await second.stop()
    async with db.engine.connect() as conn:
        ids = (await conn.execute(select(effects.c.event_id).where(effects.c.consumer == "restart"))).scalars().all()
    assert sorted(map(str, ids)) == sorted(str(e.id) for e in events)  # none lost, none twice
    # It resumed where the first left off rather than from the beginning.
    assert second.processed <= 300 - done_before + settings.kafka_max_batch * settings.kafka_partitions


async def _all_done(db, n):
    return await effect_count(db, consumer="restart") >= n


async def test_a_database_outage_is_a_wait_not_a_dead_letter(bus, database_url):
    """The consumer's database goes away mid-stream (connections reset, new ones refused) and comes
    back: every event is handled exactly once, none is dead-lettered, and meanwhile the consumer
    says what it waits for."""
    from sqlalchemy.engine import make_url

    from deploy.local import postgres
    from tests.integration.tcp_cut import CuttableRelay

    settings, producer, _db = bus
    settings = settings.model_copy(update={"consumer_outage_backoff_max_ms": 400})
    relay = CuttableRelay("127.0.0.1", postgres.PORT)
    await relay.open()
    url = make_url(database_url).set(host="127.0.0.1", port=relay.port, query={})
    db = Database(url.render_as_string(hide_password=False), pool_size=2)
    topic = settings.topic(APPLICATIONS)
    events = [event(500 + i) for i in range(40)]
    c = consumer(settings, producer, db, "outage", recorder("outage"))
    await c.start()
    try:
        for ev in events[:10]:
            await producer.send_and_wait(topic, ev.to_bytes(), key=ev.subject.encode())
        await until(lambda: _done(_db, "outage", 10), what="the events before the outage")
        await relay.cut()
        for ev in events[10:]:
            await producer.send(topic, ev.to_bytes(), key=ev.subject.encode())
        await producer.flush()
        await until(lambda: asyncio.sleep(0, c.waiting_for is not None), what="the consumer to notice the outage")
        await asyncio.sleep(1.5)  # several retries happen while the database is away (the old limit was 3)
        assert c.running and c.waiting_for
        await relay.open()
        await until(lambda: _done(_db, "outage", 40), what="every event once the database is back")
        await until(lambda: asyncio.sleep(0, c.waiting_for is None), what="the consumer to stop waiting")
    finally:
        await c.stop()
        await relay.cut()
        await db.dispose()
    async with _db.engine.connect() as conn:
        ids = (await conn.execute(select(effects.c.event_id).where(effects.c.consumer == "outage"))).scalars().all()
    assert sorted(map(str, ids)) == sorted(str(e.id) for e in events)  # none lost, none twice
    assert await read_dlq(settings, 1, timeout=2.0) == []  # nothing dead-lettered


async def _done(db, name, n):
    async with db.engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(effects).where(effects.c.consumer == name)) >= n


async def test_dead_letters_are_listed_and_replayed_once_the_cause_is_fixed(bus):
    from shared.bus.dlq import read_dead_letters, replay

    settings, producer, db = bus
    topic = settings.topic(APPLICATIONS)
    bad = event(7)
    await producer.send_and_wait(topic, bad.to_bytes(), key=bad.subject.encode())
    broken = consumer(settings, producer, db, "replayed", recorder("replayed", fail=True))
    await broken.start()
    try:
        await read_dlq(settings, 1)
    finally:
        await broken.stop()
    letters = await read_dead_letters(settings, APPLICATIONS, consumer="replayed")
    assert [(d.value, d.header("dlq.consumer")) for d in letters] == [(bad.to_bytes(), "replayed")]
    assert "registry unavailable" in letters[0].header("dlq.error")
    assert await read_dead_letters(settings, APPLICATIONS, consumer="someone-else") == []

    fixed = consumer(settings, producer, db, "replayed", recorder("replayed"))  # the new release
    await fixed.start()
    try:
        assert await replay(settings, letters, APPLICATIONS) == 1
        await until(lambda: effect_count(db, event_id=bad.id), what="the replayed event to be handled")
        assert await replay(settings, letters, APPLICATIONS) == 1  # replayed twice by mistake…
        await until(lambda: asyncio.sleep(0, fixed.processed >= 2), what="the second replay to arrive")
    finally:
        await fixed.stop()
    assert await effect_count(db, event_id=bad.id) == 1  # …still one effect (the inbox)
