"""Intake's POST /v1/applications with one uvicorn worker, beside a bare insert endpoint."""

from __future__ import annotations

import asyncio
import sys
import time

import numpy as np

from bench import cpu
from bench.http import Pool
from deploy.local.platform import Platform, demo_key
from deploy.local.processes import read_pid, spawn, wait_for_port
from deploy.local.processes import stop as stop_process
from services.verification.seed import demo_id_number, demo_permit_number

BARE_PORT = 28100


async def timed_loop(send, seconds: float, connections: int) -> dict:
    """`connections` clients each sending the next request (`send(i)` -> (status, body)) as soon as the
    last is answered; rate and latency of the successful ones."""
    latencies: list[float] = []
    errors = 0
    counter = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal counter, errors
        while time.perf_counter() < deadline:
            counter += 1
            t0 = time.perf_counter()
            code, _ = await send(counter)
            if code in (200, 201):
                latencies.append(time.perf_counter() - t0)
            else:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    lat = np.array(latencies)
    return {
        "requests_per_s": round(len(lat) / elapsed, 1),
        "p50_ms": round(float(np.percentile(lat, 50)) * 1000, 2),
        "p99_ms": round(float(np.percentile(lat, 99)) * 1000, 2),
        "errors": errors,
    }


async def closed_loop(port: int, path: str, body_for, headers: dict, seconds: float, connections: int) -> dict:
    """POSTs of `body_for(i)` to `path`, closed loop."""
    pool = Pool("127.0.0.1", port, connections)
    try:
        return await timed_loop(lambda i: pool.post_json(path, body_for(i), headers), seconds, connections)
    finally:
        await pool.close()


def _median(runs: list[dict]) -> dict:
    return {k: float(np.median([r[k] for r in runs])) for k in runs[0]}


def spawn_bare(name: str, port: int, env: dict[str, str]):
    """The reference: a bare FastAPI app (bench/bare_app.py), one uvicorn worker, on the service's database."""
    bare = spawn(
        name,
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    wait_for_port(port, 30, "the bare endpoint", bare)
    return bare


def run(seconds: float = 20, connections: int = 8, rounds: int = 5) -> dict:
    p = Platform(port_base=28000, database="points_bench", topic_prefix="intakebench.", extra_env={"LOG_LEVEL": "INFO"})
    holders = 60_000
    p.infra_up(fresh_database=True)
    p.migrate_and_seed(holders=holders)
    p.start_services(["intake"])
    # The reference app makes its own table: it connects as the superuser, not as the service's role.
    bare = spawn_bare("bench-bare", BARE_PORT, {**p.env("intake"), "DATABASE_URL": p.database_url})
    try:
        headers = {"Authorization": f"Bearer {demo_key('intake', 'demowindow')}"}
        offset = iter(range(1, holders))

        def application(_: int) -> dict:
            n = next(offset)
            return {
                "applicant": {"name": "压测", "id_number": demo_id_number(n), "phone": "13800000000"},
                "permit_number": demo_permit_number(n),
                "consent": True,
            }

        def row(i: int) -> dict:
            return {"applicant": {"name": "压测", "id_number": demo_id_number(i), "phone": "13800000000"}}

        asyncio.run(closed_loop(BARE_PORT, "/rows", row, {}, 2, connections))  # warm-up
        asyncio.run(closed_loop(p.port("intake"), "/v1/applications", application, headers, 2, connections))
        # Interleaved short rounds, so that both sides see the same machine (this one's speed drifts).
        bare_runs, intake_runs = [], []
        parts = {"intake": read_pid(p.proc_name("intake")) or 0, "bare": bare.pid}

        def measured(port: int, path: str, body_for, hdrs: dict) -> dict:
            # Cores each part used during the round: shows which one the rate is bound by.
            before, t0 = cpu.snapshot(parts), time.perf_counter()
            result = asyncio.run(closed_loop(port, path, body_for, hdrs, seconds / rounds, connections))
            return {
                **result,
                **{
                    f"cores_{k.replace(' ', '_')}": v
                    for k, v in cpu.used(before, cpu.snapshot(parts), time.perf_counter() - t0).items()
                },
            }

        for _ in range(rounds):
            bare_runs.append(measured(BARE_PORT, "/rows", row, {}))
            intake_runs.append(measured(p.port("intake"), "/v1/applications", application, headers))
        bare_result = _median(bare_runs)
        intake_result = _median(intake_runs)
    finally:
        stop_process("bench-bare")
        p.stop_services()
    ratios = [i["requests_per_s"] / b["requests_per_s"] for i, b in zip(intake_runs, bare_runs, strict=True)]
    return {
        "connections": connections,
        "seconds": seconds,
        "rounds": rounds,
        "bare_insert": bare_result,
        "intake_post": intake_result,
        "ratio": round(float(np.median(ratios)), 3),
        "ratio_per_round": [round(r, 3) for r in ratios],
    }
