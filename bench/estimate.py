"""模拟积分: scoring's public POST /v1/estimate at a fixed offered rate (500/s, one uvicorn worker),
beside a bare endpoint that reads the same JSON body and answers.

Open loop: request i is sent at start + i/rate whether or not earlier ones are answered, and its
latency runs from that moment, so a slow stretch shows in p99 instead of slowing the offer down.
Each request is a different holder's answers (the engine, the validation and the per-address
counter in PostgreSQL all run; nothing is cached).
"""

from __future__ import annotations

import asyncio
import random
import time

import numpy as np

from bench import cpu
from bench.http import Pool
from bench.intake import spawn_bare
from deploy.local.platform import Platform
from deploy.local.processes import read_pid
from deploy.local.processes import stop as stop_process

PORT_BASE = 38000  # scoring on 38003
BARE_PORT = 38100
RATE = 500.0
TARGET_P99_MS = 50.0


def answers(n: int, seed: int = 2026) -> list[dict]:
    rng = random.Random(seed)
    levels = [None, "high_school", "junior_college", "bachelor", "master", "doctorate"]
    out = []
    for _ in range(n):
        a = {
            "birth_date": f"{rng.randint(1962, 2006)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "employed": rng.random() < 0.85,
            "insurance_months": rng.randint(0, 240),
            "residence_years": rng.randint(0, 25),
            "rental_years": rng.randint(0, 10),
            "volunteer_hours": rng.choice([0, 0, 0, 20, 60]),
            "offences": rng.choice([[], [], [], [], ["detention"], ["dishonesty"]]),
        }
        if (level := rng.choice(levels)) is not None:
            a["education"] = level
        out.append(a)
    return out


async def open_loop(
    port: int, path: str, bodies: list[dict], rate: float, seconds: float, connections: int, pid: int = 0
) -> dict:
    pool = Pool("127.0.0.1", port, connections)
    before = cpu.snapshot({"server": pid})
    latencies: list[float] = []
    errors = 0
    total = int(rate * seconds)

    async def one(i: int, due: float) -> None:
        nonlocal errors
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        status, _ = await pool.post_json(path, bodies[i % len(bodies)], {})
        if status == 200:
            latencies.append(time.perf_counter() - due)
        else:
            errors += 1

    start = time.perf_counter() + 0.05
    try:
        await asyncio.gather(*(one(i, start + i / rate) for i in range(total)))
    finally:
        await pool.close()
    elapsed = time.perf_counter() - start
    cores = cpu.used(before, cpu.snapshot({"server": pid}), elapsed)["server"]
    lat = np.array(latencies) if latencies else np.array([float("nan")])
    return {
        # The server's own CPU per answer: the figure the machine's other load does not change much.
        "server_cpu_ms_per_request": round(cores * elapsed / max(1, len(latencies)) * 1000, 2),
        "offered_per_s": rate,
        "answered_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(lat, 50)) * 1000, 2),
        "p99_ms": round(float(np.percentile(lat, 99)) * 1000, 2),
        "errors": errors,
    }


def run(seconds: float = 10, rate: float = RATE, connections: int = 64) -> dict:
    p = Platform(
        port_base=PORT_BASE,
        database="points_bench_estimate",
        topic_prefix="estimatebench.",
        extra_env={"LOG_LEVEL": "WARNING", "ESTIMATES_PER_CLIENT_HOUR": str(10**9)},
    )
    p.infra_up(fresh_database=True)
    p.migrate(["scoring"])
    p.start_services(["scoring"])
    bare = spawn_bare("bench-bare-estimate", BARE_PORT, {**p.env("scoring"), "DATABASE_URL": p.database_url})
    scoring = read_pid(p.proc_name("scoring")) or 0
    bodies = answers(2000)
    try:
        # Warm-up (pools, the engine's first call), then each side alone at the offered rate.
        asyncio.run(open_loop(BARE_PORT, "/echo", bodies, rate, 2, connections))
        asyncio.run(open_loop(p.port("scoring"), "/v1/estimate", bodies, rate, 2, connections))
        bare_result = asyncio.run(open_loop(BARE_PORT, "/echo", bodies, rate, seconds, connections, bare.pid))
        estimate = asyncio.run(
            open_loop(p.port("scoring"), "/v1/estimate", bodies, rate, seconds, connections, scoring)
        )
    finally:
        stop_process("bench-bare-estimate")
        p.stop_service("scoring")
    return {"seconds": seconds, "connections": connections, "bare_echo": bare_result, "estimate": estimate}


def summary(r: dict) -> str:
    e, b = r["estimate"], r["bare_echo"]
    return (
        f"模拟积分: POST /v1/estimate at {e['offered_per_s']:g}/s offered: {e['answered_per_s']}/s answered, "
        f"p50 {e['p50_ms']} ms, p99 {e['p99_ms']} ms (target < {TARGET_P99_MS:g} ms), errors {e['errors']}, "
        f"{e['server_cpu_ms_per_request']} ms of the server's CPU each; "
        f"the bare echo: p50 {b['p50_ms']} ms, p99 {b['p99_ms']} ms"
    )


if __name__ == "__main__":
    r = run()
    print(r)
    print(summary(r))
