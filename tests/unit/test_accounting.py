"""An explanation accounts for every record: each counted (and how much) or left out with the reason,
the rule in words and numbers, the window dates, and a sentence a holder can read."""

from __future__ import annotations

from datetime import date

from services.scoring.domain import score_facts
from services.scoring.engine.rules import load_shipped

RULES = load_shipped()
CUT_OFF = date(2026, 10, 1)  # look-back: 2021-10-01 (counted) to 2026-10-01 (not counted)


def lines(facts: dict) -> dict[str, dict]:
    ex = score_facts(RULES, CUT_OFF, {"permit_status": "valid", **facts}, rules_on=date(2026, 11, 26))
    return {line["indicator"]: line for line in ex["lines"]}


def accounted(line: dict) -> list[tuple]:
    return [(r["counted"], r["left_out"]) for r in line["records"]]


def test_insurance_months_left_out_are_named_transferred_in_back_paid_other_insurance():
    line = lines(
        {
            "social_insurance_spans": [
                {"start": "2024-10-01", "end": None, "kind": "pension"},
                {"start": "2024-10-01", "end": "2025-09-30", "kind": "medical"},  # the same months: once
                {"start": "2020-01-01", "end": "2020-12-31", "kind": "pension", "transferred_in": True},
                {"start": "2021-01-01", "end": "2021-06-30", "kind": "pension", "back_paid": True},
                {"start": "2019-01-01", "end": "2019-12-31", "kind": "unemployment"},
            ]
        }
    )["social_insurance"]
    assert accounted(line) == [
        ("24个月", "截止日所在月及以后的月份不计"),
        (None, "与其他记录同月的12个月只计一次"),
        (None, "转入的月份不计"),
        (None, "补缴的月份不计"),
        (None, "该险种的缴费月数不计分"),
    ]
    assert line["points"] == 12 and "另有4条记录未计入" in line["summary_zh"]


def test_residence_overlap_and_the_part_year_are_shown():
    line = lines(
        {"residence_spans": [{"start": "2021-10-01", "end": None}, {"start": "2022-10-01", "end": "2023-10-01"}]}
    )["residence"]
    assert accounted(line) == [
        ("1826天", None),
        (None, "与其他记录重叠的365天只计一次"),
    ]  # exactly 60 months: no remainder line
    line = lines({"residence_spans": [{"start": "2021-11-15", "end": None}]})["residence"]
    assert accounted(line)[-1] == (None, "合计1781天，折合59个月；不足一年的11个月不计")


def test_look_back_records_show_the_window_and_those_outside_it():
    line = lines(
        {
            "volunteer_service": [
                {"date": "2021-10-01", "hours": 20},
                {"date": "2021-09-30", "hours": 100},
                {"date": "2026-10-01", "hours": 100},
            ]
        }
    )["volunteering"]
    assert line["window"] == {"from": "2021-10-01", "to_before": "2026-10-01"}
    assert line["rule"] == "回溯期内累计每满20小时计2分，最高20分"
    assert accounted(line) == [("20小时", None), (None, "早于回溯期（2021-10-01起）不计"), (None, "截止日及以后的不计")]


def test_one_act_counts_once_at_its_largest_and_the_rest_says_so():
    by = lines(
        {
            "offences": [
                {"date": "2024-02-01", "act": "A1", "case": "criminal"},
                {"date": "2024-02-01", "act": "A1", "case": "detention"},
                {"date": "2020-02-01", "act": "A2", "case": "detention"},
            ]
        }
    )
    assert accounted(by["criminal"]) == [("-150分", None)]
    assert accounted(by["detention"]) == [
        (None, "同一行为已按较重的一项计，此项不再计"),
        (None, "不在回溯期（2021-10-01至截止日前）内，不计"),
    ]


def test_choices_among_records_highest_and_per_matter():
    by = lines(
        {
            "education": ["junior_college", "master"],
            "honours": [{"matter": "A", "level": "city"}, {"matter": "A", "level": "national"}],
            "investment_tax": [
                {"enterprise": "E1", "year": 2025, "yuan": 300000},
                {"enterprise": "E1", "year": 2022, "yuan": 1},
            ],
        }
    )
    assert accounted(by["education"]) == [(None, "只计最高一项"), ("70分", None)]
    assert "本科50分" in by["education"]["rule"]  # values named in Chinese, never as codes
    assert accounted(by["honours"]) == [(None, "同一事项只计最高一项"), ("80分", None)]
    assert accounted(by["investment"]) == [("300000元", None), (None, "不在计算的2023至2025年度内")]


def test_the_bus_carries_the_rule_and_sentence_but_not_the_records():
    from services.scoring.domain import public_line

    line = lines({"residence_spans": [{"start": "2016-10-01", "end": None}]})["residence"]
    sent = public_line(line)
    assert "records" not in sent and "fact_value" not in sent
    assert sent["rule"] == "每满1年计5分，最高100分" and sent["summary_zh"].endswith("计50分。")


def test_intervals_add_what_a_set_of_points_would():
    from hypothesis import given
    from hypothesis import strategies as st

    from services.scoring.engine.measures import Intervals

    @given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=8))
    def check(spans):
        seen: set[int] = set()
        covered = Intervals()
        for lo, hi in spans:
            new_points = set(range(lo, hi)) - seen
            seen |= set(range(lo, hi))
            assert covered.add(lo, hi) == len(new_points)
        assert covered.length == len(seen)

    check()
