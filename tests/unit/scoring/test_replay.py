"""A past round replayed under a draft: ranked as publicity ranks, entrants and leavers named,
groups counted, each person's lines compared; and the use case over the fake store, on three
holders whose only difference is their age, under a draft that turns the age indicator round."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest

from services.scoring import use_cases
from services.scoring.engine.modules import load_shipped_modules
from services.scoring.engine.rules import load_shipped
from services.scoring.replay import domain
from services.scoring.replay.cli import summary
from services.scoring.replay.domain import Placed, Standing
from services.scoring.replay.use_cases import ReplayRefused, replay
from services.scoring.simulation.drafts import parse_draft
from tests.unit.scoring.fake_store import FakeStore
from tests.unit.scoring.test_use_cases import TODAY, police_answer, submitted, sweep

D = date(2026, 11, 1)


def standing(app: str, total: float, *ties: float, eligible: bool = True, applied_on: date = D) -> Standing:
    return Standing(app, applied_on, eligible, total, (total, *ties))


def test_the_list_ranks_by_total_then_tie_breakers_then_the_earlier_application_then_the_id():
    placed = domain.rank(
        [
            standing("A", 50, 1),
            standing("B", 50, 3),
            standing("C", 60, 0),
            standing("D", 50, 1, applied_on=D - timedelta(days=1)),
            standing("E", 50, 1),
            standing("F", 99, 9, eligible=False),
        ],
        quota=None,
        threshold=None,
    )
    assert [a for a, _ in sorted(placed.items(), key=lambda kv: kv[1].rank)] == ["C", "B", "D", "A", "E"]
    assert "F" not in placed  # the ineligible are not on the list


def test_quota_and_threshold_draw_the_line_as_a_round_does():
    people = [standing("A", 70), standing("B", 60), standing("C", 50)]
    assert domain.admitted(domain.rank(people, quota=2, threshold=None)) == {"A", "B"}
    assert domain.admitted(domain.rank(people, quota=None, threshold=55)) == {"A", "B"}
    assert domain.admitted(domain.rank(people, quota=3, threshold=65)) == {"A"}


def test_entrants_and_leavers_and_the_groups_they_come_from():
    before = domain.rank([standing("A", 70), standing("B", 60), standing("C", 50)], quota=2, threshold=None)
    after = domain.rank([standing("A", 40), standing("B", 60), standing("C", 55)], quota=2, threshold=None)
    move = domain.movement(before, after)
    assert (move.entering, move.leaving, move.staying) == (["C"], ["A"], ["B"])
    labels = {"A": {"age_band": "25–34岁"}, "B": {"age_band": "45–54岁"}, "C": {"age_band": "45–54岁"}}
    groups = domain.group_counts(labels, before, after, ["A", "B", "C"])
    assert groups["age_band"]["25–34岁"] == {
        "candidates": 1,
        "admitted_before": 1,
        "admitted_after": 0,
        "entering": 0,
        "leaving": 1,
    }
    assert groups["age_band"]["45–54岁"] == {
        "candidates": 2,
        "admitted_before": 1,
        "admitted_after": 2,
        "entering": 1,
        "leaving": 0,
    }


def test_a_published_list_that_the_baseline_does_not_give_back_is_named():
    recomputed = {"A": Placed(1, 70, True), "B": Placed(2, 60, False)}
    assert domain.disagreements(recomputed, dict(recomputed)) == []
    published = {"A": Placed(2, 70, False), "B": Placed(1, 60, True), "C": Placed(3, 10, False)}
    found = domain.disagreements(recomputed, published)
    assert [f.split(":")[0] for f in found] == ["A", "B", "C"]
    assert "published list only" in found[2]


def test_only_the_lines_that_moved_are_told():
    line = {"category": "basic", "name_zh": "年龄", "name_en": "Age"}
    before = {
        "lines": [{**line, "indicator": "age", "points": 30.0}, {**line, "indicator": "education", "points": 10.0}],
        "modules": {"m": {"lines": [{**line, "indicator": "key_enterprise", "points": 10.0}]}},
    }
    after = copy.deepcopy(before)
    after["lines"][0]["points"] = 0.0
    after["modules"]["m"]["lines"][0]["points"] = 20.0
    assert domain.line_differences(before, after, "m") == [
        {**line, "indicator": "age", "points_before": 30.0, "points_after": 0.0},
        {**line, "indicator": "key_enterprise", "points_before": 10.0, "points_after": 20.0},
    ]


# -- the use case over the fake store -----------------------------------------------------------------
# Born 1990 (36 on the cut-off: 30 points for age), 1975 (51: 7 + 2 × (55 − 51) = 15), 1968 (58: 5).
BIRTHS = {"R-1990": "1990-05-01", "R-1975": "1975-05-01", "R-1968": "1968-05-01"}
# The draft turns the age indicator round: nothing up to 43, 50 from 44 to 55, 20 from 56.
DRAFT = """
id: hangzhou-2021-age-reversed
based_on: hangzhou-2021
indicators:
  - id: age
    category: basic
    name: {zh: 年龄（草案）, en: Age (draft)}
    department: police
    fact: birth_date
    measure: {kind: age}
    formula:
      kind: bracket
      brackets:
        - {max: 43, points: 0}
        - {min: 44, max: 55, points: 50}
        - {min: 56, points: 20}
"""


async def scored_round() -> tuple[FakeStore, list[dict]]:
    store = FakeStore()
    for app, birth in BIRTHS.items():
        # Education never answers: the sweep scores each at its deadline, education at 0 for all three.
        store.add_application(submitted(app, TODAY - timedelta(days=1), ["police", "education"], key=f"k-{app}"))
        answer = police_answer(app, ["police", "education"], TODAY - timedelta(days=1))
        answer["facts"] = {**answer["facts"], "birth_date": birth}
        answer["holder"] = {**answer["holder"], "key": f"k-{app}"}
        await store.add_answer(answer)
    await sweep(store)
    await store.record_texts(use_cases.texts_of(load_shipped().values(), load_shipped_modules().values()))
    # The list publicity published: ranked by the module totals (the ages' points).
    entries = [
        {"entry": n, "rank": n, "application_id": app, "name": f"张*{n}", "id_number": f"3301**{n}", "score": s}
        for n, (app, s) in enumerate([("R-1990", 30.0), ("R-1975", 15.0), ("R-1968", 5.0)], start=1)
    ]
    for e in entries:
        e["admitted"] = e["rank"] == 1
    return store, entries


ROUND = {"id": "RND-1", "module_id": "binjiang-talent", "status": "final", "quota": 1, "threshold": None}


async def test_a_final_round_replayed_under_a_draft_names_who_enters_and_who_leaves():
    store, entries = await scored_round()
    kept = copy.deepcopy(store.scores)
    draft = parse_draft(DRAFT, "draft", load_shipped())
    report = await replay(store, ROUND, entries, draft)

    assert report["baseline"] == {"admitted": 1, "agrees_with_published_list": True, "differences": []}
    assert report["rescored"] == 3 and report["not_rescored"] == []
    assert [a["entry"] for a in report["admitted"]] == [2]  # born 1975: 50 points under the draft
    assert report["admitted"][0]["total"] == 50.0
    assert [(m["entry"], m["total_before"], m["total_after"]) for m in report["entering"]] == [(2, 15.0, 50.0)]
    assert [(m["entry"], m["rank_before"], m["rank_after"]) for m in report["leaving"]] == [(1, 1, 3)]
    ages = report["by_group"]["age_band"]["labels"]
    assert ages["35–44岁"]["leaving"] == 1 and ages["45–54岁"]["entering"] == 1 and ages["55+岁"]["candidates"] == 1
    lines = {p["entry"]: p["lines"] for p in report["people"]}
    assert lines[1] == [
        {
            "indicator": "age",
            "category": "basic",
            "name_zh": "年龄（草案）",
            "name_en": "Age (draft)",
            "points_before": 30.0,
            "points_after": 0.0,
        }
    ]
    assert [(line["points_before"], line["points_after"]) for line in lines[3]] == [(5.0, 20.0)]
    assert store.scores == kept  # nothing written


async def test_a_list_still_on_notice_is_not_replayed():
    store, entries = await scored_round()
    with pytest.raises(ReplayRefused) as refused:
        await replay(store, {**ROUND, "status": "notice"}, entries, parse_draft(DRAFT, "draft", load_shipped()))
    assert refused.value.status == 409 and "final" in refused.value.message


async def test_a_candidate_without_kept_answers_keeps_its_standing_and_is_named():
    store, entries = await scored_round()
    store.scores["R-1968"][1]["answers"] = None
    report = await replay(store, ROUND, entries, parse_draft(DRAFT, "draft", load_shipped()))
    assert report["rescored"] == 2
    assert [(n["entry"], "nothing to re-score" in n["reason"]) for n in report["not_rescored"]] == [(3, True)]
    assert [a["entry"] for a in report["admitted"]] == [2]


async def test_the_command_line_summary_names_entrants_leavers_and_lines():
    store, entries = await scored_round()
    report = await replay(store, ROUND, entries, parse_draft(DRAFT, "draft", load_shipped()))
    lines = summary(report)
    assert lines[1] == "baseline: agrees with the published list"
    assert "  enters: entry 2 张*2 3301**2: rank 2 → 1, 15 → 50" in lines
    assert "  leaves: entry 1 张*1 3301**1: rank 1 → 3, 30 → 0" in lines
    assert "  entry 3 (R-1968): age 5 → 20" in lines
