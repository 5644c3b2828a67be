"""Rounds of a whole city: a round of 50,000, 100,000 and 200,000 eligible applications closed
through the owner's `POST /v1/rounds/{id}/close` (its candidates sent to scoring, chunk by chunk),
ranked and published when the last candidate's round score arrives (scoring's answers for the
others are written straight into publicity's table: scoring's re-scoring is not measured here),
re-ranked after an objection (a new round score on the bus, as a re-verification's answer brings), made final by
the sweep, and its admitted list fetched by the owner a page at a time, as `round.finalized` now
refers to it. Publicity runs as one uvicorn worker; its resident memory is sampled throughout.

References, measured in the same run on the same rows: a bare `COPY (SELECT …) TO STDOUT` of the
candidates a close ranks (what reading them costs at all), and a score.computed of an application in
no round (what the bus and the handler cost without a re-rank).

Targets (issue 19, part 4): close under 10 s and a re-rank after an objection under 1 s at 200,000
(the objection's score gains 2 points at the middle of the list: a few thousand places); the
memory a close adds to publicity flat as the round grows (the candidates' ids and the round.closing
events stay in the database). A missed target prints "target missed" and exits
non-zero. The worst case, the last entry lifted to the top (every entry moves), is printed beside
it and is not held to the target.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local import broker
from deploy.local.platform import Platform, demo_key
from deploy.local.processes import read_pid
from services.publicity.tables import api_keys, rounds
from shared import clock
from shared.bus.kafka import make_producer
from shared.events import Envelope
from shared.events.catalogue import SCORES, HolderRef, ModuleScore, RoundCandidateScore, RoundScored, ScoreComputed
from shared.settings import Settings

PORT_BASE = 28600  # publicity on 28604
DATABASE = "points_bench_rounds"
SIZES = (50_000, 100_000, 200_000)
QUOTA_SHARE = 0.1  # a tenth of the candidates admitted
CLOSE_TARGET_S = 10.0
RERANK_TARGET_S = 1.0
# "Flat": what the largest close adds to publicity's resident memory (its peak over the memory before
# it) may exceed what the smallest adds by no more than this.
FLAT_TARGET_MIB = 10.0
OWNER = {"Authorization": f"Bearer {demo_key('publicity', 'democity')}"}
PAGE = 1000

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程")
_SURNAMES = "ARRAY[" + ",".join(f"'{s}'" for s in SURNAMES) + "]::text[]"
# About what a real score's public lines weigh (fifteen indicators with their labels and points).
_LINES = (
    "(SELECT jsonb_agg(jsonb_build_object('indicator', 'i' || k, 'category', 'basic', 'name_zh', '指标' || k, "
    "'name_en', 'indicator ' || k, 'points', k)) FROM generate_series(1, 15) k)"
)

# Applicants and their scores, one statement each: masked names and ID numbers, scores spread
# from 20 to 160 with two decimals (ties broken by the application date, then its id). Application
# 0 is for no round: the reference score event's.
LOAD_APPLICANTS = f"""
INSERT INTO publicity.applicants (application_id, holder_key, holder_name_masked, holder_id_masked, modules,
                                  applied_on, contact_phone)
SELECT CAST(:prefix AS text) || lpad(g::text, 7, '0'), md5(CAST(:prefix AS text) || g),
       ({_SURNAMES})[1 + g % {len(SURNAMES)}] || '**', '3301**********' || lpad((g % 10000)::text, 4, '0'),
       jsonb_build_array(CASE WHEN g = 0 THEN 'bench-no-round' ELSE CAST(:module AS text) END),
       DATE '2026-03-01' + g % 20, '138' || lpad(g::text, 8, '0')
FROM generate_series(0, CAST(:n AS int)) g
"""
LOAD_SCORES = f"""
INSERT INTO publicity.scores (application_id, version, status, total, modules, lines, computed_at)
SELECT CAST(:prefix AS text) || lpad(g::text, 7, '0'), 1, 'scored', sc,
       jsonb_build_object(CAST(:module AS text), jsonb_build_object('total', sc, 'module_points', 0,
                          'eligible', true, 'sort_key', jsonb_build_array(sc))),
       {_LINES}, now()
FROM (SELECT g, round((20 + 140 * random())::numeric, 2)::float8 AS sc
      FROM generate_series(0, CAST(:n AS int)) g) x
"""
# The reference: the same candidates read out in one COPY … TO STDOUT (asyncpg wraps the query),
# with nothing ranked or written.
REFERENCE = """
SELECT a.application_id, a.holder_key, a.holder_name_masked, a.holder_id_masked, a.applied_on,
             s.modules -> '{module}' ->> 'total', s.modules -> '{module}' -> 'sort_key'
      FROM publicity.applicants a JOIN publicity.scores s USING (application_id)
      WHERE a.modules @> '["{module}"]' AND s.status = 'scored'
"""


def module_of(n: int) -> str:
    return f"bench-city-{n}"


def round_of(n: int) -> str:
    return f"RND-BENCH-CITY-{n}"


def app_of(n: int, g: int) -> str:
    return f"APP-B{n}-{g:07d}"


async def load(database_url: str, n: int) -> float:
    """A round of `n` accepting applications (acceptance ends today: the owner closes it), loaded
    straight into PostgreSQL; returns the seconds it took (not part of any figure)."""
    today = clock.today()
    t0 = time.perf_counter()
    engine = create_async_engine(database_url)
    params = {"prefix": f"APP-B{n}-", "module": module_of(n), "n": n}
    async with engine.begin() as conn:
        await conn.execute(text(LOAD_APPLICANTS), params)
        await conn.execute(text(LOAD_SCORES), params)
        await conn.execute(
            insert(rounds).values(
                id=round_of(n),
                module_id=module_of(n),
                owner="city",
                candidate="holder",
                name={"zh": f"压测全市积分入学（{n}人）", "en": f"Benchmark city round ({n:,})"},
                tie_breakers=[],
                acceptance_opens=date(2026, 3, 1),
                acceptance_closes=today,
                cut_off_date=date(2026, 2, 1),
                quota=int(n * QUOTA_SHARE),
                threshold=None,
                notice_working_days=7,
                created_by="bench",
            )
        )
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM (ANALYZE) publicity.applicants"))
        await conn.execute(text("VACUUM (ANALYZE) publicity.scores"))
    await engine.dispose()
    return time.perf_counter() - t0


async def reference_copy(database_url: str, n: int) -> dict:
    """The bare COPY of the candidates: seconds and bytes."""
    import asyncpg

    dsn = database_url.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    size = 0

    async def sink(chunk: bytes) -> None:
        nonlocal size
        size += len(chunk)

    try:
        t0 = time.perf_counter()
        await conn.copy_from_query(REFERENCE.format(module=module_of(n)), output=sink)
        return {"seconds": round(time.perf_counter() - t0, 3), "mib": round(size / 2**20, 1)}
    finally:
        await conn.close()


class RssSampler:
    """The resident memory of one process, sampled every 10 ms in a thread: the peak over a span."""

    def __init__(self, pid: int) -> None:
        self.status = Path(f"/proc/{pid}/status")
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss_mib(self) -> float:
        for line in self.status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss_mib())
            time.sleep(0.01)

    def __enter__(self) -> RssSampler:
        self.before = self.rss_mib()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss_mib())


def score_event(n: int, g: int, total: float, version: int) -> Envelope:
    """A new score version of application g of the round of n (what a re-verification's answer brings)."""
    app = app_of(n, g)
    return Envelope.new(
        ScoreComputed(
            application_id=app,
            score_version=version,
            holder=HolderRef(name_masked="王**", id_number_masked="3301**********0001"),
            status="scored",
            rule_set_id="hangzhou-2021",
            rule_set_hash="bench",
            cut_off_date=date(2026, 2, 1),
            total=total,
            categories={},
            lines=[],
            computed_at=datetime.now(UTC),
            modules={module_of(n): ModuleScore(total=total, module_points=0, eligible=True, sort_key=[total])},
        ),
        source="scoring",
        subject=app,
    )


def round_score_event(n: int, g: int, total: float, version: int) -> Envelope:
    """Application g re-scored at the round's cut-off (what scoring answers a round.closing chunk with,
    and what an objection's re-score brings during the notice)."""
    return Envelope.new(
        RoundScored(
            round_id=round_of(n),
            module_id=module_of(n),
            cut_off_date=date(2026, 2, 1),
            scores=[
                RoundCandidateScore(
                    application_id=app_of(n, g),
                    score_version=version,
                    status="scored",
                    based_on_version=1,
                    total=total,
                    module=ModuleScore(total=total, module_points=0, eligible=True, sort_key=[total]),
                )
            ],
        ),
        source="scoring",
        subject=round_of(n),
    )


# Scoring's answers for every candidate but one, written as publicity's handler writes them (a
# stand-in for the round.scored events of scoring's re-scoring, which this benchmark does not run:
# it measures publicity's close, not scoring's engine): each candidate's round score is its own.
ANSWER_ALL_BUT = """
UPDATE publicity.round_scores rs
SET status = s.status, version = 10, based_on = s.version, total = s.total, modules = s.modules, lines = s.lines,
    updated_at = now()
FROM publicity.scores s
WHERE rs.round_id = :r AND rs.application_id = s.application_id AND rs.application_id <> :last
"""


async def wait_until(engine, statement: str, params: dict, timeout: float = 120) -> float:
    """Poll (every 5 ms) until the statement returns true; the seconds it took."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        async with engine.connect() as conn:
            if await conn.scalar(text(statement), params):
                return time.perf_counter() - t0
        await asyncio.sleep(0.005)
    raise TimeoutError(f"not within {timeout} s: {statement} {params}")


async def rescore_case(engine, producer, settings: Settings, n: int, g: int, total: float, version: int) -> dict:
    """Publish application g's new score; the seconds until the list's new version is published."""
    r = round_of(n)
    before = await _scalar(engine, "SELECT list_version FROM publicity.rounds WHERE id = :r", {"r": r})
    rank_before = await _scalar(
        engine,
        "SELECT rank FROM publicity.round_entries WHERE round_id = :r AND application_id = :a",
        {"r": r, "a": app_of(n, g)},
    )
    event = round_score_event(n, g, total, version)
    t0 = time.perf_counter()
    await producer.send_and_wait(settings.topic(SCORES), event.to_bytes(), key=event.subject.encode())
    await wait_until(engine, "SELECT list_version > :v FROM publicity.rounds WHERE id = :r", {"r": r, "v": before})
    seconds = time.perf_counter() - t0
    rank_after = await _scalar(
        engine,
        "SELECT rank FROM publicity.round_entries WHERE round_id = :r AND application_id = :a",
        {"r": r, "a": app_of(n, g)},
    )
    moved = await _scalar(
        engine,
        "SELECT changed FROM publicity.round_versions WHERE round_id = :r AND version = :v",
        {"r": r, "v": before + 1},
    )
    return {"seconds": round(seconds, 3), "rank_before": rank_before, "rank_after": rank_after, "moved": moved}


async def reference_score(engine, producer, settings: Settings, n: int) -> float:
    """A score.computed of an application in no round (the one loaded beside the round's): the bus
    and the handler alone, with nothing to re-rank."""
    event = score_event(n, 0, 50.0, 2)
    t0 = time.perf_counter()
    await producer.send_and_wait(settings.topic(SCORES), event.to_bytes(), key=event.subject.encode())
    await wait_until(
        engine,
        "SELECT EXISTS (SELECT 1 FROM publicity.scores WHERE application_id = :a AND version = 2)",
        {"a": app_of(n, 0)},
    )
    return round(time.perf_counter() - t0, 3)


async def _scalar(engine, statement: str, params: dict):
    async with engine.connect() as conn:
        return await conn.scalar(text(statement), params)


async def _execute(engine, statement: str, params: dict) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(statement), params)


async def one_size(p: Platform, pid: int, n: int) -> dict:
    engine = create_async_engine(p.database_url)
    settings = Settings(kafka_bootstrap_servers=broker.bootstrap(), kafka_topic_prefix=p.topic_prefix)
    producer = make_producer(settings)
    await producer.start()
    base = p.url("publicity")
    r = round_of(n)
    out: dict = {"candidates": n, "quota": int(n * QUOTA_SHARE)}
    try:
        out["load_s"] = round(await load(p.database_url, n), 1)
        out["reference_copy"] = await reference_copy(p.database_url, n)
        async with httpx.AsyncClient(timeout=300) as client:
            with RssSampler(pid) as rss:
                t0 = time.perf_counter()
                closed = await client.post(f"{base}/v1/rounds/{r}/close", headers=OWNER)
                out["close_request_s"] = round(time.perf_counter() - t0, 3)
                closed.raise_for_status()
                # Closing sends the candidates to scoring (round.closing); here their answers are
                # written at once but for the last, whose round.scored makes publicity rank and publish.
                t1 = time.perf_counter()
                await _execute(engine, ANSWER_ALL_BUT, {"r": r, "last": app_of(n, n)})
                out["answers_stand_in_s"] = round(time.perf_counter() - t1, 3)
                last = round_score_event(n, n, 50.0, 10)
                t2 = time.perf_counter()
                await producer.send_and_wait(settings.topic(SCORES), last.to_bytes(), key=last.subject.encode())
                await wait_until(engine, "SELECT status = 'notice' FROM publicity.rounds WHERE id = :r", {"r": r})
                out["rank_publish_s"] = round(time.perf_counter() - t2, 3)
                # What the owner waits for of publicity: the close request, then ranking and publishing.
                out["close_s"] = round(out["close_request_s"] + out["rank_publish_s"], 3)
            counts = await _scalar(
                engine, "SELECT ARRAY[entries, admitted] FROM publicity.rounds WHERE id = :r", {"r": r}
            )
            out["entries"], out["admitted"] = counts[0], counts[1]
            out["rss_close_mib"] = {"before": round(rss.before, 1), "peak": round(rss.peak, 1)}
            # Written by the close, in the database: the chunks sent to scoring, a message to each candidate.
            out["closing_events"] = await _scalar(
                engine,
                "SELECT count(*) FROM publicity.outbox WHERE key = :r AND event_type = 'round.closing'",
                {"r": r},
            )
            # Then the sweep tells every candidate their place, a page at a time (not part of the close).
            out["tell_s"] = round(
                await wait_until(engine, "SELECT telling_after IS NULL FROM publicity.rounds WHERE id = :r", {"r": r}),
                3,
            )
            out["notified"] = await _scalar(
                engine, "SELECT count(*) FROM publicity.notifications WHERE round_id = :r", {"r": r}
            )

            # An objection answered: the application at the middle of the list gains 2 points (a few
            # thousand places); then the worst case, the last application to the top of the list.
            middle_app = await _scalar(
                engine,
                "SELECT application_id FROM publicity.round_entries WHERE round_id = :r AND rank = :k",
                {"r": r, "k": n // 2},
            )
            g_mid = int(middle_app.rsplit("-", 1)[1])
            mid_score = await _scalar(
                engine,
                "SELECT score FROM publicity.round_entries WHERE round_id = :r AND rank = :k",
                {"r": r, "k": n // 2},
            )
            out["reference_score_s"] = await reference_score(engine, producer, settings, n)
            out["rerank_typical"] = await rescore_case(engine, producer, settings, n, g_mid, mid_score + 2, 11)
            last_app = await _scalar(
                engine,
                "SELECT application_id FROM publicity.round_entries WHERE round_id = :r ORDER BY rank DESC LIMIT 1",
                {"r": r},
            )
            g_last = int(last_app.rsplit("-", 1)[1])
            out["rerank_worst"] = await rescore_case(engine, producer, settings, n, g_last, 999.0, 12)

            # The notice ends; the sweep makes the list final and tells the owner where the list is.
            await _execute(
                engine,
                "UPDATE publicity.rounds SET notice_end = :d WHERE id = :r",
                {"r": r, "d": clock.today() - timedelta(days=1)},
            )
            with RssSampler(pid) as rss:
                out["finalise_s"] = round(
                    await wait_until(engine, "SELECT status = 'final' FROM publicity.rounds WHERE id = :r", {"r": r}),
                    3,
                )
            out["rss_finalise_mib"] = {"before": round(rss.before, 1), "peak": round(rss.peak, 1)}
            event = await _scalar(
                engine,
                "SELECT payload FROM publicity.outbox WHERE event_type = 'round.finalized' AND key = :r",
                {"r": r},
            )
            out["event_bytes"] = len(json.dumps(event))
            out["fetch"] = await fetch_admitted(client, event["data"]["admitted_url"])
    finally:
        await producer.stop()
        await engine.dispose()
    return out


async def fetch_admitted(client: httpx.AsyncClient, admitted_url: str) -> dict:
    """The owner fetches the final admitted list where round.finalized says, PAGE entries a request."""
    url, after, got, pages = httpx.URL(admitted_url), 0, 0, 0
    t0 = time.perf_counter()
    while after is not None:
        page = await client.get(url.copy_merge_params({"after": after, "limit": PAGE}), headers=OWNER)
        page.raise_for_status()
        body = page.json()
        got, pages, after = got + len(body["items"]), pages + 1, body["next_after"]
    return {"seconds": round(time.perf_counter() - t0, 3), "entries": got, "pages": pages}


async def seed_owner_key(database_url: str) -> None:
    """Publicity's demo keys (the city's module key among them), publicity being the only schema here."""
    from shared.auth import ApiKeys
    from shared.demo import DEMO_KEYS

    engine = create_async_engine(database_url)
    for kid, secret, principal, scopes in DEMO_KEYS["publicity"]:
        await ApiKeys(engine, api_keys).issue(principal, scopes, key_id=kid, secret=secret)
    await engine.dispose()


def run(sizes: tuple[int, ...] = SIZES) -> dict:
    p = Platform(
        port_base=PORT_BASE,
        database=DATABASE,
        topic_prefix=f"roundsbench{int(time.time())}.",
        extra_env={"LOG_LEVEL": "INFO", "PUBLICITY_SWEEP_SECONDS": "0.1"},
    )
    p.infra_up(fresh_database=True)
    p.migrate(["publicity"])
    asyncio.run(seed_owner_key(p.database_url))
    p.start_services(["publicity"])
    try:
        pid = read_pid(p.proc_name("publicity")) or 0
        results = {str(n): asyncio.run(one_size(p, pid, n)) for n in sizes}
    finally:
        p.stop_services()
    largest, smallest = results[str(max(sizes))], results[str(min(sizes))]

    def added(size: dict) -> float:
        return size["rss_close_mib"]["peak"] - size["rss_close_mib"]["before"]

    growth = added(largest) - added(smallest)
    missed = []
    if largest["close_s"] >= CLOSE_TARGET_S:
        missed.append(f"close {largest['close_s']} s >= {CLOSE_TARGET_S} s")
    # The target is an objection's re-rank. Moving the last entry to the top is shown beside it, not
    # held to it: every entry's stored rank changes, and that costs what writing them all costs.
    if largest["rerank_typical"]["seconds"] >= RERANK_TARGET_S:
        missed.append(f"re-rank after an objection {largest['rerank_typical']['seconds']} s >= {RERANK_TARGET_S} s")
    if growth > FLAT_TARGET_MIB:
        missed.append(f"memory added during close grew {growth:.0f} MiB from {min(sizes):,} to {max(sizes):,}")
    for n, r in results.items():
        if r["fetch"]["entries"] != r["admitted"]:
            missed.append(f"{n}: fetched {r['fetch']['entries']} admitted of {r['admitted']}")
    return {
        "date": clock.today().isoformat(),
        "cores": os.cpu_count(),
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "sizes": results,
        "rss_close_growth_mib": round(growth, 1),
        "missed": missed,
    }


def summary(r: dict) -> str:
    lines = [f"rounds of a city ({r['date']}, {r['cores']} cores, load average {r['load_average']}):"]
    for n, s in r["sizes"].items():
        lines.append(
            f"  {int(n):,}: close {s['close_s']} s (bare COPY of the candidates {s['reference_copy']['seconds']} s; "
            f"{s['closing_events']:,} round.closing events); {s['notified']:,} candidates told their place "
            f"{s['tell_s']} s after; "
            f"re-rank after an objection {s['rerank_typical']['seconds']} s moving {s['rerank_typical']['moved']:,} "
            f"(last to first: {s['rerank_worst']['seconds']} s moving {s['rerank_worst']['moved']:,}; "
            f"a score in no round {s['reference_score_s']} s); final in {s['finalise_s']} s, "
            f"event {s['event_bytes']:,} bytes, "
            f"{s['fetch']['entries']:,} admitted fetched in {s['fetch']['pages']} pages, {s['fetch']['seconds']} s; "
            f"publicity's RSS closing {s['rss_close_mib']['before']} → {s['rss_close_mib']['peak']} MiB, finalising "
            f"{s['rss_finalise_mib']['peak']} MiB"
        )
    lines += [f"  target missed: {m}" for m in r["missed"]] or ["  every target met"]
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    result = run()
    print(json.dumps(result))
    print(summary(result))
    sys.exit(1 if result["missed"] else 0)
