"""Formula kinds as objects: each kind found in its own module checks its indicator, and scores a
population and one holder alike (the engine and the reference only call the kind)."""

from datetime import date

import pytest

from services.scoring.engine import reference
from services.scoring.engine.evaluate import evaluate
from services.scoring.engine.formulas import KINDS, FormulaKind
from services.scoring.engine.population import Population
from services.scoring.engine.rules import RuleSetError, load_shipped, parse_rule_set

CUT_OFF = date(2026, 10, 1)
HEAD = """
id: tiny
name: {zh: 小, en: tiny}
effective_from: 2020-01-01
indicators:
"""


def rule_set(indicators: str):
    return parse_rule_set(HEAD + indicators, "tiny.yaml")


def test_every_kind_the_shipped_rule_sets_use_is_a_module_of_its_own():
    used = {ind.formula.kind for rs in load_shipped().values() for ind in rs.indicators}
    assert used <= set(KINDS)
    assert set(KINDS) == {"best_of", "bracket", "events", "flag", "highest", "per_item", "per_unit", "veto"}
    for name, kind in KINDS.items():
        assert issubclass(kind, FormulaKind) and kind.__module__.endswith(f".formulas.{name}")
        # Each kind scores by its own methods, not the base's placeholders.
        assert kind.evaluate is not FormulaKind.evaluate and kind.score_one is not FormulaKind.score_one


def test_an_unknown_kind_is_refused_naming_the_indicator_and_field():
    with pytest.raises(RuleSetError, match=r"indicator 'x', field 'formula'"):
        rule_set(
            "  - {id: x, category: bonus, name: {zh: 甲, en: x}, department: hr, fact: f, formula: {kind: golden}}\n"
        )


@pytest.mark.parametrize(
    "indicator, message",
    [
        (
            "{id: x, category: bonus, name: {zh: 甲, en: x}, department: hr, formula: {kind: flag, points: 5}}",
            "fact is required",
        ),
        (
            "{id: x, category: bonus, name: {zh: 甲, en: x}, department: police, fact: f, "
            "formula: {kind: veto, cases: [a]}}",
            "veto indicators, and only they, use the veto formula",
        ),
        (
            "{id: x, category: veto, name: {zh: 甲, en: x}, department: police, fact: f, "
            "formula: {kind: flag, points: 5}}",
            "veto indicators, and only they, use the veto formula",
        ),
        (
            "{id: x, category: deduction, name: {zh: 甲, en: x}, department: police, fact: f,"
            " formula: {kind: events, case: fine, points: 3}}",
            "a deduction's points must not be positive",
        ),
    ],
)
def test_each_kind_checks_its_own_indicator(indicator, message):
    with pytest.raises(RuleSetError, match=message):
        rule_set(f"  - {indicator}\n")


def test_best_of_needs_no_fact_of_its_own_and_counts_the_better_capped_option():
    rs = rule_set("""  - id: housing
    category: bonus
    name: {zh: 住房, en: housing}
    department: housing
    formula:
      kind: best_of
      options:
        - {name: own_home, fact: owns_home, formula: {kind: flag, points: 20}}
        - {name: rental, fact: rental_years, formula: {kind: per_unit, unit: 1, points: 5, cap: 30}}
""")
    holders = [{"owns_home": True, "rental_years": 2}, {"owns_home": False, "rental_years": 9}, {}]
    ev = evaluate(rs, Population.from_records(holders), CUT_OFF)
    assert ev.totals.tolist() == [20.0, 30.0, 0.0]
    assert [ev.label("housing", h) for h in range(3)] == ["own_home", "rental", None]
    assert ev.explain(1)["lines"][0]["cap"] == 30.0  # the winning option's cap explains the line
    assert [reference.score(rs, h, CUT_OFF)["total"] for h in holders] == [20.0, 30.0, 0.0]


def test_a_veto_voids_the_score_in_the_engine_and_in_the_reference():
    rs = rule_set("""  - {id: years, category: basic, name: {zh: 年, en: years}, department: hr, fact: years,
     formula: {kind: per_unit, unit: 1, points: 2}}
  - {id: crime, category: veto, name: {zh: 罪, en: crime}, department: police, fact: offences,
     formula: {kind: veto, cases: [felony]}}
""")
    holders = [{"years": 3}, {"years": 3, "offences": [{"case": "felony", "date": "2001-01-01"}]}]
    ev = evaluate(rs, Population.from_records(holders), CUT_OFF)
    assert ev.status.tolist() == ["scored", "vetoed"] and ev.totals.tolist() == [6.0, 0.0]
    assert ev.explain(1)["reason"] == "veto: crime (crime)"
    assert [reference.score(rs, h, CUT_OFF)["status"] for h in holders] == ["scored", "vetoed"]
