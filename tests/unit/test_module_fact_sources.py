"""Where a module's facts come from: declared in the file, checked at registration, derived, typed."""

from datetime import date

import pytest

from services.scoring.domain import score_many
from services.scoring.engine.modules import load_shipped_modules, parse_module
from services.scoring.engine.rules import RuleSetError, load_shipped
from shared.module_facts import type_fault

RULES = load_shipped()
MODULES = load_shipped_modules()


def module(fact: str, owner: str = "district:binjiang") -> str:
    return f"""
id: trial
owner: {owner}
name: {{zh: 试行, en: Trial}}
effective_from: 2021-01-12
indicators:
  - id: guided
    category: bonus
    name: {{zh: 导向, en: Guided}}
    department: police
    fact: {fact}
    formula: {{kind: flag, points: 5}}
"""


def test_the_shipped_binjiang_module_declares_an_owner_fact_and_a_derived_one():
    sources = MODULES["binjiang-talent"].fact_sources
    assert (sources["key_enterprise"].source, sources["key_enterprise"].type) == ("owner", "boolean")
    assert sources["district_residence"].source == "derived"
    # The engine reads the fact by its name, as in the short form.
    assert [i.fact for i in MODULES["binjiang-talent"].indicators] == [
        "key_enterprise_employee",
        "district_residence_spans",
    ]


@pytest.mark.parametrize(
    ("fact", "owner", "why"),
    [
        ("moon_landings", "district:binjiang", "no department reports it"),
        ("{name: key_enterprise_employee, type: boolean, source: owner}", "city", "the city has no registry"),
        ("{name: lunar_spans, type: spans, source: derived}", "district:binjiang", "no derivation"),
        ("{name: district_residence_spans, type: spans, source: derived}", "department:sports", "district's module"),
        ("{name: district_residence_spans, type: number, source: derived}", "district:binjiang", "of type 'spans'"),
        ("{name: own_home, type: boolean, source: department:police}", "district:binjiang", "does not report it"),
    ],
)
def test_a_fact_nothing_answers_refuses_the_module_naming_the_indicator(fact, owner, why):
    with pytest.raises(RuleSetError) as refused:
        parse_module(module(fact, owner), "trial.yaml")
    assert "indicator 'guided', field 'fact'" in str(refused.value) and why in str(refused.value)


def test_an_unknown_type_or_source_is_refused_too():
    for fact in ("{name: x, type: colour, source: owner}", "{name: x, type: boolean, source: neighbours}"):
        with pytest.raises(RuleSetError, match="fact_sources.guided"):
            parse_module(module(fact), "trial.yaml")


@pytest.mark.parametrize(
    "fact",
    [
        "own_home",  # the short form: a department's fact
        "{name: own_home, type: boolean, source: department:housing}",
        "{name: key_enterprise_employee, type: boolean, source: owner}",
    ],
)
def test_facts_something_answers_are_accepted(fact):
    assert parse_module(module(fact), "trial.yaml").indicators[0].fact in ("own_home", "key_enterprise_employee")


def test_district_residence_is_derived_from_the_police_record_inside_the_district():
    facts = {
        "permit_status": "valid",
        "birth_date": "1990-01-01",
        "residence_spans": [{"start": "2015-01-01", "end": None}],
        "residence_districts": [
            {"district": "xihu", "start": "2015-01-01", "end": "2020-10-01"},
            {"district": "binjiang", "start": "2020-10-01", "end": None},
        ],
        "key_enterprise_employee": True,
    }
    elsewhere = {**facts, "residence_districts": [{"district": "xihu", "start": "2015-01-01", "end": None}]}
    binjiang, xihu = (
        e["modules"]["binjiang-talent"] for e in score_many(RULES, date(2026, 10, 1), [facts, elsewhere], MODULES)
    )
    # Six full years in Binjiang at 2 points (cap 10) and the key enterprise's 10; elsewhere only the 10.
    assert binjiang["module_points"] == 20 and xihu["module_points"] == 10
    assert binjiang["total"] - xihu["total"] == 10


@pytest.mark.parametrize(
    ("fact_type", "good", "bad"),
    [
        ("boolean", True, "yes"),
        ("boolean", False, 1),
        ("number", 3.5, True),
        ("number", 0, float("nan")),
        ("date", "2024-02-29", "2023-02-29"),
        ("text", "A1", 7),
        ("spans", [{"start": "2020-01-01", "end": None}], [{"start": "soon"}]),
        ("spans", [], {"start": "2020-01-01"}),
    ],
)
def test_an_answer_is_checked_against_its_declared_type(fact_type, good, bad):
    assert type_fault(fact_type, good) is None
    assert "the registry answered" in (type_fault(fact_type, bad) or "")


def test_a_derived_fact_given_as_such_stands():
    # A self-estimate (POST /v1/evaluate) sends the district's residence itself: it is not derived away.
    facts = {
        "permit_status": "valid",
        "birth_date": "1990-01-01",
        "district_residence_spans": [{"start": "2020-01-01", "end": None}],
    }
    (scored,) = score_many(RULES, date(2026, 10, 1), [facts], MODULES)
    assert scored["modules"]["binjiang-talent"]["module_points"] == 10  # six years at 2 points, capped at 10


def test_an_owners_item_must_fit_where_items_are_kept():
    long_id = "district-talent-" + "x" * 40
    text = module("{name: key_enterprise_employee, type: boolean, source: owner}").replace(
        "id: trial", f"id: {long_id}"
    )
    with pytest.raises(RuleSetError, match="longer than 60 characters"):
        parse_module(text, "long.yaml")
