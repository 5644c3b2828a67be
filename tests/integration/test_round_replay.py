"""The policy office replays the README's Binjiang round under a draft.

周芳 (holder 28), 罗芳 (39) and 赵静 (86) apply for a copy of the Binjiang module; the round (quota 2)
is closed and made final: 赵静 and 周芳 are admitted. The draft changes one indicator, the social
insurance months: 2 points a month up to 400 instead of 0.5 up to 120. Worked out by hand from each
person's own score (the module total, less the old social-insurance points, plus twice the months),
罗芳's long contributions now carry her past 周芳: she enters and 周芳 leaves. An officer sees each
person's lines; the office sees the counts and the masked list only; nothing of the round changes.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local.platform import demo_key
from shared import clock
from tests.integration.helpers import SCORING_ADMIN, WINDOW_SCORES, wait_for
from tests.integration.public_rounds import Person, round_on_notice

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
OFFICE = {"Authorization": f"Bearer {demo_key('scoring', 'demopolicy')}"}
OFFICER = {"Authorization": f"Bearer {demo_key('scoring', 'demoreplayofficer')}"}
CANDIDATES = {"Authorization": f"Bearer {demo_key('publicity', 'demoroundcandidates')}"}
SI_RULE = "formula: {kind: per_unit, unit: 1, points: 0.5, cap: 120}"
SI_DRAFT = "formula: {kind: per_unit, unit: 1, points: 2, cap: 400}"


def draft_text(draft_id: str) -> str:
    """hangzhou-2021 with the social-insurance indicator changed, and nothing else."""
    source = (ROOT / "services/scoring/rulesets/hangzhou-2021.yaml").read_text(encoding="utf-8")
    assert source.count(SI_RULE) == 1 and source.count("\nid: hangzhou-2021\n") == 1, "the rule set changed"
    return source.replace(SI_RULE, SI_DRAFT).replace("\nid: hangzhou-2021\n", f"\nid: {draft_id}\n")


def by_hand(explanation: dict, module_id: str) -> float:
    """The module total under the draft: the social-insurance line's months at 2 points, up to 400."""
    line = next(x for x in explanation["lines"] if x["indicator"] == "social_insurance")
    return explanation["modules"][module_id]["total"] - line["points"] + min(2 * line["fact_value"], 400)


async def final_round(client: httpx.AsyncClient, platform, engine, people: list[Person]) -> dict:
    rnd = await round_on_notice(client, platform, people, "replay", quota=2)
    async with engine.begin() as conn:  # the notice period is over: the sweep makes the list final
        await conn.execute(
            text("UPDATE publicity.rounds SET notice_end = :d WHERE id = :r"),
            {"d": clock.today() - timedelta(days=1), "r": rnd["id"]},
        )

    async def final():
        doc = (await client.get(f"{platform.url('publicity')}/v1/rounds/{rnd['id']}")).json()
        return doc["status"] == "final" and doc

    return await wait_for("the list becomes final", final, timeout=30)


async def the_round_as_published(client: httpx.AsyncClient, platform, engine, round_id: str, apps: list[str]) -> dict:
    base = platform.url("publicity")
    async with engine.connect() as conn:
        entries = (
            await conn.execute(
                text("SELECT * FROM publicity.round_entries WHERE round_id = :r ORDER BY seq"), {"r": round_id}
            )
        ).all()
        scores = (
            await conn.execute(
                text("SELECT application_id, version, total FROM scoring.scores WHERE application_id = ANY(:a)"),
                {"a": apps},
            )
        ).all()
    return {
        "round": (await client.get(f"{base}/v1/rounds/{round_id}")).json(),
        "entries": (await client.get(f"{base}/v1/rounds/{round_id}/entries")).json(),
        "versions": (await client.get(f"{base}/v1/rounds/{round_id}/versions")).json(),
        "rows": [tuple(e) for e in entries],
        "scores": sorted(tuple(s) for s in scores),
    }


async def test_the_binjiang_round_replayed_under_a_draft(platform):
    people = [Person(28, "周芳"), Person(39, "罗芳"), Person(86, "赵静")]
    zhou, luo, zhao = people
    scoring = platform.url("scoring")
    engine = create_async_engine(platform.database_url)
    async with httpx.AsyncClient(timeout=60) as client:
        rnd = await final_round(client, platform, engine, people)
        round_id, module_id = rnd["id"], rnd["module_id"]
        listed = {
            e["id_number"][-4:]: e
            for e in (await the_round_as_published(client, platform, engine, round_id, []))["entries"]["items"]
        }
        assert {tail for tail, e in listed.items() if e["admitted"]} == {zhao.id_number[-4:], zhou.id_number[-4:]}

        draft_id = f"hangzhou-2021-si-{secrets.token_hex(3)}"
        r = await client.put(
            f"{scoring}/v1/rule-sets/drafts/{draft_id}", content=draft_text(draft_id).encode(), headers=OFFICE
        )
        assert r.status_code == 201, r.text

        # By hand, from each person's own score.
        explanations = {}
        for p in people:
            doc = (await client.get(f"{scoring}/v1/scores/{p.application_id}", headers=SCORING_ADMIN)).json()
            explanations[p.n] = doc.get("explanation", doc)
        expected = {p.n: by_hand(explanations[p.n], module_id) for p in people}
        ranked = sorted(people, key=lambda p: -expected[p.n])
        assert [p.n for p in ranked[:2]] != [zhao.n, zhou.n] and [p.n for p in ranked[:2]] == [zhao.n, luo.n], expected

        before = await the_round_as_published(client, platform, engine, round_id, [p.application_id for p in people])

        # The office: counts, groups and the masked list; no one's lines, no application ids.
        r = await client.post(f"{scoring}/v1/rounds/{round_id}/replays", json={"draft": draft_id}, headers=OFFICE)
        assert r.status_code == 200, r.text
        office = r.json()
        assert office["baseline"] == {"admitted": 2, "agrees_with_published_list": True, "differences": []}
        assert office["rescored"] == 3 and office["draft"]["id"] == draft_id
        assert [(a["id_number"], a["total"]) for a in office["admitted"]] == [
            (listed[p.id_number[-4:]]["id_number"], expected[p.n]) for p in ranked[:2]
        ]
        assert [m["id_number"][-4:] for m in office["entering"]] == [luo.id_number[-4:]]
        assert [m["id_number"][-4:] for m in office["leaving"]] == [zhou.id_number[-4:]]
        assert office["leaving"][0]["rank_before"] == 2 and office["leaving"][0]["rank_after"] == 3
        groups = office["by_group"]
        assert set(groups) == {"age_band", "education", "housing", "residence_years"}
        assert sum(v["entering"] for v in groups["housing"]["labels"].values()) == 1
        assert sum(v["leaving"] for v in groups["housing"]["labels"].values()) == 1
        assert groups["housing"]["labels"]["自有住房"]["leaving"] == 1  # 周芳 owns her home
        assert "people" not in office
        for p in people:
            assert p.application_id not in r.text and p.name not in r.text and p.id_number not in r.text

        # An officer: the same, and each person's lines (only the one indicator moved).
        r = await client.post(f"{scoring}/v1/rounds/{round_id}/replays", json={"draft": draft_id}, headers=OFFICER)
        assert r.status_code == 200, r.text
        officer = r.json()
        assert {k: v for k, v in officer.items() if k != "people"} == office
        lines = {x["application_id"]: x for x in officer["people"]}
        assert set(lines) == {p.application_id for p in people}
        for p in people:
            months = next(x for x in explanations[p.n]["lines"] if x["indicator"] == "social_insurance")["fact_value"]
            assert [(x["indicator"], x["points_after"]) for x in lines[p.application_id]["lines"]] == [
                ("social_insurance", min(2 * months, 400))
            ]
            assert lines[p.application_id]["total_after"] == expected[p.n]

        # The operator's command line gives the officer's report, from the database and publicity's list.
        cli = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.scoring.replay",
            round_id,
            "--draft",
            draft_id,
            "--json",
            env={**os.environ, **platform.env("scoring")},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(cli.communicate(), 60)
        assert cli.returncode == 0, err.decode()[-2000:]
        assert orjson.loads(out) == officer

        # Nothing of the real round changed: the list, its versions, the scores.
        after = await the_round_as_published(client, platform, engine, round_id, [p.application_id for p in people])
        assert after == before

        # Refusals: no scope, no key, a round still on notice, no such round, no such draft.
        url = f"{scoring}/v1/rounds/{round_id}/replays"
        assert (await client.post(url, json={"draft": draft_id}, headers=WINDOW_SCORES)).status_code == 403
        assert (await client.post(url, json={"draft": draft_id})).status_code == 401
        unknown = await client.post(
            f"{scoring}/v1/rounds/RND-20260101-0000000000/replays", json={"draft": draft_id}, headers=OFFICE
        )
        assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
        bad = await client.post(url, json={"draft": "no-such-draft"}, headers=OFFICE)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "draft"
        both = await client.post(url, json={}, headers=OFFICE)
        assert both.status_code == 422

        # Publicity's list with applications is for scoring's key alone.
        cands = f"{platform.url('publicity')}/v1/rounds/{round_id}/candidates"
        assert (await client.get(cands)).status_code == 401
        assert (
            await client.get(cands, headers={"Authorization": f"Bearer {demo_key('publicity', 'demobinjiang')}"})
        ).status_code == 403
        got = await client.get(cands, headers=CANDIDATES)
        assert got.status_code == 200 and {c["application_id"] for c in got.json()["candidates"]} == {
            p.application_id for p in people
        }
    await engine.dispose()


async def test_a_round_on_notice_is_not_replayed(platform):
    scoring = platform.url("scoring")
    async with httpx.AsyncClient(timeout=60) as client:
        rnd = await round_on_notice(client, platform, [Person(2890, "司马回放")], "replay-notice", quota=1)
        r = await client.post(
            f"{scoring}/v1/rounds/{rnd['id']}/replays", json={"draft": "hangzhou-2021"}, headers=OFFICE
        )
    assert r.status_code == 409 and r.json()["type"] == "/problems/round-not-final"
