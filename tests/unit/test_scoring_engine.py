"""The shipped rule sets, row by row, and the date rules of the published indicator system."""

from datetime import date

import pytest

from services.scoring.domain import score_application, score_facts
from services.scoring.engine.rules import RuleSetError, in_force, load_shipped, parse_rule_set

RULES = load_shipped()
CUT_OFF = date(2026, 10, 1)  # hangzhou-2021 in force
CUT_OFF_2018 = date(2020, 6, 1)  # hangzhou-2018 in force


def points(facts: dict, indicator: str, cut_off: date = CUT_OFF) -> float:
    ex = score_facts(RULES, cut_off, {"permit_status": "valid", **facts})
    return next(line["points"] for line in ex["lines"] if line["indicator"] == indicator)


def born(years_before_cut_off: int, cut_off: date = CUT_OFF) -> str:
    return cut_off.replace(year=cut_off.year - years_before_cut_off).isoformat()


def test_the_rule_set_in_force_on_the_cut_off_date_is_used():
    assert in_force(RULES, CUT_OFF).id == "hangzhou-2021"
    assert in_force(RULES, date(2021, 1, 11)).id == "hangzhou-2018"
    assert in_force(RULES, date(2021, 1, 12)).id == "hangzhou-2021"
    assert all(len(rs.content_hash) == 64 for rs in RULES.values())
    with pytest.raises(RuleSetError, match="no rule set is in force"):
        in_force(RULES, date(2017, 12, 31))


@pytest.mark.parametrize(
    "age, pts", [(18, 30), (43, 30), (44, 29), (50, 17), (55, 7), (56, 5), (60, 5), (61, 0), (70, 0)]
)
@pytest.mark.parametrize("cut_off", [CUT_OFF, CUT_OFF_2018])
def test_age(age, pts, cut_off):
    assert points({"birth_date": born(age, cut_off)}, "age", cut_off) == pts


def test_age_is_completed_years_on_the_cut_off_date():
    # 56 the day after the cut-off: still 55 on it (7 points); 56 on the day itself (5 points).
    assert points({"birth_date": "1970-10-02"}, "age") == 7
    assert points({"birth_date": "1970-10-01"}, "age") == 5


@pytest.mark.parametrize(
    "levels, pts",
    [
        (["high_school"], 10),
        (["secondary_vocational"], 10),
        (["junior_college"], 30),
        (["bachelor"], 50),
        (["master"], 70),
        (["doctorate"], 90),
        (["bachelor", "master", "junior_college"], 70),
        ([], 0),
    ],
)
def test_education_highest_only(levels, pts):
    assert points({"education": levels}, "education") == pts


@pytest.mark.parametrize(
    "levels, pts",
    [
        (["senior_worker"], 40),
        (["technician"], 60),
        (["senior_technician"], 80),
        (["intermediate_title"], 60),
        (["deputy_senior_title"], 80),
        (["senior_title"], 100),
        (["senior_worker", "deputy_senior_title"], 80),
    ],
)
def test_skill_or_title_highest_only(levels, pts):
    assert points({"skill_title": levels}, "skill_title") == pts
    assert points({"skill_title": levels}, "skill_title", CUT_OFF_2018) == pts


def test_employment():
    assert points({"employed": True}, "employment") == 10
    assert points({"employed": False}, "employment") == 0


def _si(start: str, end: str, kind: str = "pension", **flags) -> dict:
    return {"start": start, "end": end, "kind": kind, **flags}


@pytest.mark.parametrize(
    "months, pts_2021, pts_2018", [(1, 0.5, 0.25), (100, 50, 25), (240, 120, 60), (300, 120, 75), (400, 120, 75)]
)
def test_social_insurance_per_month_with_caps(months, pts_2021, pts_2018):
    def spans(cut_off):
        first = cut_off.year * 12 + cut_off.month - 1 - months
        return [_si(f"{first // 12}-{first % 12 + 1:02d}-01", "2099-12-01")]

    assert points({"social_insurance_spans": spans(CUT_OFF)}, "social_insurance") == pts_2021
    assert points({"social_insurance_spans": spans(CUT_OFF_2018)}, "social_insurance", CUT_OFF_2018) == pts_2018


def test_social_insurance_months_transferred_in_or_back_paid_do_not_count():
    spans = [
        _si("2024-01-01", "2024-12-01"),
        _si("2010-01-01", "2015-12-01", transferred_in=True),
        _si("2025-06-01", "2025-07-01", back_paid=True),
    ]
    assert points({"social_insurance_spans": spans}, "social_insurance") == 6  # 12 months


def test_social_insurance_kinds_differ_by_rule_set():
    medical_only = [_si("2018-01-01", "2019-12-01", kind="medical")]
    assert points({"social_insurance_spans": medical_only}, "social_insurance") == 12  # 2021: pension or medical
    assert points({"social_insurance_spans": medical_only}, "social_insurance", CUT_OFF_2018) == 0  # 2018: pension only
    both = [_si("2024-01-01", "2024-12-01"), _si("2024-01-01", "2024-12-01", kind="medical")]
    assert points({"social_insurance_spans": both}, "social_insurance") == 6  # a month counts once


def test_months_from_the_cut_off_month_on_do_not_count():
    assert points({"social_insurance_spans": [_si("2026-09-01", "2026-12-01")]}, "social_insurance") == 0.5


@pytest.mark.parametrize(
    "years, pts_2021, pts_2018", [(0, 0, 0), (1, 5, 3), (15, 75, 45), (20, 100, 45), (30, 100, 45)]
)
def test_residence_per_year_with_caps(years, pts_2021, pts_2018):
    for cut_off, pts in ((CUT_OFF, pts_2021), (CUT_OFF_2018, pts_2018)):
        start = cut_off.replace(year=cut_off.year - years) if years else cut_off
        assert points({"residence_spans": [{"start": start.isoformat(), "end": None}]}, "residence", cut_off) == pts


def test_residence_spans_with_gaps_are_summed_30_days_a_month_12_months_a_year():
    two = [{"start": "2020-01-01", "end": "2021-01-01"}, {"start": "2022-01-01", "end": "2022-12-27"}]  # 366 + 360 days
    assert points({"residence_spans": two}, "residence") == 10  # 726 days = 24 months = 2 years
    short = [{"start": "2020-01-01", "end": "2020-12-26"}]  # 360 days = 12 months = 1 year
    assert points({"residence_spans": short}, "residence") == 5
    shorter = [{"start": "2020-01-01", "end": "2020-12-25"}]  # 359 days: 11 months, a remainder earns nothing
    assert points({"residence_spans": shorter}, "residence") == 0
    overlapping = [{"start": "2016-10-01", "end": None}, {"start": "2018-01-01", "end": "2019-01-01"}]
    assert points({"residence_spans": overlapping}, "residence") == 50  # 10 years, the overlap once


@pytest.mark.parametrize(
    "own, rental_years, pts",
    [(True, 0, 30), (False, 0, 0), (False, 1, 6), (False, 4, 24), (False, 5, 30), (False, 9, 30), (True, 3, 30)],
)
def test_housing_own_home_or_rental_renters_score_as_owners(own, rental_years, pts):
    start = CUT_OFF.replace(year=CUT_OFF.year - rental_years)
    rental = [{"start": start.isoformat(), "end": None}] if rental_years else []
    assert points({"own_home": own, "rental_spans": rental}, "housing") == pts


def test_honours_each_matter_once_at_its_highest_level_summed():
    assert points({"honours": [{"matter": "a", "level": "national"}]}, "honours") == 80
    assert points({"honours": [{"matter": "a", "level": "provincial"}]}, "honours") == 50
    assert points({"honours": [{"matter": "a", "level": "city"}]}, "honours") == 30
    assert points({"honours": [{"matter": "a", "level": "district"}]}, "honours") == 10
    same_matter = [{"matter": "a", "level": "city"}, {"matter": "a", "level": "national"}]
    assert points({"honours": same_matter}, "honours") == 80
    two_matters = same_matter + [{"matter": "b", "level": "district"}]
    assert points({"honours": two_matters}, "honours") == 90


def test_marrow_donation():
    assert points({"marrow_donated": True}, "marrow_donation") == 80


@pytest.mark.parametrize(
    "ml, pts_2021, pts_2018",
    [
        (0, 0, 0),
        (199, 0, 0),
        (200, 1, 1),
        (299, 1, 1),
        (300, 1.5, 1.5),
        (2000, 10, 10),
        (3000, 15, 10),
        (4000, 20, 10),
        (9000, 20, 10),
    ],
)
def test_blood_donation(ml, pts_2021, pts_2018):
    assert points({"blood_donated_ml": ml}, "blood_donation") == pts_2021
    assert points({"blood_donated_ml": ml}, "blood_donation", CUT_OFF_2018) == pts_2018


@pytest.mark.parametrize(
    "hours, pts_2021, pts_2018", [(19, 0, 0), (20, 2, 2), (39, 2, 2), (100, 10, 10), (200, 20, 10), (500, 20, 10)]
)
def test_volunteering_in_the_look_back(hours, pts_2021, pts_2018):
    for cut_off, pts in ((CUT_OFF, pts_2021), (CUT_OFF_2018, pts_2018)):
        inside = cut_off.replace(year=cut_off.year - 1).isoformat()
        assert points({"volunteer_service": [{"date": inside, "hours": hours}]}, "volunteering", cut_off) == pts


@pytest.mark.parametrize("yuan, pts", [(999, 0), (1000, 2), (4999, 8), (5000, 10), (100000, 10)])
def test_charity(yuan, pts):
    assert points({"charity_donations": [{"date": "2024-05-01", "yuan": yuan}]}, "charity") == pts


@pytest.mark.parametrize("yuan, pts", [(9999, 0), (10000, 1), (155000, 15), (200000, 20), (1000000, 20)])
def test_tax(yuan, pts):
    assert points({"income_tax": [{"date": "2024-05-01", "yuan": yuan}]}, "tax") == pts


def test_patents():
    assert points({"patents": [{"role": "first_inventor"}, {"role": "first_inventor"}]}, "patents") == 40
    assert points({"patents": [{"role": "other_inventor"}]}, "patents") == 10
    assert points({"patents": [{"role": "transferred_in"}]}, "patents") == 0


@pytest.mark.parametrize(
    "case, pts",
    [
        ("criminal", -150),
        ("drug_rehab", -100),
        ("detention", -60),
        ("custody_education", -60),
        ("dishonesty", -30),
        ("family_planning", -30),
    ],
)
def test_deductions_per_case_in_the_look_back(case, pts):
    one = [{"date": "2024-01-01", "act": "x", "case": case}]
    assert points({"offences": one}, case) == pts
    two = one + [{"date": "2025-01-01", "act": "y", "case": case}]
    assert points({"offences": two}, case) == 2 * pts


def test_deductions_outside_the_five_year_look_back_do_not_count():
    # Cut-off 2026-10-01: the window opens 2021-10-01 (inclusive) and closes at the cut-off (exclusive).
    for day, counted in (("2021-09-30", 0), ("2021-10-01", -150), ("2026-09-30", -150), ("2026-10-01", 0)):
        assert points({"offences": [{"date": day, "act": "x", "case": "criminal"}]}, "criminal") == counted


def test_one_act_matching_several_deductions_counts_once_at_the_largest():
    act = [
        {"date": "2024-01-01", "act": "a", "case": "detention"},
        {"date": "2024-01-01", "act": "a", "case": "criminal"},
    ]
    ex = score_facts(RULES, CUT_OFF, {"permit_status": "valid", "offences": act})
    by = {line["indicator"]: line["points"] for line in ex["lines"]}
    assert by["criminal"] == -150 and by["detention"] == 0 and ex["categories"]["deduction"] == -150


@pytest.mark.parametrize("case", ["serious_crime", "banned_org"])
def test_a_veto_means_no_score_at_all_even_long_ago(case):
    ex = score_facts(
        RULES,
        CUT_OFF,
        {
            "permit_status": "valid",
            "birth_date": born(30),
            "education": ["master"],
            "offences": [{"date": "2001-01-01", "act": "z", "case": case}],
        },
    )
    assert ex["status"] == "vetoed" and ex["total"] == 0 and case in ex["reason"]


@pytest.mark.parametrize("permit, status", [("terminated", "void"), ("suspended", "paused"), ("not_found", "void")])
def test_permit_state_voids_or_pauses_the_score(permit, status):
    ex = score_facts(RULES, CUT_OFF, {"permit_status": permit, "birth_date": born(30)})
    assert ex["status"] == status and ex["total"] == 0 and permit in ex["reason"]


def test_an_explanation_names_fact_department_raw_points_cap_and_labels():
    # 9,770 days = 325 months of 30 days = 27 years (not 26 calendar years): the rule counts 30-day months.
    ex = score_facts(
        RULES,
        CUT_OFF,
        {
            "permit_status": "valid",
            "residence_spans": [{"start": "2000-01-01", "end": None}],
            "education": ["bachelor"],
        },
    )
    res = next(line for line in ex["lines"] if line["indicator"] == "residence")
    assert res == {
        "indicator": "residence",
        "category": "basic",
        "name_zh": "居住登记年限",
        "name_en": "Years of residence registration in the city",
        "fact": "residence_spans",
        "fact_value": 27.0,
        "department": "police",
        "raw_points": 135.0,
        "cap": 100.0,
        "points": 100.0,
        # The rule in words and numbers, every record behind the line, and the line as a sentence.
        "rule": "每满1年计5分，最高100分",
        "window": None,
        "records": [
            {"record": {"start": "2000-01-01", "end": None}, "counted": "9770天", "left_out": None},
            {"record": None, "counted": None, "left_out": "合计9770天，折合325个月；不足一年的1个月不计"},
        ],
        "summary_zh": "居住登记年限：27年；每满1年计5分，最高100分；按规则得135分，超过上限；计100分。",
    }
    edu = next(line for line in ex["lines"] if line["indicator"] == "education")
    assert edu["fact_value"]["counted"] == "bachelor"
    assert ex["rule_set_id"] == "hangzhou-2021" and ex["rule_set_hash"] == RULES["hangzhou-2021"].content_hash
    assert ex["total"] == sum(line["points"] for line in ex["lines"]) == 150


def test_a_returned_item_scores_zero_and_the_others_go_on():
    answers = [
        {
            "department": "police",
            "items": [{"indicator": "permit", "state": "passed"}, {"indicator": "residence", "state": "returned"}],
            "facts": {"permit_status": "valid", "residence_spans": [{"start": "2010-01-01", "end": None}]},
        },
        {
            "department": "social_insurance",
            "items": [{"indicator": "social_insurance", "state": "passed"}],
            "facts": {"social_insurance_spans": [_si("2020-10-01", "2026-12-01")]},
        },
    ]
    by = {line["indicator"]: line["points"] for line in score_application(RULES, CUT_OFF, answers)["lines"]}
    assert by["residence"] == 0 and by["social_insurance"] == 36


GOOD_INDICATOR = """
  - id: residence
    category: basic
    name: {zh: 居住, en: Residence}
    fact: residence_spans
    measure: {kind: span_years}
    department: police
    formula: {kind: per_unit, unit: 1, points: 5, cap: 100}
"""
HEADER = "id: test-set\nname: {zh: 测试, en: Test}\neffective_from: 2027-01-01\nindicators:\n"


@pytest.mark.parametrize(
    "body, expected",
    [
        (GOOD_INDICATOR.replace("unit: 1,", "unit: 0,"), ["test.yaml", "'residence'", "formula", "unit"]),
        (GOOD_INDICATOR.replace("kind: per_unit", "kind: magic"), ["test.yaml", "'residence'", "formula"]),
        (GOOD_INDICATOR.replace("category: basic", "category: extra"), ["'residence'", "category"]),
        (GOOD_INDICATOR.replace("    department: police\n", ""), ["'residence'", "department", "Field required"]),
        (GOOD_INDICATOR + GOOD_INDICATOR, ["indicator ids repeated: residence"]),
        (GOOD_INDICATOR.replace("category: basic", "category: veto"), ["'residence'", "veto"]),
    ],
)
def test_a_bad_rule_file_is_refused_whole_naming_file_indicator_and_field(body, expected):
    with pytest.raises(RuleSetError) as exc:
        parse_rule_set(HEADER + body, "test.yaml")
    for part in expected:
        assert part in str(exc.value)


def test_a_good_rule_file_loads_with_a_content_hash():
    rs = parse_rule_set(HEADER + GOOD_INDICATOR, "test.yaml")
    assert rs.id == "test-set" and len(rs.content_hash) == 64
    assert parse_rule_set(HEADER + GOOD_INDICATOR + "\n", "t").content_hash != rs.content_hash
