"""Scoring one application: gather the departments' facts, pick the rule set, explain."""
from __future__ import annotations

from datetime import date
from typing import Any

from services.scoring.engine.evaluate import evaluate
from services.scoring.engine.population import Population
from services.scoring.engine.rules import RuleSet, in_force


def all_answered(expected: list[str], answered: set[str]) -> bool:
    return set(expected) <= answered


def returned_facts(rule_set: RuleSet, answers: list[dict[str, Any]]) -> set[str]:
    """Facts of items a department returned or could not find: they score 0, the other items go on."""
    dropped = {i["indicator"] for a in answers for i in a["items"] if i["state"] in ("returned", "not_found")}
    return {ind.fact for ind in rule_set.indicators if ind.id in dropped and ind.fact}


def score_facts(rule_sets: dict[str, RuleSet], cut_off: date, facts: dict[str, Any]) -> dict[str, Any]:
    """Explanation of one holder's score from their facts, under the rule set in force on the cut-off."""
    rule_set = in_force(rule_sets, cut_off)
    return evaluate(rule_set, Population.from_records([facts]), cut_off).explain(0)


def score_application(rule_sets: dict[str, RuleSet], cut_off: date, answers: list[dict[str, Any]]) -> dict[str, Any]:
    rule_set = in_force(rule_sets, cut_off)
    facts: dict[str, Any] = {}
    for a in answers:
        facts.update(a["facts"])
    for fact in returned_facts(rule_set, answers):
        facts.pop(fact, None)
    # The permit is not a scored fact: its state decides whether there is a score at all.
    return score_facts(rule_sets, cut_off, facts)
