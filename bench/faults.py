"""Faults under a steady load: kill -9 each service, the broker and PostgreSQL, and count what survived.

The load submits applications at a fixed rate (open loop). While it runs, each fault strikes
once, evenly spaced, and the embedded platform's supervisor does what it does after a crash
(restart the process; after a broker restart, re-queue the last hour of events). After the
load, the platform drains; then its own tables say whether every accepted application was
scored once and noticed once, and the dead-letter topics say whether anything was given up.

`make test` runs a short version (tests/integration/test_faults.py); `make bench` the long one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass, field

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.http import Pool
from deploy.local import broker, postgres
from deploy.local.platform import SERVICES, Platform, demo_key
from deploy.local.processes import read_pid
from services.verification.seed import demo_id_number, demo_permit_number, demo_permit_status
from shared.events.catalogue import TOPICS

FAULTS = [*SERVICES, "postgres", "broker"]


@dataclass
class Outcome:
    """What a run leaves behind, as a user of the platform would count it."""

    accepted: int = 0  # applications intake stored (201, or committed before a connection broke)
    answered_201: int = 0  # of which the partner saw the 201
    scored: int = 0
    noticed: int = 0
    notified: int = 0
    stuck: list[str] = field(default_factory=list)  # accepted, but the applicant never heard the outcome
    unnoticed: list[str] = field(default_factory=list)  # scored, but not put on public notice
    stale: list[str] = field(default_factory=list)  # intake's status behind the score or its notice
    duplicates: int = 0  # applications with more than one score version, notice or notification
    dead_letters: int = 0
    client_errors: dict[str, int] = field(default_factory=dict)
    recovery_seconds: dict[str, float] = field(default_factory=dict)

    def row(self) -> dict:
        return {
            "accepted": self.accepted,
            "answered_201": self.answered_201,
            "scored": self.scored,
            "noticed": self.noticed,
            "notified": self.notified,
            "stuck": len(self.stuck),
            "unnoticed": len(self.unnoticed),
            "stale": len(self.stale),
            "duplicates": self.duplicates,
            "dead_letters": self.dead_letters,
            "client_errors": sum(self.client_errors.values()),
            "recovery_seconds": self.recovery_seconds,
        }


def valid_holders(first: int, count: int) -> list[int]:
    """Holders whose permit is valid (only they get a notice), from `first` on."""
    out, n = [], first
    while len(out) < count:
        if demo_permit_status(n) == "valid":
            out.append(n)
        n += 1
    return out


async def dead_letter_count(platform: Platform) -> int:
    """Messages in every dead-letter topic of the platform's prefix."""
    reader = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap(), group_id=None, enable_auto_commit=False)
    await reader.start()
    try:
        await reader.topics()  # fetches the cluster's metadata
        tps = [
            TopicPartition(f"{platform.topic_prefix}{t}.dlq", p)
            for t in TOPICS
            for p in (reader.partitions_for_topic(f"{platform.topic_prefix}{t}.dlq") or [])
        ]
        if not tps:
            return 0
        begin, end = await reader.beginning_offsets(tps), await reader.end_offsets(tps)
        return sum(end[tp] - begin[tp] for tp in tps)
    finally:
        await reader.stop()


async def readiness(platform: Platform, services: list[str] = SERVICES) -> dict[str, str]:
    """Each service's readiness: "ready", or what it is waiting for."""
    states = {}
    async with httpx.AsyncClient(timeout=2) as client:
        for s in services:
            try:
                r = await client.get(platform.ops_url(s) + "/readyz")
                doc = r.json()
                states[s] = (
                    doc.get("status")
                    if r.status_code == 200 and doc.get("status") == "ready"
                    else str({k: v for k, v in doc.get("checks", {}).items() if v != "ok"})
                )
            except (httpx.HTTPError, ValueError) as exc:
                states[s] = f"no answer: {type(exc).__name__}"
    return states


async def all_ready(platform: Platform, services: list[str] = SERVICES) -> bool:
    return all(v == "ready" for v in (await readiness(platform, services)).values())


async def wait_ready(platform: Platform, since: float, fault: str, timeout: float = 120) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await all_ready(platform):
            return round(time.monotonic() - since, 1)
        await asyncio.sleep(0.25)
    raise AssertionError(
        f"the platform was not ready {timeout:.0f} s after the {fault} fault: {await readiness(platform)}"
    )


def kill(pid: int | None) -> None:
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


async def strike(platform: Platform, fault: str, pg_down_seconds: float = 2.0, bystanders: list[Platform] = ()) -> None:
    """One fault, then what the supervisor of the embedded platform does about it. `bystanders`
    are other platforms on the same PostgreSQL and broker (a test session's own)."""
    if fault in SERVICES:
        kill(read_pid(platform.proc_name(fault)))
        await asyncio.sleep(0.5)  # a supervisor notices a dead child within a second
        await asyncio.to_thread(platform.start_service, fault)
    elif fault == "postgres":
        # An immediate stop drops every connection at once, as a crash would, without a clean checkpoint.
        await asyncio.to_thread(postgres.stop, "immediate")
        await asyncio.sleep(pg_down_seconds)
        await asyncio.to_thread(postgres.start)
    elif fault == "broker":
        kill(read_pid(broker.NAME))
        await asyncio.sleep(0.5)
        # The local broker keeps messages in memory: after its restart the outboxes re-queue the
        # last hour, and the inboxes drop whatever had already been handled.
        await asyncio.to_thread(broker.start)
        for p in (platform, *bystanders):
            await p.recover_broker()
    else:
        raise ValueError(f"unknown fault {fault!r}")


async def run(
    platform: Platform,
    *,
    rate: float,
    duration: float,
    faults: list[str],
    first_holder: int,
    drain: float = 120.0,
    bystanders: list[Platform] = (),
) -> Outcome:
    out = Outcome()
    holders = valid_holders(first_holder, int(rate * duration))
    headers = {"Authorization": f"Bearer {demo_key('intake', 'demowindow')}"}
    client = Pool("127.0.0.1", platform.port("intake"), 32)
    answered: set[str] = set()

    async def submit(n: int) -> None:
        body = {
            "applicant": {"name": "故障", "id_number": demo_id_number(n), "phone": "13800000000"},
            "permit_number": demo_permit_number(n),
            "consent": True,
        }
        try:
            code, doc = await asyncio.wait_for(client.post_json("/v1/applications", body, headers), 30)
        except (TimeoutError, OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
            out.client_errors[type(exc).__name__] = out.client_errors.get(type(exc).__name__, 0) + 1
            return
        if code == 201:
            answered.add(doc["id"])
        else:
            out.client_errors[str(code)] = out.client_errors.get(str(code), 0) + 1

    async def inject() -> None:
        dead_before_broker = 0
        for i, fault in enumerate(faults):
            await asyncio.sleep(max(0.0, started + duration * (i + 1) / (len(faults) + 1) - time.monotonic()))
            if fault == "broker":  # the broker forgets its topics: count what they held first
                dead_before_broker = await dead_letter_count(platform)
            t0 = time.monotonic()
            await strike(platform, fault, bystanders=bystanders)
            out.recovery_seconds[fault] = await wait_ready(platform, t0, fault)
        out.dead_letters += dead_before_broker

    started = time.monotonic()
    injector = asyncio.create_task(inject())
    tasks = []
    for i, n in enumerate(holders):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(submit(n)))
    await asyncio.gather(*tasks)
    await injector
    await client.close()
    out.answered_201 = len(answered)

    engine = create_async_engine(platform.database_url)
    try:
        deadline = time.monotonic() + drain
        while True:
            counts = await _count(engine, out)
            if not (out.stuck or out.unnoticed or out.stale) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        out.scored, out.noticed, out.notified = counts
        missing = answered - set(await _accepted_ids(engine))
        if missing:  # a 201 the tables do not hold would be the worst loss of all
            out.stuck += sorted(missing)
    finally:
        await engine.dispose()
    out.dead_letters += await dead_letter_count(platform)
    return out


async def _accepted_ids(engine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(text("SELECT id FROM intake.applications"))).scalars())


async def _count(engine, out: Outcome) -> tuple[int, int, int]:
    """Every outcome notifies the applicant; a score (not a veto or a pause) is also put on notice."""
    async with engine.connect() as conn:
        out.accepted = await conn.scalar(text("SELECT count(*) FROM intake.applications"))
        scored = await conn.scalar(text("SELECT count(DISTINCT application_id) FROM scoring.scores"))
        noticed = await conn.scalar(text("SELECT count(DISTINCT application_id) FROM publicity.notices"))
        notified = await conn.scalar(text("SELECT count(DISTINCT application_id) FROM publicity.notifications"))
        out.unnoticed = list(
            (
                await conn.execute(
                    text(
                        "SELECT s.application_id FROM scoring.scores s WHERE s.status = 'scored' AND NOT EXISTS "
                        "(SELECT 1 FROM publicity.notices n WHERE n.application_id = s.application_id) ORDER BY 1"
                    )
                )
            ).scalars()
        )
        out.stuck = list(
            (
                await conn.execute(
                    text(
                        "SELECT a.id FROM intake.applications a WHERE NOT EXISTS "
                        "(SELECT 1 FROM publicity.notifications n WHERE n.application_id = a.id) ORDER BY a.id"
                    )
                )
            ).scalars()
        )
        out.stale = list(
            (
                await conn.execute(
                    text(
                        "SELECT a.id FROM intake.applications a JOIN scoring.scores s ON s.application_id = a.id "
                        "WHERE a.status IS DISTINCT FROM s.status OR a.score_version IS DISTINCT FROM s.version "
                        "OR (s.status = 'scored' AND a.notice_url IS NULL) ORDER BY a.id"
                    )
                )
            ).scalars()
        )
        out.duplicates = await conn.scalar(
            text(
                "SELECT (SELECT count(*) FROM (SELECT application_id FROM scoring.scores"
                " GROUP BY 1 HAVING count(*) > 1) s)"
                " + (SELECT count(*) FROM (SELECT application_id FROM publicity.notices"
                " GROUP BY 1 HAVING count(*) > 1) n)"
                " + (SELECT count(*) FROM (SELECT application_id FROM publicity.notifications"
                " GROUP BY 1 HAVING count(*) > 1) m)"
            )
        )
    return scored, noticed, notified


def bench(applications: int = 10_000, rate: float = 30.0) -> dict:
    """The long version (`make bench BENCH_ARGS="--only faults"`): `applications` at `rate` a second,
    every fault once, on a platform of its own; the reference is the same load with no fault."""
    import secrets

    results = {}
    for name, faults in (("no_fault", []), ("each_fault", FAULTS)):
        p = Platform(
            port_base=28000,
            database="points_bench",
            topic_prefix=f"faultbench{secrets.token_hex(2)}.",
            extra_env={"LOG_LEVEL": "WARNING"},
        )
        p.infra_up(fresh_database=True)
        p.migrate_and_seed(holders=int(applications * 1.1) + 100)
        p.start_services()
        try:
            t0 = time.monotonic()
            out = asyncio.run(run(p, rate=rate, duration=applications / rate, faults=faults, first_holder=1, drain=300))
            results[name] = out.row() | {
                "client_errors_by_kind": out.client_errors,
                "seconds_to_last_notice": round(time.monotonic() - t0, 1),
            }
        finally:
            p.stop_services()
    return results


def summary(r: dict) -> str:
    cols = [
        "accepted",
        "scored",
        "notified",
        "noticed",
        "stuck",
        "unnoticed",
        "stale",
        "duplicates",
        "dead_letters",
        "client_errors",
    ]
    lines = ["| run | " + " | ".join(cols) + " | recovery seconds |", "|---" * (len(cols) + 2) + "|"]
    for name, row in r.items():
        recovery = ", ".join(f"{k} {v}" for k, v in row["recovery_seconds"].items()) or "-"
        lines.append(f"| {name} | " + " | ".join(str(row[c]) for c in cols) + f" | {recovery} |")
    return "\n".join(lines)
