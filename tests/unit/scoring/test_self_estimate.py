"""模拟积分 for a holder: answers become exactly the measures they state, and every line says how
its points came about (pure, no services)."""

from __future__ import annotations

from datetime import date

import pytest

from services.scoring.domain import score_facts
from services.scoring.engine.rules import in_force, load_shipped
from services.scoring.self_estimate import Answers, estimate_doc, facts_of, shift_months

CUT_OFF = date(2026, 10, 1)
RULE_SETS = load_shipped()


def estimate(answers: Answers) -> dict:
    rule_set = in_force(RULE_SETS, CUT_OFF)
    return estimate_doc(rule_set, score_facts({rule_set.id: rule_set}, CUT_OFF, facts_of(answers, CUT_OFF)))


def line(doc: dict, indicator: str) -> dict:
    return next(x for x in doc["lines"] if x["indicator"] == indicator)


@pytest.mark.parametrize("years", [1, 8, 20, 60])
def test_years_of_residence_are_measured_as_stated(years):
    doc = estimate(Answers(birth_date=date(1960, 1, 1), residence_years=years))
    assert line(doc, "residence")["raw_points"] == 5 * years  # 5 points a full year under hangzhou-2021
    assert line(doc, "residence")["computation_zh"].startswith(f"居住登记年限：{years}年；每满1年计5分")


@pytest.mark.parametrize("months", [1, 12, 103, 300])
def test_months_of_insurance_are_measured_as_stated(months):
    doc = estimate(Answers(birth_date=date(1990, 5, 1), insurance_months=months))
    assert line(doc, "social_insurance")["raw_points"] == 0.5 * months
    assert line(doc, "social_insurance")["points"] == min(0.5 * months, 120)


def test_shift_months_crosses_years():
    assert shift_months(date(2026, 10, 1), 10) == date(2025, 12, 1)
    assert shift_months(date(2026, 1, 1), 1) == date(2025, 12, 1)


def test_an_estimate_is_the_sum_of_its_lines_with_the_rule_set_in_force():
    doc = estimate(
        Answers(
            birth_date=date(1990, 5, 1),
            education="bachelor",
            employed=True,
            insurance_months=103,
            residence_years=8,
            rental_years=7,
            volunteer_hours=45,
            honours=["city"],
            patents=["first_inventor"],
            offences=["detention", "dishonesty"],
        )
    )
    assert doc["rule_set"]["id"] == "hangzhou-2021" and doc["rule_set"]["name_zh"].startswith("杭州市")
    assert doc["status"] == "scored" and doc["status_zh"] == "已计分"
    assert doc["total"] == pytest.approx(sum(x["points"] for x in doc["lines"]))
    sums = {c["category"]: c["points"] for c in doc["categories"]}
    assert sums["deduction"] == -90  # detention 60 and dishonesty 30: different acts, both count
    housing = line(doc, "housing")
    assert housing["raw_points"] == 42 and housing["points"] == 30
    assert housing["computation_zh"].endswith("按规则得42分，超过上限；计30分。")
    assert line(doc, "education")["computation_zh"].startswith("文化程度：最高一项为本科；")
    assert line(doc, "education")["computation_zh"].endswith("；计50分。")
    assert line(doc, "detention")["computation_zh"].startswith(
        "行政拘留或司法拘留：回溯期内1次；回溯期内每有一次扣60分"
    )
    # Chinese a citizen reads: no codes in the names or the explanations.
    for x in doc["lines"]:
        assert not any(c.isascii() and c.isalpha() for c in x["computation_zh"] + x["category_zh"]), x


def test_a_veto_is_stated_with_its_reason_in_chinese():
    doc = estimate(Answers(birth_date=date(1990, 5, 1), residence_years=10, offences=["serious_crime"]))
    assert doc["status"] == "vetoed" and doc["total"] == 0
    assert doc["reason_zh"] == "存在一票否决情形：严重刑事犯罪"
    assert line(doc, "serious_crime")["computation_zh"].startswith(
        "严重刑事犯罪：有此情形；有严重刑事犯罪记录的，不予积分"
    )


def test_reasons_read_in_chinese_and_unknown_codes_are_never_shown():
    from shared import names

    assert names.reason_zh("permit_status: suspended") == "居住证状态：暂停"
    assert names.reason_zh("forged materials: education; overdue, scored 0 until they answer: tax") == (
        "提交的材料经核查系伪造；部分部门逾期未反馈，相关事项暂计0分"
    )
    assert names.reason_zh("something new: code_x") == "详见计分说明"
    assert names.zh(names.CATEGORIES, "mystery") == "其他"


def test_investment_with_tax_is_estimated_from_the_yearly_tax_stated():
    # 250,000 yuan a year in each of the last three full years: a mean of 250,000, two full 100,000s.
    doc = estimate(Answers(birth_date=date(1990, 5, 1), investment_tax_yuan=250_000))
    assert line(doc, "investment")["points"] == 20
    assert line(doc, "investment")["computation_zh"].startswith("投资纳税：25万元；按截止日前3个完整年度的年均值")
