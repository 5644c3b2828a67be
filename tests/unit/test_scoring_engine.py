from datetime import date

import numpy as np
import pytest

from services.scoring.domain import score_application
from services.scoring.engine.evaluate import evaluate
from services.scoring.engine.facts import residence_years, social_insurance_months
from services.scoring.engine.rules import RuleSetError, in_force, load_shipped, parse_rule_set

RULES = load_shipped()
CUT_OFF = date(2026, 10, 1)


def test_the_2021_rule_set_is_in_force_on_a_2026_cut_off_and_hashed():
    rs = in_force(RULES, CUT_OFF)
    assert rs.id == "hangzhou-2021" and len(rs.content_hash) == 64
    with pytest.raises(RuleSetError, match="no rule set is in force"):
        in_force(RULES, date(2020, 1, 1))


@pytest.mark.parametrize("years, points", [(0, 0), (1, 5), (19, 95), (20, 100), (21, 100), (40, 100)])
def test_residence_5_per_year_capped_at_100(years, points):
    rs = RULES["hangzhou-2021"]
    result = evaluate(rs, {"residence_years": np.array([years]), "social_insurance_months": np.array([0])})
    assert result.explain(0)["lines"][0]["points"] == points


@pytest.mark.parametrize("months, points", [(0, 0), (1, 0.5), (239, 119.5), (240, 120), (400, 120)])
def test_social_insurance_half_a_point_per_month_capped_at_120(months, points):
    rs = RULES["hangzhou-2021"]
    result = evaluate(rs, {"residence_years": np.array([0]), "social_insurance_months": np.array([months])})
    line = result.explain(0)["lines"][1]
    assert line["points"] == points and line["raw_points"] == months * 0.5 and line["cap"] == 120


def test_spans_with_gaps_are_summed_30_days_a_month_12_months_a_year():
    spans = [{"start": "2020-01-01", "end": "2021-01-01"},  # 366 days
             {"start": "2022-01-01", "end": "2022-12-27"}]  # 360 days
    assert residence_years(spans, CUT_OFF) == 2  # 726 days = 24 months
    assert residence_years([{"start": "2025-10-10", "end": None}], CUT_OFF) == 0  # under a year earns nothing
    # An open span ends at the cut-off date; overlaps count once.
    assert residence_years([{"start": "2016-10-01", "end": None}, {"start": "2018-01-01", "end": "2019-01-01"}],
                           CUT_OFF) == 10


def test_transferred_in_and_back_paid_months_do_not_count():
    spans = [{"start": "2024-01-01", "end": "2024-12-01", "kind": "pension", "transferred_in": False, "back_paid": False},
             {"start": "2024-06-01", "end": "2025-05-01", "kind": "medical", "transferred_in": False, "back_paid": False},
             {"start": "2010-01-01", "end": "2015-12-01", "kind": "pension", "transferred_in": True, "back_paid": False},
             {"start": "2025-06-01", "end": "2025-07-01", "kind": "pension", "transferred_in": False, "back_paid": True}]
    assert social_insurance_months(spans, CUT_OFF) == 17  # Jan 2024 – May 2025, overlaps once
    # Months from the cut-off month on are not counted yet.
    assert social_insurance_months([{"start": "2026-09-01", "end": "2026-12-01", "kind": "pension"}], CUT_OFF) == 1


def test_one_application_is_explained_line_by_line():
    answers = [
        {"department": "police", "items": [{"indicator": "permit", "state": "passed"}, {"indicator": "residence", "state": "passed"}],
         "facts": {"permit_status": "valid", "residence_spans": [{"start": "2010-01-01", "end": None}]}},
        {"department": "social_insurance", "items": [{"indicator": "social_insurance", "state": "passed"}],
         "facts": {"social_insurance_spans": [{"start": "2020-10-01", "end": "2026-12-01", "kind": "pension"}]}},
    ]
    ex = score_application(RULES, CUT_OFF, answers)
    assert ex["status"] == "scored" and ex["rule_set_id"] == "hangzhou-2021"
    lines = {l["indicator"]: l for l in ex["lines"]}
    assert lines["residence"]["fact_value"] == 16 and lines["residence"]["points"] == 80
    assert lines["social_insurance"]["fact_value"] == 72 and lines["social_insurance"]["points"] == 36
    assert ex["total"] == 116 == sum(l["points"] for l in ex["lines"])
    assert ex["categories"]["basic"] == 116


def test_a_returned_item_scores_zero_and_the_others_go_on():
    answers = [
        {"department": "police", "items": [{"indicator": "permit", "state": "passed"}, {"indicator": "residence", "state": "returned"}],
         "facts": {"permit_status": "valid", "residence_spans": [{"start": "2010-01-01", "end": None}]}},
        {"department": "social_insurance", "items": [{"indicator": "social_insurance", "state": "passed"}],
         "facts": {"social_insurance_spans": [{"start": "2020-10-01", "end": "2026-12-01", "kind": "pension"}]}},
    ]
    ex = score_application(RULES, CUT_OFF, answers)
    assert {l["indicator"]: l["points"] for l in ex["lines"]} == {"residence": 0, "social_insurance": 36}


@pytest.mark.parametrize("permit, status", [("terminated", "void"), ("suspended", "paused"), ("not_found", "void")])
def test_permit_state_voids_or_pauses_the_score(permit, status):
    answers = [{"department": "police", "items": [], "facts": {"permit_status": permit,
                                                                 "residence_spans": [{"start": "2010-01-01", "end": None}]}}]
    ex = score_application(RULES, CUT_OFF, answers)
    assert ex["status"] == status and ex["total"] == 0 and permit in ex["reason"]


def test_a_bad_rule_file_is_refused_whole_naming_file_indicator_and_field():
    text = """
id: bad-set
name: {zh: 坏, en: Bad}
effective_from: 2027-01-01
indicators:
  - id: residence
    category: basic
    name: {zh: 居住, en: Residence}
    fact: residence_years
    department: police
    formula: {kind: per_unit, unit: 0, points: 5, cap: 100}
"""
    with pytest.raises(RuleSetError) as exc:
        parse_rule_set(text, "bad.yaml")
    msg = str(exc.value)
    assert "bad.yaml" in msg and "'residence'" in msg and "formula" in msg and "unit" in msg
