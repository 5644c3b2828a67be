"""The departments' answers from their registries, and how scoring puts them together."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from services.scoring.domain import application_facts
from services.scoring.engine.rules import load_shipped
from services.verification import departments as d
from services.verification.domain import note_declared, police_answer, social_insurance_answer
from services.verification.seed import demo_holder
from shared.departments import DEPARTMENT_OF, DEPARTMENTS, ITEMS_BY_DEPARTMENT
from shared.identity import make_id_number

RULES = "services/scoring/rulesets/{}.yaml"
CUT_OFF = {"cut_off_date": "2026-11-01"}


@pytest.mark.parametrize("rule_set", ["hangzhou-2018", "hangzhou-2021"])
def test_every_indicator_is_answered_by_the_department_its_rule_set_names(rule_set):
    with open(RULES.format(rule_set)) as f:
        indicators = yaml.safe_load(f)["indicators"]
    assert {i["id"]: i["department"] for i in indicators} == {i["id"]: DEPARTMENT_OF[i["id"]] for i in indicators}


def test_each_department_answers_exactly_its_own_items():
    answers = {
        "human_resources": d.human_resources({"qualifications": []}, CUT_OFF),
        "education": d.education({"degrees": []}, CUT_OFF),
        "housing": d.housing({"homes": [], "rentals": []}, CUT_OFF),
        "tax": d.tax({"payments": []}, CUT_OFF),
        "civil_affairs": d.civil_affairs({"donations": [], "volunteering": [], "honours": []}, CUT_OFF),
        "health": d.health({"donations": [], "family_planning": []}, CUT_OFF),
        "credit": d.credit({"listings": []}, CUT_OFF),
        "market_regulation": d.market_regulation({"patents": [], "investments": []}, CUT_OFF),
    }
    holder = make_id_number("330106", date(1990, 1, 1), 1)
    answers["police"] = police_answer(holder, "P", None, [], date(2026, 11, 1))
    answers["police"].items += d.police_records({"offences": []}, CUT_OFF).items
    answers["social_insurance"] = social_insurance_answer([], date(2026, 11, 1))
    assert set(answers) == set(DEPARTMENTS)
    for dept, answer in answers.items():
        assert sorted(i["indicator"] for i in answer.items) == sorted(ITEMS_BY_DEPARTMENT[dept]), dept
        # Nothing on record: a bonus is a gap the applicant may fill, a deduction is a clean record.
        for item in answer.items:
            if item["indicator"] in ("criminal", "dishonesty", "family_planning", "serious_crime"):
                assert item["state"] == "passed"


def test_co_inventors_count_by_their_place_and_a_bought_patent_counts_nothing():
    rows = [
        {"patent_number": "ZL1", "inventor_order": 1, "transferred_in": False, "granted_on": "2023-09-01"},
        {"patent_number": "ZL2", "inventor_order": 3, "transferred_in": False, "granted_on": "2023-09-01"},
        {"patent_number": "ZL3", "inventor_order": 1, "transferred_in": True, "granted_on": "2023-09-01"},
    ]
    facts = d.market_regulation({"patents": rows}, CUT_OFF).facts["patents"]
    assert [p["role"] for p in facts] == ["first_inventor", "other_inventor", "transferred_in"]
    first, second = demo_holder(67)["patents"], demo_holder(68)["patents"]
    assert first[0]["patent_number"] == second[0]["patent_number"]
    assert (first[0]["inventor_order"], second[0]["inventor_order"]) == (1, 2)


def test_investment_tax_reports_full_tax_years_before_the_cut_off_only():
    rows = [
        {"enterprise_credit_code": "E1", "tax_year": 2025, "tax_yuan": 300000},
        {"enterprise_credit_code": "E1", "tax_year": 2026, "tax_yuan": 900000},  # the cut-off's own year: not final
    ]
    answer = d.market_regulation({"patents": [], "investments": rows}, CUT_OFF)
    assert answer.facts["investment_tax"] == [{"enterprise": "E1", "year": 2025, "yuan": 300000}]
    assert {i["indicator"]: i["state"] for i in answer.items}["investment"] == "passed"
    nothing = d.market_regulation({"patents": [], "investments": []}, CUT_OFF)
    assert {i["indicator"]: i["state"] for i in nothing.items}["investment"] == "not_found"


def test_the_seed_registers_the_synthetic_investors_with_their_enterprises_tax():
    investors = [n for n in range(1, 400) if demo_holder(n)["investments"]]
    assert investors, "some of the first 400 synthetic holders invest"
    rows = demo_holder(investors[0])["investments"]
    assert len({r["tax_year"] for r in rows}) == 5 and all(r["tax_yuan"] >= 0 for r in rows)


def test_a_foreign_degree_counts_only_once_certified():
    foreign = {"level": "master", "awarded_on": "2015-07-01", "foreign": True, "certified": False}
    answer = d.education({"degrees": [foreign]}, CUT_OFF)
    assert answer.items[0]["state"] == "returned" and "certif" in answer.items[0]["reason"]
    assert answer.facts["education"] == []
    certified = d.education({"degrees": [{**foreign, "certified": True}]}, CUT_OFF)
    assert certified.items[0]["state"] == "passed" and certified.facts["education"] == ["master"]


def test_only_registered_rentals_count_and_a_family_home_does():
    unregistered = {"start_date": "2018-01-01", "end_date": None, "registered": False}
    answer = d.housing({"homes": [], "rentals": [unregistered]}, CUT_OFF)
    assert answer.facts == {"own_home": False, "rental_spans": []} and answer.items[0]["state"] == "not_found"
    spouse_home = d.housing({"homes": [{"id_number": "spouse", "acquired_on": "2019-01-01"}], "rentals": []}, CUT_OFF)
    assert spouse_home.facts["own_home"] is True


def test_a_listing_made_before_the_cut_off_counts_even_if_lifted_since():
    listings = [
        {"act": "a", "listed_on": "2024-01-15", "lifted_on": "2025-01-01"},
        {"act": "b", "listed_on": "2026-11-02", "lifted_on": None},
    ]
    assert [o["act"] for o in d.credit({"listings": listings}, CUT_OFF).facts["offences"]] == ["a"]


def test_offences_reported_by_several_departments_are_all_counted():
    rule_set = load_shipped()["hangzhou-2021"]
    police = {"items": [], "facts": {"offences": [{"case": "detention", "act": "x", "date": "2024-03-01"}]}}
    credit = {"items": [], "facts": {"offences": [{"case": "dishonesty", "act": "y", "date": "2024-01-15"}]}}
    health = {
        "items": [{"indicator": "family_planning", "state": "returned", "reason": "r"}],
        "facts": {"offences": [{"case": "family_planning", "act": "z", "date": "2023-05-01"}]},
    }
    facts = application_facts(rule_set, [police, credit, health])
    # health's returned item leaves out its own contribution only
    assert sorted(o["case"] for o in facts["offences"]) == ["detention", "dishonesty"]


def test_the_registry_value_counts_and_a_different_declaration_is_recorded():
    answer = d.education(
        {"degrees": [{"level": "bachelor", "awarded_on": "2010-07-01", "foreign": False, "certified": False}]}, CUT_OFF
    )
    note_declared(answer, {"education": ["master"]})
    assert answer.facts["education"] == ["bachelor"] and answer.items[0]["declared"] == ["master"]
