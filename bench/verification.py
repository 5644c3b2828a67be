"""Verification alone: applications answered by all departments per second, beside the raw
rate at which the broker hands the same application messages to a consumer (same run)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter

import httpx
import orjson
from aiokafka import AIOKafkaConsumer

from bench import cpu
from deploy.local import broker
from deploy.local.platform import Platform
from deploy.local.processes import read_pid
from services.verification.seed import demo_id_number, demo_permit_number
from shared import clock
from shared.bus.kafka import make_producer
from shared.calendar import cut_off_date
from shared.departments import DEPARTMENTS
from shared.events import Envelope
from shared.events.catalogue import APPLICATIONS, VERIFICATIONS, ApplicationSubmitted, Holder
from shared.settings import Settings


async def _ready(p: Platform, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                r = await client.get(p.ops_url("verification") + "/readyz")
                if r.status_code == 200 and r.json()["status"] == "ready":
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise RuntimeError("verification did not become ready")


async def _measure(p: Platform, applications: int) -> dict:
    settings = Settings(kafka_bootstrap_servers=broker.bootstrap(), kafka_topic_prefix=p.topic_prefix)
    await _ready(p)
    await asyncio.sleep(3)  # every department's consumer group settles on its partitions
    producer = make_producer(settings)
    await producer.start()
    answers = AIOKafkaConsumer(
        settings.topic(VERIFICATIONS),
        bootstrap_servers=broker.bootstrap(),
        group_id=None,
        auto_offset_reset="earliest",
        max_poll_records=5000,
    )
    await answers.start()
    today = clock.today()
    parts = {"verification": read_pid(p.proc_name("verification")) or 0}
    before, started = cpu.snapshot(parts), time.perf_counter()
    for n in range(1, applications + 1):
        app = f"APP-BENCH-{n:07d}"
        event = Envelope.new(
            ApplicationSubmitted(
                application_id=app,
                holder=Holder(name="压测", id_number=demo_id_number(n), permit_number=demo_permit_number(n)),
                applied_on=today,
                cut_off_date=cut_off_date(today),
                expected_departments=list(DEPARTMENTS),
            ),
            source="bench",
            subject=app,
        )
        await producer.send(settings.topic(APPLICATIONS), event.to_bytes(), key=app.encode())
    await producer.flush()
    per_app: Counter = Counter()
    complete = 0
    deadline = time.monotonic() + 600
    while complete < applications and time.monotonic() < deadline:
        for records in (await answers.getmany(timeout_ms=500)).values():
            for r in records:
                event = orjson.loads(r.value)
                # One department's answer (v1), or several departments' together (v2).
                per_app[event["subject"]] += len(event["data"].get("answers", [None]))
                complete += per_app[event["subject"]] == len(DEPARTMENTS)
    elapsed = time.perf_counter() - started
    cores = cpu.used(before, cpu.snapshot(parts), elapsed)
    await answers.stop()
    await producer.stop()
    # The reference: how fast the broker hands those very messages to one fresh consumer.
    raw = AIOKafkaConsumer(
        settings.topic(APPLICATIONS),
        bootstrap_servers=broker.bootstrap(),
        group_id=f"bench-raw-{secrets.token_hex(3)}",
        auto_offset_reset="earliest",
        max_poll_records=5000,
    )
    await raw.start()
    got, t0 = 0, time.perf_counter()
    while got < applications:
        got += sum(len(v) for v in (await raw.getmany(timeout_ms=1000)).values())
    raw_elapsed = time.perf_counter() - t0
    await raw.stop()
    return {
        "applications": applications,
        "departments": len(DEPARTMENTS),
        "verified": complete,
        "verified_applications_per_s": round(complete / elapsed, 1),
        "department_answers_per_s": round(complete * len(DEPARTMENTS) / elapsed, 1),
        "raw_consume_per_s": round(applications / raw_elapsed, 1),
        "ratio": round(complete / elapsed / (applications / raw_elapsed), 4),
        "cores": cores,
    }


def run(applications: int = 3000) -> dict:
    p = Platform(
        port_base=28000,
        database="points_bench",
        topic_prefix=f"verifybench{secrets.token_hex(2)}.",
        extra_env={"LOG_LEVEL": "WARNING"},
    )
    p.infra_up(fresh_database=True)
    p.migrate_and_seed(holders=applications + 10)
    p.start_services(["verification"])
    try:
        return asyncio.run(_measure(p, applications))
    finally:
        p.stop_services()
