"""Scoring one application: gather the departments' facts, pick the rule set, explain."""
from __future__ import annotations

from datetime import date
from typing import Any

from services.scoring.engine.evaluate import evaluate
from services.scoring.engine.modules import Module, evaluate_module
from services.scoring.engine.population import Population
from services.scoring.engine.rules import RuleSet, in_force


def all_answered(expected: list[str], answered: set[str]) -> bool:
    return set(expected) <= answered


def returned_facts(rule_set: RuleSet, answers: list[dict[str, Any]]) -> set[str]:
    """Facts of items a department returned or could not find: they score 0, the other items go on."""
    dropped = {i["indicator"] for a in answers for i in a["items"] if i["state"] in ("returned", "not_found")}
    return {ind.fact for ind in rule_set.indicators if ind.id in dropped and ind.fact}


def score_facts(rule_sets: dict[str, RuleSet], cut_off: date, facts: dict[str, Any],
                modules: dict[str, Module] | None = None) -> dict[str, Any]:
    """Explanation of one holder's score from their facts, under the rule set in force on the
    cut-off, with the points of every holder X-module in force computed beside it."""
    rule_set = in_force(rule_sets, cut_off)
    pop = Population.from_records([facts])
    base = evaluate(rule_set, pop, cut_off)
    explanation = base.explain(0)
    beside = {}
    for module in (modules or {}).values():
        if module.candidate != "holder" or not module.in_force_on(cut_off):
            continue
        result = evaluate_module(module, rule_sets, pop, cut_off, base=base)
        doc = result.candidate(0)
        threshold = result.round.threshold if result.round else None
        beside[module.id] = {"owner": module.owner, "module_points": doc["module_points"], "total": doc["total"],
                             "eligible": doc["eligible"], "threshold": threshold,
                             "meets_threshold": doc["eligible"] and (threshold is None or doc["total"] >= threshold),
                             "lines": doc["lines"]}
    explanation["modules"] = beside
    return explanation


FORGERY_BAR_YEARS = 5


def forged_items(answers: list[dict[str, Any]]) -> list[str]:
    return [i["indicator"] for a in answers for i in a["items"] if i["state"] == "forged"]


def score_application(rule_sets: dict[str, RuleSet], cut_off: date, answers: list[dict[str, Any]],
                      modules: dict[str, Module] | None = None, today: date | None = None) -> dict[str, Any]:
    """Explanation of an application's score from the departments' answers.

    Forged materials void the score and bar the holder for five years; a permit's state
    (terminated, suspended) is applied by the rule set's eligibility rule.
    """
    rule_set = in_force(rule_sets, cut_off)
    facts: dict[str, Any] = {}
    for a in answers:
        facts.update(a["facts"])
    for fact in returned_facts(rule_set, answers):
        facts.pop(fact, None)
    explanation = score_facts(rule_sets, cut_off, facts, modules)
    forged = forged_items(answers)
    if forged:
        day = today or date.today()
        explanation.update(status="void", total=0.0, reason=f"forged materials: {', '.join(sorted(forged))}",
                           barred_until=_years_later(day, FORGERY_BAR_YEARS).isoformat())
        explanation["categories"] = {c: 0.0 for c in explanation["categories"]}
        for line in explanation["lines"]:
            line["points"] = 0.0
        explanation["modules"] = {}
    return explanation


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
