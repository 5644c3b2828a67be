"""Applications per second from submission to notice, sustained, with p50/p99 latency."""

from __future__ import annotations

import asyncio
import secrets
import time

import numpy as np
import orjson
from aiokafka import AIOKafkaConsumer

from bench import cpu
from bench.http import Pool
from deploy.local.platform import Platform, demo_key
from deploy.local.processes import read_pid
from services.verification.seed import demo_id_number, demo_permit_number, demo_permit_status
from shared.events.catalogue import NOTICES


async def run_load(
    platform: Platform,
    rate: float,
    duration: float,
    first_holder: int = 1,
    drain: float = 30.0,
    modules: list[str] | None = None,
) -> dict:
    """Offer `rate` applications a second for `duration` s; `modules`: the X-modules each names."""
    path = "/v1/applications"
    headers = {"Authorization": f"Bearer {demo_key('intake', 'demowindow')}"}
    submitted: dict[str, float] = {}
    noticed: dict[str, float] = {}
    errors: dict[str, int] = {}
    submit_latency: list[float] = []

    consumer = AIOKafkaConsumer(
        platform.topic_prefix + NOTICES,
        bootstrap_servers=platform.env("intake")["KAFKA_BOOTSTRAP_SERVERS"],
        group_id=None,
        auto_offset_reset="latest",
        enable_auto_commit=False,
    )
    await consumer.start()
    await consumer.getmany(timeout_ms=1000)  # take the partition assignment before the load starts

    stop_listening = False

    async def listen() -> None:
        while not stop_listening:
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            now = time.perf_counter()
            for recs in batch.values():
                for r in recs:
                    ev = orjson.loads(r.value)
                    if ev.get("type") == "notice.published":
                        noticed.setdefault(ev["data"]["application_id"], now)

    listener = asyncio.create_task(listen())
    client = Pool("127.0.0.1", platform.port("intake"), 64)

    async def submit(n: int) -> None:
        body = {
            "applicant": {"name": "压测", "id_number": demo_id_number(n), "phone": "13800000000"},
            "permit_number": demo_permit_number(n),
            "consent": True,
            **({"modules": modules} if modules is not None else {}),
        }
        t0 = time.perf_counter()
        try:
            code, doc = await asyncio.wait_for(client.post_json(path, body, headers), 60)
        except (TimeoutError, OSError, ConnectionError, asyncio.IncompleteReadError) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            return
        t1 = time.perf_counter()
        if code == 201:
            submitted[doc["id"]] = t0
            submit_latency.append(t1 - t0)
        else:
            errors[str(code)] = errors.get(str(code), 0) + 1

    parts = {s: proc.pid for s, proc in platform.procs.items()}
    parts["broker"] = read_pid("broker") or 0
    cpu_before = cpu.snapshot(parts)
    started = time.perf_counter()
    tasks = []
    n = first_holder
    total = int(rate * duration)
    for i in range(total):
        while demo_permit_status(n) != "valid":  # only valid permits get a notice
            n += 1
        # Open loop: the offered rate does not slow down when the platform does.
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(submit(n)))
        n += 1
    await asyncio.gather(*tasks)
    load_end = time.perf_counter()
    cores = cpu.used(cpu_before, cpu.snapshot(parts), load_end - started)
    await client.close()
    deadline = time.perf_counter() + drain
    while time.perf_counter() < deadline and not set(submitted) <= set(noticed):
        await asyncio.sleep(0.2)
    stop_listening = True
    await listener
    await consumer.stop()
    # What an application costs each part, from the first submission until the last notice (or the
    # end of the drain): the figure the rest of the machine's load changes least.
    spent = {k: v - cpu_before.get(k, 0.0) for k, v in cpu.snapshot(parts).items()}

    done = [a for a in submitted if a in noticed]
    lat = np.array([noticed[a] - submitted[a] for a in done]) if done else np.array([float("nan")])
    last = max((noticed[a] for a in done), default=load_end)
    # Kept up, or fell behind? Compare latency of the first and the last 10 s of submissions.
    first = [noticed[a] - submitted[a] for a in done if submitted[a] < started + 10]
    final = [noticed[a] - submitted[a] for a in done if submitted[a] > load_end - 10]
    # Applications the platform finished per second of the run (submission start to last notice).
    return {
        "offered_per_s": rate,
        "duration_s": duration,
        "submitted": len(submitted),
        "errors": errors,
        "noticed": len(done),
        "submit_rate_per_s": round(len(submitted) / (load_end - started), 1),
        # Notices published per second while the load ran (steady state), and over the whole
        # run including the drain after the last submission.
        "end_to_end_per_s": round(sum(1 for a in done if started <= noticed[a] <= load_end) / (load_end - started), 1),
        "end_to_end_incl_drain_per_s": round(len(done) / (last - started), 1),
        # Notices a second once the pipeline is full (from 10 s into the load to its end): what the
        # platform finishes in steady state. Offered less than it carries, this is the offered
        # rate; offered more, its capacity (the two figures above count the first seconds, when
        # nothing can have finished yet, and the drain).
        "steady_notices_per_s": round(
            sum(1 for a in done if started + 10 <= noticed[a] <= load_end) / max(load_end - started - 10, 1e-9), 1
        )
        if load_end - started > 10
        else None,
        "latency_p50_ms": round(float(np.percentile(lat, 50)) * 1000, 1),
        "latency_p99_ms": round(float(np.percentile(lat, 99)) * 1000, 1),
        "submit_p50_ms": round(float(np.percentile(submit_latency, 50)) * 1000, 1) if submit_latency else None,
        "submit_p99_ms": round(float(np.percentile(submit_latency, 99)) * 1000, 1) if submit_latency else None,
        "latency_p50_first_10s_ms": round(float(np.median(first)) * 1000, 1) if first else None,
        "latency_p50_last_10s_ms": round(float(np.median(final)) * 1000, 1) if final else None,
        "unfinished": len(submitted) - len(done),
        "cores_used_during_load": cores,
        "cpu_ms_per_application": _per_application(spent, len(done)),
    }


def _per_application(spent: dict[str, float], done: int) -> dict[str, float]:
    """CPU milliseconds per application noticed, per part and in all (the load generator apart)."""
    if not done:
        return {}
    out = {k: round(v * 1000 / done, 1) for k, v in spent.items() if k != "load generator"}
    out["total"] = round(sum(out.values()), 1)
    return out


def bench_platform(log_level: str, **env: str) -> Platform:
    return Platform(
        port_base=28000,
        database="points_bench",
        topic_prefix=f"bench{secrets.token_hex(3)}.",
        extra_env={"LOG_LEVEL": log_level, **env},
    )


def module_owner_case(rate: float, duration: float, warmup: float, log_level: str) -> dict:
    """The platform without a module owner, then with Binjiang's verifier and every application
    naming its module (so each also waits for the district's registry look-up and answer): the
    sustained rates and their ratio. Offer more than the platform carries, or both keep up."""
    out: dict = {}
    cases = (("without_owner", "", None), ("with_owner", "district:binjiang", ["binjiang-talent"]))
    for label, owners, modules in cases:
        p = bench_platform(log_level, VERIFICATION_OWNERS=owners)
        p.infra_up(fresh_database=True)
        p.migrate_and_seed(holders=int(rate * (duration + warmup) * 1.1) + 1000)
        p.start_services()
        try:
            first = 1
            if warmup > 0:
                asyncio.run(run_load(p, rate, warmup, first_holder=first, modules=modules))
                first = int(rate * warmup * 1.1) + 1
            out[label] = asyncio.run(run_load(p, rate, duration, first_holder=first, modules=modules))
        finally:
            p.stop_services()
    without, with_owner = out["without_owner"]["end_to_end_per_s"], out["with_owner"]["end_to_end_per_s"]
    out["ratio"] = round(with_owner / without, 3) if without else None
    return out


def module_owner_summary(r: dict) -> str:
    a, b = r["without_owner"], r["with_owner"]
    return (
        f"module owner: {b['end_to_end_per_s']}/s sustained with Binjiang's verifier (p50 {b['latency_p50_ms']} ms), "
        f"{a['end_to_end_per_s']}/s without (p50 {a['latency_p50_ms']} ms): {r['ratio']:.0%} "
        f"(offered {a['offered_per_s']:g}/s; unfinished {b['unfinished']} / {a['unfinished']})"
    )
