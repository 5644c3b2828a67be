"""X-modules: guiding indicators, rounds' thresholds, quotas, tie-breakers, the better parent."""

from datetime import date

import numpy as np
import pytest

from services.scoring.engine.modules import evaluate_module, load_shipped_modules, parse_module
from services.scoring.engine.population import Population
from services.scoring.engine.rules import RuleSetError, load_shipped

RULES = load_shipped()
MODULES = load_shipped_modules()
CUT_OFF = date(2026, 10, 1)


def holder(residence_from: str = "2016-10-01", **facts) -> dict:
    return {"permit_status": "valid", "residence_spans": [{"start": residence_from, "end": None}], **facts}


def run(module_id: str, records: list[dict], cut_off: date = CUT_OFF, candidate_of=None):
    return evaluate_module(
        MODULES[module_id],
        RULES,
        Population.from_records(records),
        cut_off,
        None if candidate_of is None else np.array(candidate_of),
    )


def test_binjiang_guiding_indicators_are_scored_beside_the_base_score():
    result = run(
        "binjiang-talent",
        [
            holder(key_enterprise_employee=True, district_residence_spans=[{"start": "2023-09-01", "end": None}]),
            holder(district_residence_spans=[{"start": "2010-01-01", "end": None}]),
        ],
    )
    first, second = result.candidate(0), result.candidate(1)
    assert first["base_total"] == 50  # 10 years of residence × 5
    assert {line["indicator"]: line["points"] for line in first["lines"]} == {
        "key_enterprise": 10,
        "district_residence": 6,
    }
    assert first["total"] == 66
    assert {line["indicator"]: line["points"] for line in second["lines"]} == {
        "key_enterprise": 0,
        "district_residence": 10,
    }


@pytest.mark.parametrize(
    "cut_off, line",
    [
        (date(2018, 6, 1), 130),
        (date(2019, 6, 1), 125),
        (date(2020, 6, 1), 120),
        (date(2022, 6, 1), 120),
        (date(2024, 6, 1), 100),
    ],
)
def test_settlement_cut_off_line_of_each_round(cut_off, line):
    result = run("settlement", [holder()], cut_off)
    assert result.round.threshold == line


def test_settlement_qualifies_at_the_line_inclusive_and_ranks_ties_by_longer_residence():
    # 2026: 100 points suffice. 20 years of residence = 100 points; 19 years = 95.
    records = [
        holder("2005-06-01"),
        holder("2006-10-01"),
        holder("2007-10-01"),
        holder("2006-09-01", permit_status="terminated"),
    ]
    result = run("settlement", records)
    docs = [result.candidate(i) for i in range(4)]
    assert [d["total"] for d in docs] == [100, 100, 95, 0]
    assert [d["qualified"] for d in docs] == [True, True, False, False]
    assert [d["rank"] for d in docs] == [1, 2, 3, None]  # equal totals: the longer residence first
    assert not docs[3]["eligible"]


def test_a_child_uses_the_higher_parents_score_and_only_parents_with_a_valid_permit():
    records = [
        holder("2016-10-01"),
        holder("2011-10-01"),  # child 0: parents with 50 and 75
        holder("2001-10-01", permit_status="terminated"),
        holder("2021-10-01"),
    ]  # child 1: 125 void, 25
    result = run("school-enrolment", records, candidate_of=[0, 0, 1, 1])
    child0, child1 = result.candidate(0), result.candidate(1)
    assert child0["total"] == 75 and child0["counted_row"] == 1
    assert child1["total"] == 25 and child1["counted_row"] == 3
    assert child0["rank"] == 1 and child1["rank"] == 2


def test_school_tie_breakers_in_their_order():
    same = dict(residence_from="2016-10-01")
    records = [
        holder(**same, own_home=False, district_continuous_residence_days=900),
        holder(**same, own_home=True, district_continuous_residence_days=100),
        holder(**same, own_home=False, district_continuous_residence_days=1500),
    ]
    result = run("school-enrolment", records)
    assert [result.candidate(i)["rank"] for i in range(3)] == [3, 1, 2]


def test_a_quota_admits_only_the_first_places():
    module = parse_module(
        """
id: district-school
owner: district:xihu
name: {zh: 西湖区积分入学, en: Xihu school enrolment}
effective_from: 2020-01-01
rounds: [{from: 2026-01-01, quota: 2}]
""",
        "district-school.yaml",
    )
    records = [holder("2016-10-01"), holder("2011-10-01"), holder("2021-10-01"), holder("2006-10-01")]
    result = evaluate_module(module, RULES, Population.from_records(records), CUT_OFF)
    assert [result.candidate(i)["qualified"] for i in range(4)] == [False, True, False, True]


def test_a_bad_module_is_refused_naming_the_field():
    with pytest.raises(RuleSetError, match="owner"):
        parse_module("id: x\nowner: somebody\nname: {zh: 坏, en: Bad}\neffective_from: 2020-01-01\n", "x.yaml")
    with pytest.raises(RuleSetError, match="tie_breakers"):
        parse_module(
            "id: x\nowner: city\nname: {zh: 坏, en: Bad}\neffective_from: 2020-01-01\n"
            "tie_breakers: [{key: 'height'}]\n",
            "x.yaml",
        )
