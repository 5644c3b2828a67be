"""Each department against the seeded edge cases, through the whole platform: what the explained
score counts is what the registries hold, at the edges where it is easy to get wrong."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from services.scoring.engine.measures import measure_one
from services.scoring.engine.rules import InsuranceMonths, SpanYears, in_force, load_shipped
from services.verification.seed import demo_holder
from shared import clock
from shared.calendar import cut_off_date
from tests.integration.helpers import WINDOW, WINDOW_SCORES, application_body, status, wait_for

pytestmark = pytest.mark.integration
CO_INVENTORS = (268, 269)  # n % 67 == 0 is first inventor, the next holder second, on one patent
ON_THE_BOUNDARY, DAY_BEFORE = 460, 461
RESIDENCE_GAP = 462
FOREIGN_UNCERTIFIED, FOREIGN_CERTIFIED = 256, 315  # n % 59 == 20; certified when n % 118 == 79


def _first(candidates: range, wanted) -> int:
    """The first demo holder in `candidates` (a stretch no other test applies for) whom the synthetic
    population gives what the test needs: those facts come from the generator, not from a residue."""
    return next(
        n
        for n in candidates
        if n not in (*CO_INVENTORS, FOREIGN_UNCERTIFIED, FOREIGN_CERTIFIED)
        and demo_holder(n)["permit"]["status"] == "valid"
        and wanted(demo_holder(n))
    )


def _only_the_spouse_has_a_home(h: dict) -> bool:
    own = h["permit"]["id_number"]
    return bool(h["homes"]) and all(home["id_number"] != own for home in h["homes"]) and not h["rentals"]


# Insurance months transferred in from another city (the generator gives some holders such a span).
TRANSFERRED_IN = _first(range(270, 460), lambda h: any(s["transferred_in"] for s in h["spans"]))
# n % 18 == 4: the home is in the spouse's name; no home or rental of the holder's.
SPOUSE_OWNS_THE_HOME = _first(range(166, 460, 18), _only_the_spouse_has_a_home)


async def explained(client: httpx.AsyncClient, platform, n: int) -> tuple[dict, dict[str, dict]]:
    app_id = (
        await client.post(f"{platform.url('intake')}/v1/applications", json=application_body(n), headers=WINDOW)
    ).json()["id"]

    async def probe():
        doc = await status(client, platform, app_id)
        return doc["score"] and doc

    doc = await wait_for(f"scoring: holder {n} is scored", probe, timeout=60)
    score = (await client.get(doc["score"]["explanation_url"], headers=WINDOW_SCORES)).json()
    return doc, {line["indicator"]: line for line in score["explanation"]["lines"]}


async def test_the_seeded_edge_cases_count_as_the_rules_say(platform):
    holders = [
        *CO_INVENTORS,
        ON_THE_BOUNDARY,
        DAY_BEFORE,
        RESIDENCE_GAP,
        TRANSFERRED_IN,
        FOREIGN_UNCERTIFIED,
        FOREIGN_CERTIFIED,
        SPOUSE_OWNS_THE_HOME,
    ]
    async with httpx.AsyncClient(timeout=10) as client:
        results = dict(
            zip(holders, await asyncio.gather(*(explained(client, platform, n) for n in holders)), strict=True)
        )
    cut_off = cut_off_date(clock.today())

    first, second = (results[n][1]["patents"]["points"] for n in CO_INVENTORS)
    assert (first, second) == (20, 10)

    # The look-back includes its first day and not the day before it.
    assert results[ON_THE_BOUNDARY][1]["detention"]["points"] == -60
    assert results[DAY_BEFORE][1]["detention"]["points"] == 0

    # Years of residence count registered days only: the gap is not bridged.
    spans = [
        {"start": r["start_date"].isoformat(), "end": r["end_date"] and r["end_date"].isoformat()}
        for r in demo_holder(RESIDENCE_GAP)["residence"]
    ]
    gap_years = results[RESIDENCE_GAP][1]["residence"]["fact_value"]
    assert gap_years == measure_one(SpanYears(kind="span_years"), "r", {"r": spans}, cut_off, 5)
    assert gap_years <= cut_off.year - 2010 - 4  # the four years away (2014-2018) do not count

    # Months transferred in from another city are on record but do not count.
    seeded = demo_holder(TRANSFERRED_IN)["spans"]
    assert any(s["transferred_in"] for s in seeded)
    own = [
        {"start": s["start_month"].isoformat(), "end": s["end_month"].isoformat(), "kind": s["kind"]}
        for s in seeded
        if not s["transferred_in"]
    ]
    months = results[TRANSFERRED_IN][1]["social_insurance"]["fact_value"]
    assert months == measure_one(
        InsuranceMonths(kind="insurance_months", insurance=["pension", "medical"]), "s", {"s": own}, cut_off, 5
    )

    # A foreign degree counts once certified; until then the item is returned with what to do.
    doc, lines = results[FOREIGN_UNCERTIFIED]
    item = next(i for i in doc["items"] if i["indicator"] == "education")
    assert item["state"] == "returned" and "certif" in item["reason"] and lines["education"]["points"] == 0
    certified = demo_holder(FOREIGN_CERTIFIED)["degrees"]
    assert [(d["foreign"], d["certified"]) for d in certified] == [(True, True)]
    education = next(i for i in in_force(load_shipped(), cut_off).indicators if i.id == "education")
    worth = education.formula.points[certified[0]["level"]]
    assert results[FOREIGN_CERTIFIED][1]["education"]["points"] == worth > 0

    # A home in the spouse's name (a relation the household registry knows) is the family's home.
    assert results[SPOUSE_OWNS_THE_HOME][1]["housing"]["points"] == 30
