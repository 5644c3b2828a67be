"""Simulations on the real scoring service: the same engine as a score, jobs that outlive a restart."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import date
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local.platform import demo_key
from services.scoring.engine.evaluate import STATUSES, evaluate
from services.scoring.engine.rules import load_shipped
from services.scoring.simulation.cli import EXAMPLE
from services.scoring.simulation.population import from_arrow
from shared.auth import ApiKeys, api_keys_table
from shared.synthetic.documents import documents
from shared.synthetic.holders import DEFAULT_AS_OF
from shared.synthetic.parquet import read_batches, write_population
from tests.integration.helpers import READER, wait_for

pytestmark = pytest.mark.integration
POLICY = {"Authorization": f"Bearer {demo_key('scoring', 'demopolicy')}"}
HOLDERS = 3000
APPLIED = date(2026, 11, 16)  # its cut-off date is the population's reference date, 2026-10-01


async def _finished(client: httpx.AsyncClient, url: str, timeout: float = 90) -> dict:
    async def probe():
        doc = (await client.get(url, headers=POLICY)).json()
        return doc if doc["state"] in ("done", "failed") else None

    return await wait_for("the simulation to finish", probe, timeout=timeout, every=0.5)


async def _service_scores(client: httpx.AsyncClient, url: str, docs: list[dict]) -> list[dict]:
    gate = asyncio.Semaphore(8)

    async def one(facts: dict) -> dict:
        async with gate:
            r = await client.post(
                url,
                json={"facts": facts, "application_date": APPLIED.isoformat(), "rule_set_id": "hangzhou-2021"},
                headers=READER,
            )
            assert r.status_code == 200, r.text
            return r.json()

    return await asyncio.gather(*(one(d) for d in docs))


async def test_the_simulation_scores_as_the_service_does_indicator_by_indicator(platform, tmp_path):
    population = tmp_path / "city.parquet"
    write_population(population, HOLDERS)
    batch = pa.Table.from_batches(list(read_batches(population))).combine_chunks().to_batches()[0]
    rule_set = load_shipped()["hangzhou-2021"]
    async with httpx.AsyncClient(timeout=30) as client:
        # The simulation path: the uploaded file, scored by a job of the service.
        with population.open("rb") as f:
            r = await client.post(
                f"{platform.url('scoring')}/v1/simulations",
                headers=POLICY,
                files={
                    "population": ("city.parquet", f, "application/vnd.apache.parquet"),
                    "draft_document": ("rent-equals-own.yaml", EXAMPLE.read_bytes()),
                },
                data={"quota": "300"},
            )
        assert r.status_code == 202, r.text
        job = await _finished(client, platform.url("scoring") + r.headers["location"])
        assert job["state"] == "done", job
        summary = (await client.get(platform.url("scoring") + job["links"]["summary"], headers=POLICY)).json()
        # The service path: every holder's facts, as the departments send them, scored one by one.
        service = await _service_scores(client, f"{platform.url('scoring')}/v1/evaluate", documents(batch))

    # Holder by holder and indicator by indicator, the columns the simulation reads score as the service does.
    ev = evaluate(rule_set, from_arrow(batch), DEFAULT_AS_OF)
    ids = [i.id for i in rule_set.indicators]
    for h, explained in enumerate(service):
        assert explained["cut_off_date"] == DEFAULT_AS_OF.isoformat()
        assert explained["status"] == STATUSES[ev.status_code[h]], h
        for k, line in enumerate(explained["lines"]):
            assert line["indicator"] == ids[k]
            assert line["raw_points"] == float(ev.raw[k, h]), (h, line["indicator"])
            fact = line["fact_value"]["value"] if isinstance(line["fact_value"], dict) else line["fact_value"]
            assert fact == float(ev.values[k, h]), (h, line["indicator"])
        assert explained["total"] == float(ev.totals[h]), h
    # And the job's report sums exactly what the service scored.
    points = {i: sum(e["lines"][k]["points"] for e in service) for k, i in enumerate(ids)}
    for row in summary["indicators"]:
        assert row["mean_before"] * HOLDERS == pytest.approx(points[row["indicator"]], abs=1e-6), row["indicator"]
    scored = [e["total"] for e in service if e["status"] == "scored"]
    assert summary["score"]["before"]["holders"] == len(scored)
    assert summary["score"]["before"]["mean"] == pytest.approx(float(np.mean(scored)), abs=1e-4)
    # 租购同分: only housing moves, and only renters' points rise.
    moved = [r for r in summary["indicators"] if r["holders_changed"]]
    assert [r["indicator"] for r in moved] == ["housing"] and summary["change"]["losers"] == 0
    renters = next(r for r in summary["groups"]["housing"]["labels"] if r["label"] == "registered renter")
    owners = next(r for r in summary["groups"]["housing"]["labels"] if r["label"] == "owner")
    assert renters["gainers"] > 0 and owners["gainers"] == 0
    assert summary["line"]["quota"] == 300 and summary["line"]["before"]["qualified"] == 300


async def _under_way(client: httpx.AsyncClient, platform, body: dict) -> str:
    """Start a job and wait until its child is scoring or generating; its URL."""
    r = await client.post(f"{platform.url('scoring')}/v1/simulations", json=body, headers=POLICY)
    assert r.status_code == 202, r.text
    job_url = platform.url("scoring") + r.headers["location"]

    async def running():
        doc = (await client.get(job_url, headers=POLICY)).json()
        return doc if doc["state"] == "running" and doc["progress"]["holders_done"] > 0 else None

    await wait_for("the job to be under way", running, timeout=60, every=0.1)
    return job_url


async def test_a_job_survives_a_restart_of_the_service(platform):
    body = {
        "population": {"holders": 1_500_000, "seed": 7},
        "draft_document": EXAMPLE.read_text(encoding="utf-8"),
        "module": "binjiang-talent",
        "threshold": 150,
    }
    async with httpx.AsyncClient(timeout=30) as client:
        job_url = await _under_way(client, platform, body)
        children = _children(platform.procs["scoring"].pid)
        assert children, "the job runs in a child process"
        os.kill(platform.procs["scoring"].pid, signal.SIGKILL)  # no time to put the job back
        await wait_for("the job's process to stop with the service", lambda: _none_alive(children), timeout=10)
        platform.start_service("scoring")
        platform.wait_ready(["scoring"])
        job = await _finished(client, job_url, timeout=120)
        assert job["state"] == "done" and job["attempts"] == 2, job
        assert job["result"]["holders"] == 1_500_000
        report = await client.get(platform.url("scoring") + job["links"]["report"], headers=POLICY)
        assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
        # An HTML page: not to be framed by other sites, no scripts, no sniffing, no Referer.
        assert "frame-ancestors 'none'" in report.headers["content-security-policy"]
        assert "script-src" not in report.headers["content-security-policy"]
        assert (
            report.headers["x-content-type-options"] == "nosniff" and report.headers["referrer-policy"] == "no-referrer"
        )
        assert "binjiang-talent" in report.text and "<svg" in report.text
        line = job["result"]["line"]
        assert line["threshold"] == 150 and line["before"]["qualified"] > 0


async def test_a_job_goes_back_to_the_queue_when_the_service_stops_gracefully(platform):
    async with httpx.AsyncClient(timeout=30) as client:
        job_url = await _under_way(
            client, platform, {"population": {"holders": 1_500_000, "seed": 9}, "draft": "hangzhou-2021"}
        )
        platform.stop_service("scoring")  # SIGTERM to the service's process group, as a supervisor or Ctrl-C sends
        platform.start_service("scoring")
        platform.wait_ready(["scoring"])
        job = await _finished(client, job_url, timeout=120)
        # Put back at once, not failed, not counted as an interruption.
        assert job["state"] == "done" and job["attempts"] == 1, job


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


async def _none_alive(pids: list[int]) -> bool:
    return not any(Path(f"/proc/{p}").exists() and "zombie" not in _state(p) for p in pids)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].lower()
    except (OSError, IndexError):
        return "zombie"


async def test_a_job_interrupted_too_often_fails_visibly(platform):
    engine = create_async_engine(platform.database_url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO scoring.simulations"
                " (id, requested_by, state, spec, attempts, heartbeat_at, holders_total) "
                "SELECT 'SIM-INTERRUPTED', 'demo-policy-office', 'running', spec, 3, now() - interval '1 hour', 10 "
                "FROM (SELECT CAST(:spec AS jsonb) AS spec) s"
            ),
            {
                "spec": '{"population": {"kind": "generated", "holders": 10, '
                '"seed": 1, "as_of": "2026-10-01"}, "baseline": {"id": "hangzhou-2021"}, '
                '"draft": {"id": "x", "content_hash": ""}, "module": null, '
                '"cut_off_date": null, "threshold": null, "quota": null}'
            },
        )
    await engine.dispose()
    async with httpx.AsyncClient(timeout=10) as client:
        job = await _finished(client, f"{platform.url('scoring')}/v1/simulations/SIM-INTERRUPTED", timeout=30)
        assert job["state"] == "failed" and "interrupted 3 times" in job["error"]
        r = await client.get(f"{platform.url('scoring')}/v1/simulations/SIM-INTERRUPTED/report", headers=POLICY)
        assert r.status_code == 409 and "interrupted" in r.json()["detail"]


async def test_a_job_whose_process_dies_fails_with_the_reason(platform):
    async with httpx.AsyncClient(timeout=30) as client:
        r = await client.post(
            f"{platform.url('scoring')}/v1/simulations",
            headers=POLICY,
            json={"population": {"holders": 1_500_000, "seed": 11}, "draft": "hangzhou-2021"},
        )
        assert r.status_code == 202, r.text
        job_url = platform.url("scoring") + r.headers["location"]

        async def under_way():
            doc = (await client.get(job_url, headers=POLICY)).json()
            return _children(platform.procs["scoring"].pid) if doc["state"] == "running" else None

        for pid in await wait_for("the job's process", under_way, timeout=60, every=0.1):
            os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would
        job = await _finished(client, job_url)
        assert job["state"] == "failed" and "SIGKILL" in job["error"] and job["attempts"] == 1, job
        r = await client.get(job_url + "/summary", headers=POLICY)
        assert r.status_code == 409 and "SIGKILL" in r.json()["detail"]


async def test_bad_requests_are_refused_field_by_field(platform, tmp_path):
    url = f"{platform.url('scoring')}/v1/simulations"
    not_parquet = tmp_path / "x.parquet"
    not_parquet.write_bytes(b"id,name\n1,a\n")
    async with httpx.AsyncClient(timeout=30) as client:
        cases = [
            ({"population": {"holders": 10}}, "body"),  # neither draft nor draft_document
            ({"population": {"holders": 0}, "draft": "hangzhou-2021"}, "population.holders"),
            ({"population": {"holders": 10}, "draft": "no-such-rules"}, "draft"),
            ({"population": {"holders": 10}, "draft": "hangzhou-2021", "baseline": "nope"}, "baseline"),
            ({"population": {"holders": 10}, "draft": "hangzhou-2021", "module": "nope"}, "module"),
            (
                {"population": {"holders": 10}, "draft_document": "based_on: hangzhou-2021\nid: d\nremove: [no_such]"},
                "draft_document",
            ),
            ({"population": {"holders": 10_000_001}, "draft": "hangzhou-2021"}, "population.holders"),
            ({"population": {"holders": 10, "seed": 1 << 40}, "draft": "hangzhou-2021"}, "population.seed"),
            ({"population": {"holders": 10}, "draft": "hangzhou-2021", "quota": 10**20}, "quota"),
            # school enrolment ranks children by the better parent: a population of holders has no families
            ({"population": {"holders": 10}, "draft": "hangzhou-2021", "module": "school-enrolment"}, "module"),
            (
                {"population": {"holders": 10}, "draft_document": "based_on: hangzhou-2021\nremove: [tax]"},
                "draft_document",
            ),
        ]
        for body, field in cases:
            r = await client.post(url, json=body, headers=POLICY)
            assert r.status_code == 422, (body, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            assert any(e["field"] == field for e in r.json()["errors"]), (field, r.json())
        with not_parquet.open("rb") as f:
            r = await client.post(
                url, headers=POLICY, files={"population": ("x.parquet", f)}, data={"draft": "hangzhou-2021"}
            )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "population", r.text
        wrong = tmp_path / "wrong.parquet"  # dates as free text, spans without a start
        pq.write_table(
            pa.table(
                {
                    "birth_date": ["born in spring"] * 5,
                    "own_home": [True] * 5,
                    "residence_spans": [[{"end": date(2020, 1, 1)}]] * 5,
                }
            ),
            wrong,
        )
        with wrong.open("rb") as f:
            r = await client.post(
                url,
                headers=POLICY,
                files={"population": ("wrong.parquet", f)},
                data={"draft": "hangzhou-2021", "cut_off_date": "2026-10-01"},
            )
        assert r.status_code == 422, r.text
        assert {e["field"] for e in r.json()["errors"]} == {"population.birth_date", "population.residence_spans"}
        unrelated = tmp_path / "unrelated.parquet"
        pq.write_table(pa.table({"name": ["a"], "salary": [1.0]}), unrelated)
        with unrelated.open("rb") as f:
            r = await client.post(
                url,
                headers=POLICY,
                files={"population": ("u.parquet", f)},
                data={"draft": "hangzhou-2021", "cut_off_date": "2026-10-01"},
            )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "population", r.text
        assert not [p for p in Path(".local/test-simulations").glob("*") if not (p / "spec.json").exists()]  # none kept
        # Only the policy office's keys, and each office sees only its own jobs.
        assert (
            await client.post(url, json={"population": {"holders": 5}, "draft": "hangzhou-2021"})
        ).status_code == 401
        r = await client.post(url, json={"population": {"holders": 5}, "draft": "hangzhou-2021"}, headers=READER)
        assert r.status_code == 403
        r = await client.post(url, json={"population": {"holders": 5}, "draft": "hangzhou-2021"}, headers=POLICY)
        assert r.status_code == 202
        mine = platform.url("scoring") + r.headers["location"]
        admin = {"Authorization": f"Bearer {demo_key('scoring', 'demoscoringadmin')}"}
        binjiang = {"Authorization": f"Bearer {demo_key('scoring', 'demobinjiang')}"}
        assert (await client.get(mine, headers=admin)).status_code == 200
        assert (await client.get(mine, headers=binjiang)).status_code == 403
        await _finished(client, mine)
        # Another office with the same scope: the job, its report and summary are as good as absent.
        engine = create_async_engine(platform.database_url)
        other = {
            "Authorization": "Bearer "
            + await ApiKeys(engine, api_keys_table(MetaData(schema="scoring"))).issue(
                "another-policy-office", ["simulation"]
            )
        }
        await engine.dispose()
        for path in ("", "/report", "/summary"):
            assert (await client.get(mine + path, headers=other)).status_code == 404, path
            assert (await client.get(mine + path, headers=POLICY)).status_code == 200, path
        listed = (await client.get(url, headers=other)).json()
        assert r.json()["id"] not in [j["id"] for j in listed]
        assert r.json()["id"] in [j["id"] for j in (await client.get(url, headers=POLICY)).json()]
