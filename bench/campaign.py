"""A 模拟积分 campaign at scale: participants verified per second, and the report's time.

The platform is seeded with enough holders, the policy office opens a campaign (the rules in force
beside a draft that changes the social-insurance indicator) drawing `size` holders from the permit
register, and the drawn join through the partner API at a steady, offered rate (open loop). Each is
looked up by every department, as an application is; the run waits for every participant's
`campaign.facts_verified` on the bus (no sleeps), then for scoring to have recorded them all, and
times `POST /v1/campaigns/{id}/reports` (reading the answers from the database, scoring every
participant under both rule sets, the figures and the page). For scale, the same platform then
carries applications from submission to public notice at the same offered rate (bench.end_to_end):
the platform's own application rate in the same run.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench import cpu
from bench.end_to_end import run_load
from bench.http import Pool
from deploy.local.platform import Platform, demo_key
from deploy.local.processes import read_pid
from shared import clock
from shared.demo import DEMO_SALT
from shared.events.catalogue import CAMPAIGNS
from shared.pseudonyms import holder_key

ROOT = Path(__file__).resolve().parents[1]
OFFICE = {"Authorization": f"Bearer {demo_key('scoring', 'demopolicy')}"}
APP = {"Authorization": f"Bearer {demo_key('scoring', 'democampaignjoin')}"}
SI_RULE, SI_DRAFT = (
    "formula: {kind: per_unit, unit: 1, points: 0.5, cap: 120}",
    "formula: {kind: per_unit, unit: 1, points: 2, cap: 400}",
)
REPORT_TARGET_S = 10.0
# Strata covering the register (by age band), each drawn in proportion to its share of the register.
AGES = [["unknown"], ["18–24", "25–34"], ["35–44"], ["45–54", "55+"]]


def draft_text() -> str:
    source = (ROOT / "services/scoring/rulesets/hangzhou-2021.yaml").read_text(encoding="utf-8")
    assert source.count(SI_RULE) == 1, "the rule set changed"
    return source.replace(SI_RULE, SI_DRAFT).replace("\nid: hangzhou-2021\n", "\nid: bench-si-draft\n")


async def _open(p: Platform, size: int) -> tuple[str, list[tuple[str, str]]]:
    """Open the campaign; the holders drawn (ID and permit numbers, from the register)."""
    scoring, today = p.url("scoring"), clock.today()
    async with httpx.AsyncClient(timeout=600) as client:
        r = await client.put(
            f"{scoring}/v1/rule-sets/drafts/bench-si-draft", content=draft_text().encode(), headers=OFFICE
        )
        assert r.status_code in (200, 201), r.text
        # The register's valid permits per age stratum are not known here: the plan asks each
        # stratum for its share of `size` as the synthetic ages give it (roughly), at most all of it.
        shares = [0.02, 0.52, 0.26, 0.20]
        strata = [
            {"name": f"年龄{i}", "where": {"age_band": ages}, "target": max(1, round(size * s))}
            for i, (ages, s) in enumerate(zip(AGES, shares, strict=True))
        ]
        r = await client.post(
            f"{scoring}/v1/campaigns",
            headers=OFFICE,
            json={
                "title_zh": "模拟积分调查压测",
                "drafts": [{"id": "bench-si-draft"}],
                "period": {"opens_on": today.isoformat(), "closes_on": (today + timedelta(days=30)).isoformat()},
                "consent_text": "本人同意将登记信息仅用于本次模拟积分调查。",
                "plan": {"strata": strata, "seed": 2026},
                "line": {"threshold": 150, "share": 0.1},
            },
        )
        assert r.status_code == 201, r.text
    cid = r.json()["id"]
    engine = create_async_engine(p.database_url)
    async with engine.connect() as conn:
        drawn = set(
            (
                await conn.execute(
                    text("SELECT holder_key FROM verification.campaign_invitations WHERE campaign_id = :c"), {"c": cid}
                )
            ).scalars()
        )
        permits = (
            await conn.execute(
                text("SELECT id_number, permit_number FROM registries.police_permits WHERE status = 'valid'")
            )
        ).all()
    await engine.dispose()
    by_key = {holder_key(r.id_number, DEMO_SALT): (r.id_number, r.permit_number) for r in permits}
    return cid, sorted(by_key[k] for k in drawn)


async def _join_and_verify(p: Platform, cid: str, people: list[tuple[str, str]], rate: float, timeout: float) -> dict:
    """Offer the joins at `rate`/s; wait for every participant's facts_verified event."""
    consumer = AIOKafkaConsumer(
        p.topic_prefix + CAMPAIGNS,
        bootstrap_servers=p.env("intake")["KAFKA_BOOTSTRAP_SERVERS"],
        group_id=None,
        auto_offset_reset="latest",
        enable_auto_commit=False,
    )
    await consumer.start()
    await consumer.getmany(timeout_ms=1000)
    verified: dict[str, float] = {}
    listening = True

    async def listen() -> None:
        while listening:
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            now = time.perf_counter()
            for recs in batch.values():
                for r in recs:
                    ev = orjson.loads(r.value)
                    if ev.get("type") == "campaign.facts_verified" and ev["data"]["campaign_id"] == cid:
                        verified.setdefault(ev["data"]["holder_key"], now)

    listener = asyncio.create_task(listen())
    pool = Pool("127.0.0.1", p.port("scoring"), 32)
    path, errors, joined = f"/v1/campaigns/{cid}/participants", {}, 0

    async def join(id_number: str, permit: str) -> None:
        nonlocal joined
        body = {"id_number": id_number, "permit_number": permit, "consent": True}
        try:
            code, _doc = await asyncio.wait_for(pool.post_json(path, body, APP), 60)
        except (TimeoutError, OSError, ConnectionError, asyncio.IncompleteReadError) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            return
        if code == 202:
            joined += 1
        else:
            errors[str(code)] = errors.get(str(code), 0) + 1

    parts = {s: proc.pid for s, proc in p.procs.items()}
    parts["broker"] = read_pid("broker") or 0
    before, started = cpu.snapshot(parts), time.perf_counter()
    tasks = []
    for i, (id_number, permit) in enumerate(people):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(join(id_number, permit)))
    await asyncio.gather(*tasks)
    joins_done = time.perf_counter()
    await pool.close()
    deadline = joins_done + timeout
    while len(verified) < joined and time.perf_counter() < deadline:
        await asyncio.sleep(0.2)  # the listener counts the events; this only yields to it
    listening = False
    await listener
    await consumer.stop()
    last = max(verified.values(), default=joins_done)
    spent = {k: v - before.get(k, 0.0) for k, v in cpu.snapshot(parts).items() if k != "load generator"}
    return {
        "offered_per_s": rate,
        "joined": joined,
        "errors": errors,
        "verified": len(verified),
        "join_rate_per_s": round(joined / (joins_done - started), 1),
        "verified_per_s": round(len(verified) / (last - started), 1) if verified else 0.0,
        "first_join_to_last_verified_s": round(last - started, 1),
        "cpu_ms_per_participant": round(sum(spent.values()) * 1000 / max(1, len(verified)), 1),
    }


async def _recorded(p: Platform, cid: str, expected: int, timeout: float = 300) -> dict:
    """Scoring has recorded every participant's answers (its campaign reads nobody verifying)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=30) as client:
        while True:
            states = (await client.get(f"{p.url('scoring')}/v1/campaigns/{cid}", headers=OFFICE)).json()["participants"]
            if sum(states.values()) >= expected and not states.get("verifying") or time.monotonic() > deadline:
                return states
            await asyncio.sleep(0.5)


async def _report(p: Platform, cid: str) -> dict:
    async with httpx.AsyncClient(timeout=600) as client:
        t0 = time.perf_counter()
        r = await client.post(f"{p.url('scoring')}/v1/campaigns/{cid}/reports", headers=OFFICE)
        seconds = time.perf_counter() - t0
    assert r.status_code == 201, r.text[:500]
    doc = r.json()
    return {
        "seconds": round(seconds, 2),
        "target_s": REPORT_TARGET_S,
        "within_target": seconds < REPORT_TARGET_S,
        "participants": doc["participants"],
    }


def run(size: int = 30_000, rate: float = 100.0, app_seconds: float = 20.0, log_level: str = "WARNING") -> dict:
    """The campaign case on a platform of its own (port base 30000)."""
    app_holders = int(rate * app_seconds * 1.1) + 500
    register = int(size / 0.95) + 1000  # ~97 % of seeded permits are valid; the draw takes `size` of them
    holders = register + app_holders
    p = Platform(
        port_base=30000,
        database="points_bench_campaign",
        topic_prefix=f"benchc{secrets.token_hex(3)}.",
        extra_env={"LOG_LEVEL": log_level},
    )
    p.infra_up(fresh_database=True)
    t0 = time.perf_counter()
    p.migrate_and_seed(holders=holders)
    seeded_s = time.perf_counter() - t0
    p.start_services()
    try:
        t0 = time.perf_counter()
        cid, people = asyncio.run(_open(p, size))
        opened_s = time.perf_counter() - t0
        campaign = asyncio.run(_join_and_verify(p, cid, people, rate, timeout=max(600.0, 3 * size / rate)))
        states = asyncio.run(_recorded(p, cid, campaign["joined"]))
        report = asyncio.run(_report(p, cid))
        # The platform's own application rate, same machine, same run: submission to public notice,
        # from holders seeded past the campaign's share (a few may have been drawn too: no matter).
        apps = asyncio.run(run_load(p, rate, app_seconds, first_holder=register + 1))
    finally:
        p.stop_services()
    return {
        "size": size,
        "drawn": len(people),
        "seeded_holders": holders,
        "seed_s": round(seeded_s, 1),
        "open_s": round(opened_s, 1),
        "campaign": campaign,
        "scoring_states": states,
        "report": report,
        "applications": {
            k: apps[k]
            for k in (
                "offered_per_s",
                "submitted",
                "end_to_end_per_s",
                "end_to_end_incl_drain_per_s",
                "latency_p50_ms",
                "unfinished",
            )
        },
        # Over the whole application run, drain included: 20 s of load at a rate the platform may
        # not carry leaves most notices after the load, which the steady-state figure misses.
        "verified_over_application_rate": round(campaign["verified_per_s"] / apps["end_to_end_incl_drain_per_s"], 3)
        if apps["end_to_end_incl_drain_per_s"]
        else None,
    }


def summary(r: dict) -> str:
    c, rep, a = r["campaign"], r["report"], r["applications"]
    return (
        f"campaign: {c['verified']:,} of {r['drawn']:,} drawn participants verified by every department at "
        f"{c['verified_per_s']}/s (joins offered at {c['offered_per_s']:g}/s; first join to last verified "
        f"{c['first_join_to_last_verified_s']} s; {c['cpu_ms_per_participant']} ms CPU each); the platform's "
        f"applications in the same run: {a['end_to_end_incl_drain_per_s']}/s submission→notice, drain included "
        f"(offered {a['offered_per_s']:g}/s): {r['verified_over_application_rate']}x; report {rep['seconds']} s "
        f"for {rep['participants'].get('verified', 0):,} participants "
        f"(target < {rep['target_s']:g} s: {'met' if rep['within_target'] else 'MISSED'})"
    )
