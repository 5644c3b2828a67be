"""Publicity's public list, JSON and HTML, on a round of 1,000,000 entries (one uvicorn worker),
beside a bare endpoint reading one row of the same table by its primary key.

The pages are keyset-paginated (rank after the last one seen) and searched on indexes
(round, surname, rank) and (round, ID tail, rank): every case below should cost about the
same whatever page it asks for. `python -m bench.publicity --reuse` keeps a list already loaded.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import date, timedelta
from urllib.parse import quote

import numpy as np

from bench import cpu
from bench.http import Pool
from bench.intake import spawn_bare, timed_loop
from deploy.local.platform import Platform
from deploy.local.processes import read_pid
from deploy.local.processes import stop as stop_process
from shared import clock

PORT_BASE = 37000  # publicity on 37004
BARE_PORT = 37100
DATABASE = "points_bench_publicity"
ROUND = "RND-BENCH-1M"
QUOTA = 10_000
PAGE = 20

# About a hundred common surnames, the commonest first; drawn so that 王 is ~10% of the list
# and the hundredth ~0.5% (index = floor(100 * u^2)).
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向常"
)
REGIONS = [
    "3301",
    "3302",
    "3303",
    "3304",
    "3305",
    "3306",
    "3307",
    "3308",
    "3309",
    "3310",
    "3311",
    "3401",
    "3201",
    "3604",
    "4101",
    "5101",
    "3501",
    "4301",
    "4201",
    "3701",
]


def _array(values: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]::text[]"


# One statement: masked names (张* / 张** / 张***), masked ID numbers with varied last four (an X
# check digit one time in eleven), scores falling with rank, the top QUOTA admitted. The inner
# select keeps random() per row.
LOAD = f"""
INSERT INTO publicity.round_entries (round_id, seq, rank, application_id, candidate_key, name_masked, id_masked,
                                     surname, id_tail, score, sort_key, applied_on, admitted)
SELECT '{ROUND}', g, g, 'APP-20260301-' || lpad(g::text, 10, '0'), md5('holder:' || g) || md5('key:' || g),
       surname || repeat('*', len - 1), region || '**********' || tail, surname, tail, score, ARRAY[score],
       applied_on, g <= {QUOTA}
FROM (
  SELECT g,
         ({_array(SURNAMES)})[1 + floor({len(SURNAMES)} * power(random(), 2))::int] AS surname,
         CASE WHEN random() < 0.62 THEN 3 WHEN random() < 0.95 THEN 2 ELSE 4 END AS len,
         ({_array(REGIONS)})[1 + floor(random() * {len(REGIONS)})::int] AS region,
         lpad(floor(random() * 1000)::int::text, 3, '0')
           || CASE WHEN random() < 1.0 / 11 THEN 'X' ELSE floor(random() * 10)::int::text END AS tail,
         round((160 - 140 * power(g / CAST(:n AS float8), 0.6))::numeric, 2)::float8 AS score,
         DATE '2026-03-01' + floor(random() * 20)::int AS applied_on
  FROM generate_series(1, CAST(:n AS int)) g
) x
"""


def load(database_url: str, entries: int) -> dict:
    """The round and its list, loaded in one statement with the secondary indexes built afterwards
    (the same definitions, read back from the migrated schema), then VACUUM ANALYZE."""
    from sqlalchemy import insert, text
    from sqlalchemy.ext.asyncio import create_async_engine

    from services.publicity.tables import rounds

    today = clock.today()

    async def go() -> dict:
        engine = create_async_engine(database_url)
        t0 = time.perf_counter()
        async with engine.begin() as conn:
            await conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            # The final-list guard is a per-row trigger; this round is on notice, skip it for the load.
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
            await conn.execute(text("DELETE FROM publicity.round_entries WHERE round_id = :r"), {"r": ROUND})
            await conn.execute(text("DELETE FROM publicity.rounds WHERE id = :r"), {"r": ROUND})
            await conn.execute(
                insert(rounds).values(
                    id=ROUND,
                    module_id="bench-school-2026",
                    owner="city",
                    candidate="holder",
                    name={"zh": "压测积分入学（100万人）", "en": "Benchmark school admission (1M)"},
                    tie_breakers=[],
                    acceptance_opens=date(2026, 3, 1),
                    acceptance_closes=date(2026, 3, 20),
                    cut_off_date=date(2026, 2, 1),
                    quota=QUOTA,
                    threshold=None,
                    notice_working_days=7,
                    status="notice",
                    list_version=1,
                    entries=entries,
                    admitted=min(QUOTA, entries),
                    notice_start=today - timedelta(days=1),
                    notice_end=today + timedelta(days=60),
                    created_by="bench",
                )
            )
            indexes = (
                await conn.execute(
                    text(
                        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'publicity' "
                        "AND tablename = 'round_entries' AND indexname NOT IN (SELECT conname FROM pg_constraint)"
                    )
                )
            ).all()
            for name, _ in indexes:
                await conn.execute(text(f'DROP INDEX publicity."{name}"'))
            await conn.execute(text(LOAD), {"n": entries})
            t1 = time.perf_counter()
            for _, definition in indexes:
                await conn.execute(text(definition))
        t2 = time.perf_counter()
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM (ANALYZE) publicity.round_entries"))
            await conn.execute(text("ANALYZE publicity.rounds"))
            size = await conn.scalar(text("SELECT pg_size_pretty(pg_total_relation_size('publicity.round_entries'))"))
        await engine.dispose()
        return {
            "insert_s": round(t1 - t0, 1),
            "indexes_s": round(t2 - t1, 1),
            "vacuum_analyze_s": round(time.perf_counter() - t2, 1),
            "table_and_indexes": size,
            "indexes": sorted(n for n, _ in indexes),
        }

    return asyncio.run(go())


def loaded(database_url: str, entries: int) -> bool:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.ext.asyncio import create_async_engine

    async def go() -> bool:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as conn:
                n = await conn.scalar(
                    text("SELECT count(*) FROM publicity.round_entries WHERE round_id = :r"), {"r": ROUND}
                )
        except DBAPIError:  # no schema yet
            return False
        finally:
            await engine.dispose()
        return n == entries

    return asyncio.run(go())


async def closed_loop(port: int, path_for, seconds: float, connections: int) -> dict:
    """GETs of the next `path_for()`, closed loop."""
    pool = Pool("127.0.0.1", port, connections)
    try:
        return await timed_loop(lambda _i: pool.get(path_for()), seconds, connections)
    finally:
        await pool.close()


def cases(entries: int, publicity: int) -> dict[str, tuple[int, object]]:
    """Each case: the port it goes to and a function giving the next path (random page, random search)."""
    rng = random.Random(7)
    entries_path = f"/v1/rounds/{ROUND}/entries"
    page_path = f"/rounds/{ROUND}"
    surnames = [quote(s) for s in SURNAMES]

    def deep() -> int:
        return rng.randrange(0, entries - PAGE)

    def tail() -> str:
        return f"{rng.randrange(1000):03d}{rng.choice('0123456789X')}"

    return {
        "json_first_page": (publicity, lambda: entries_path),
        "json_deep_page": (publicity, lambda: f"{entries_path}?after={deep()}"),
        "json_search_surname": (publicity, lambda: f"{entries_path}?q={rng.choice(surnames)}&after={deep()}"),
        "json_search_id_tail": (publicity, lambda: f"{entries_path}?q={tail()}&after={deep()}"),
        "html_page": (publicity, lambda: f"{page_path}?after={deep()}"),
        "html_search": (publicity, lambda: f"{page_path}?q={rng.choice(surnames)}&after={deep()}"),
        "bare_one_row": (BARE_PORT, lambda: f"/entries/{ROUND}/{rng.randrange(1, entries + 1)}"),
    }


def _median(runs: list[dict]) -> dict:
    return {k: float(np.median([r[k] for r in runs])) for k in runs[0]}


def _samples(entries: int, publicity: int) -> dict[str, int]:
    """How many items one request of each kind returns (a check that the cases ask real questions)."""
    import httpx

    base = f"http://127.0.0.1:{publicity}/v1/rounds/{ROUND}/entries"
    out = {}
    for name, params in {
        "first_page": {},
        "deep_page": {"after": entries // 2},
        "surname_common_mid": {"q": "王", "after": entries // 2},
        "surname_rare_mid": {"q": "孔", "after": entries // 2},
        "id_tail_1234": {"q": "1234"},
    }.items():
        r = httpx.get(base, params=params, timeout=10)
        r.raise_for_status()
        out[name] = len(r.json()["items"])
    page = httpx.get(f"http://127.0.0.1:{publicity}/rounds/{ROUND}", params={"q": "李", "after": 1000}, timeout=10)
    page.raise_for_status()
    out["html_search_rows"] = page.text.count("/entries/")
    return out


def run(
    entries: int = 1_000_000, seconds: float = 10, connections: int = 8, rounds: int = 5, reuse: bool = False
) -> dict:
    p = Platform(
        port_base=PORT_BASE, database=DATABASE, topic_prefix="publicitybench.", extra_env={"LOG_LEVEL": "INFO"}
    )
    p.infra_up(fresh_database=not reuse)
    p.migrate(["publicity"])  # as the owner, with the service's role granted its rights
    setup = {"reused": True} if reuse and loaded(p.database_url, entries) else load(p.database_url, entries)
    p.start_services(["publicity"])
    # The reference app makes its own table: it connects as the superuser, not as the service's role.
    bare = spawn_bare("bench-bare-publicity", BARE_PORT, {**p.env("publicity"), "DATABASE_URL": p.database_url})
    try:
        publicity = p.port("publicity")
        samples = _samples(entries, publicity)
        todo = cases(entries, publicity)
        parts = {"publicity": read_pid(p.proc_name("publicity")) or 0, "bare": bare.pid}

        def measured(port: int, path_for, length: float) -> dict:
            # Cores each part used during the round: shows what the rate is bound by. "Elsewhere" is
            # the rest of the machine's busy time (on a shared machine, someone else's work).
            before, busy, t0 = cpu.snapshot(parts), cpu.machine(), time.perf_counter()
            result = asyncio.run(closed_loop(port, path_for, length, connections))
            elapsed = time.perf_counter() - t0
            used = cpu.used(before, cpu.snapshot(parts), elapsed)
            used["elsewhere"] = round(max(0.0, (cpu.machine() - busy) / elapsed - sum(used.values())), 2)
            return {**result, **{f"cores_{k.replace(' ', '_')}": v for k, v in used.items()}}

        for port, path_for in todo.values():  # warm-up: pools, prepared statements, caches
            asyncio.run(closed_loop(port, path_for, 1, connections))
        # Interleaved short rounds, so that every case sees the same machine (this one's speed drifts).
        runs: dict[str, list[dict]] = {name: [] for name in todo}
        for _ in range(rounds):
            for name, (port, path_for) in todo.items():
                runs[name].append(measured(port, path_for, seconds / rounds))
    finally:
        stop_process("bench-bare-publicity")
        p.stop_services()
    results = {
        name: {**_median(r), "requests_per_s_per_round": [x["requests_per_s"] for x in r]} for name, r in runs.items()
    }
    bare_rates = [r["requests_per_s"] for r in runs["bare_one_row"]]
    for name, r in runs.items():
        if name != "bare_one_row":
            ratios = [x["requests_per_s"] / b for x, b in zip(r, bare_rates, strict=True)]
            results[name]["ratio_to_bare"] = round(float(np.median(ratios)), 3)
    worst = max((n for n in results if n != "bare_one_row"), key=lambda n: results[n]["p99_ms"])
    return {
        "entries": entries,
        "connections": connections,
        "seconds_per_case": seconds,
        "rounds": rounds,
        "page_size": PAGE,
        "setup": setup,
        "sample_items": samples,
        "cases": results,
        "worst_p99": {"case": worst, "p99_ms": results[worst]["p99_ms"]},
    }


def summary(r: dict) -> str:
    c = r["cases"]
    bare = c["bare_one_row"]
    parts = [
        f"{name.replace('_', ' ')} {v['requests_per_s']:.0f}/s p99 {v['p99_ms']} ms ({v['ratio_to_bare']:.0%})"
        for name, v in c.items()
        if name != "bare_one_row"
    ]
    return (
        f"publicity ({r['entries']:,} entries): "
        + "; ".join(parts)
        + f" — of the bare one-row GET's {bare['requests_per_s']:.0f}/s (p99 {bare['p99_ms']} ms); "
        f"worst p99 {r['worst_p99']['p99_ms']} ms ({r['worst_p99']['case']}), target < 30 ms"
    )


if __name__ == "__main__":
    import json

    import typer

    def main(
        entries: int = 1_000_000,
        seconds: float = 10,
        connections: int = 8,
        rounds: int = 5,
        reuse: bool = typer.Option(False, help="Keep the list if the database already holds it"),
    ) -> None:
        r = run(entries, seconds, connections, rounds, reuse)
        typer.echo(json.dumps(r))
        typer.echo(summary(r))

    typer.run(main)
