"""The HTTP adapter to a data-sharing platform, against a local HTTP server that can be made
slow or failing: the same answers as the SQL adapter, retries with backoff, a circuit that
opens and closes again, and a department that loses no application and answers none twice
while its registry is down."""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections import Counter
from datetime import date, timedelta

import orjson
import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer
from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from deploy.local import broker
from services.verification import tables
from services.verification.handlers import Deps, handlers
from services.verification.registries import LOOKUPS, SqlRegistries
from services.verification.registries_http import CircuitBreaker, HttpRegistries
from services.verification.registry_server import build
from services.verification.seed import demo_child, demo_id_number, demo_permit_number
from services.verification.store import Store
from shared.bus.consumer import EventConsumer
from shared.bus.kafka import ensure_topics, make_producer
from shared.bus.outbox import Outbox, OutboxRelay
from shared.db import Database, make_engine
from shared.events import Envelope
from shared.events.catalogue import APPLICATIONS, VERIFICATIONS, ApplicationSubmitted, Holder
from shared.outages import Unavailable
from shared.settings import Settings
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration
CUT_OFF = date(2026, 11, 1)


class Faults:
    def __init__(self) -> None:
        self.fail = 0  # the next n calls answer 503
        self.slow = 0  # the next n calls take `delay` seconds
        self.delay = 1.0
        self.calls = 0


@pytest.fixture
async def registry_server(platform):
    """The data-sharing platform stand-in on a free port, with a switch for its faults."""
    faults = Faults()
    app = build(platform.database_url)

    @app.middleware("http")
    async def inject(request: Request, call_next):
        faults.calls += 1
        if faults.fail > 0:
            faults.fail -= 1
            return JSONResponse({"detail": "down for maintenance"}, status_code=503)
        if faults.slow > 0:
            faults.slow -= 1
            await asyncio.sleep(faults.delay)
        return await call_next(request)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # any free port
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))

    async def serving() -> bool:
        return server.started

    await wait_for("registry stand-in: serving", serving, every=0.05)
    yield f"http://127.0.0.1:{port}", faults
    server.should_exit = True
    await task


async def test_the_http_adapter_answers_as_the_sql_adapter(platform, registry_server):
    url, _faults = registry_server
    http = HttpRegistries(url)
    engine = make_engine(platform.database_url)
    sql = SqlRegistries(engine)
    try:
        for n in (10, 34, 67, 130):
            holder = demo_id_number(n)
            assert await http.police(None, demo_permit_number(n), holder, CUT_OFF) == await sql.police(
                None, demo_permit_number(n), holder, CUT_OFF
            )
            assert await http.social_insurance(None, holder, CUT_OFF) == await sql.social_insurance(
                None, holder, CUT_OFF
            )
            for lookup in LOOKUPS:
                assert await http.records(None, lookup, holder, CUT_OFF) == await sql.records(
                    None, lookup, holder, CUT_OFF
                )
        child = demo_child(10)["id_number"]
        assert await http.relation(None, child, demo_id_number(10), CUT_OFF) == (["parent"], False)
    finally:
        await http.client.aclose()
        await engine.dispose()


async def test_timeouts_are_retried_and_a_failing_registry_opens_the_circuit(registry_server):
    url, faults = registry_server
    http = HttpRegistries(
        url, timeout=0.3, attempts=3, backoff=0.01, breaker=CircuitBreaker(failures_to_open=2, open_seconds=0.5)
    )
    holder = demo_id_number(5)
    try:
        faults.slow, faults.delay, faults.calls = 2, 1.0, 0
        assert await http.social_insurance(None, holder, CUT_OFF)  # two timeouts, then an answer
        assert faults.calls == 3 and http.breaker.state == "closed"

        faults.fail, faults.calls = 1000, 0
        for _ in range(2):
            with pytest.raises(Unavailable):
                await http.social_insurance(None, holder, CUT_OFF)
        assert faults.calls == 6 and http.breaker.state == "open"
        with pytest.raises(Unavailable, match="circuit is open"):
            await http.social_insurance(None, holder, CUT_OFF)
        assert faults.calls == 6  # an open circuit does not even ask

        faults.fail = 0

        async def half_open() -> bool:  # open_seconds have passed
            return http.breaker.state == "half-open"

        await wait_for("circuit: half-open after a while", half_open, timeout=5, every=0.05)
        assert await http.social_insurance(None, holder, CUT_OFF)  # one trial call, and it is closed again
        assert http.breaker.state == "closed"
    finally:
        await http.client.aclose()


async def test_while_the_registry_is_down_no_application_is_lost_and_none_answered_twice(platform, registry_server):
    url, faults = registry_server
    settings = Settings(
        database_url=platform.database_url,
        kafka_bootstrap_servers=broker.bootstrap(),
        kafka_topic_prefix=f"http{secrets.token_hex(3)}.",
        outbox_poll_interval_ms=100,
        consumer_retry_backoff_ms=10,
    )
    await ensure_topics(settings)
    outbox = Outbox(tables.outbox, settings)
    db = Database(settings.database_url, 5, outbox, store_factory=Store)
    producer = make_producer(settings)
    await producer.start()
    relay = OutboxRelay(db.engine, outbox, producer, settings)
    registries = HttpRegistries(
        url, timeout=0.5, attempts=2, backoff=0.01, breaker=CircuitBreaker(failures_to_open=3, open_seconds=0.5)
    )
    consumer = EventConsumer(
        name=f"police-over-http-{secrets.token_hex(2)}",
        topics=[APPLICATIONS],
        handlers=handlers(Deps({"police": registries})),
        db=db,
        inbox=tables.inbox,
        producer=producer,
        settings=settings,
    )
    answers = AIOKafkaConsumer(
        settings.topic(VERIFICATIONS),
        settings.topic(APPLICATIONS) + ".dlq",
        bootstrap_servers=broker.bootstrap(),
        group_id=None,
        auto_offset_reset="earliest",
    )
    apps = [f"APP-HTTP-{secrets.token_hex(4)}" for _ in range(20)]
    faults.fail = 12  # down at first; then slow for a while
    faults.slow, faults.delay = 4, 0.8
    try:
        for i, app in enumerate(apps):
            n = 2000 + i
            event = Envelope.new(
                ApplicationSubmitted(
                    application_id=app,
                    holder=Holder(name="测试", id_number=demo_id_number(n), permit_number=demo_permit_number(n)),
                    applied_on=CUT_OFF + timedelta(days=1),
                    cut_off_date=CUT_OFF,
                    expected_departments=["police"],
                ),
                source="intake",
                subject=app,
            )
            await producer.send_and_wait(settings.topic(APPLICATIONS), event.to_bytes(), key=app.encode())
        relay.start()
        await answers.start()
        await consumer.start()
        seen: Counter = Counter()
        dead: list = []

        async def read_answers() -> bool:
            for tp, records in (await answers.getmany(timeout_ms=500)).items():
                for r in records:
                    if tp.topic.endswith(".dlq"):
                        dead.append(r)
                    else:
                        seen[orjson.loads(r.value)["subject"]] += 1
            return set(seen) >= set(apps)

        await wait_for("police: every application answered through the outage", read_answers, timeout=60, every=0)

        async def all_relayed() -> bool:  # every answer the police wrote is on the bus
            async with db.engine.connect() as conn:
                return not await conn.scalar(
                    select(func.count())
                    .select_from(tables.outbox)
                    .where(tables.outbox.c.key.in_(apps), tables.outbox.c.published_at.is_(None))
                )

        await wait_for("outbox: every answer relayed", all_relayed)
        async with db.engine.connect() as conn:  # an application answered twice would have two answers here
            written = Counter(
                (
                    await conn.execute(
                        select(tables.outbox.c.key).where(
                            tables.outbox.c.key.in_(apps), tables.outbox.c.event_type == "verification.completed"
                        )
                    )
                ).scalars()
            )
        end = await answers.end_offsets(list(answers.assignment()))

        async def drained() -> bool:  # and on the bus
            await read_answers()
            positions = [await answers.position(tp) for tp in end]
            return all(at >= end[tp] for tp, at in zip(end, positions, strict=True))

        await wait_for("answers: read to the end of the topic", drained, every=0)
        assert written == Counter({app: 1 for app in apps}), written
        assert faults.fail == 0 and faults.slow == 0, (
            faults.calls,
            consumer.processed,
            consumer.running,
        )  # the outage happened
        assert set(seen) == set(apps), f"lost: {set(apps) - set(seen)}"
        assert all(count == 1 for count in seen.values()), seen
        assert dead == []
    finally:
        await consumer.stop()
        await answers.stop()
        await relay.stop()
        await producer.stop()
        await registries.client.aclose()
        await db.dispose()
