"""Scoring one application: gather the departments' facts, pick the rule set, explain."""
from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from services.scoring.engine.evaluate import evaluate
from services.scoring.engine.facts import derive
from services.scoring.engine.rules import RuleSet, in_force


def all_answered(expected: list[str], answered: set[str]) -> bool:
    return set(expected) <= answered


def returned_indicators(answers: list[dict[str, Any]]) -> set[str]:
    """Items a department returned or could not find score 0; the other items go on."""
    return {i["indicator"] for a in answers for i in a["items"] if i["state"] in ("returned", "not_found")}


def score_application(rule_sets: dict[str, RuleSet], cut_off: date, answers: list[dict[str, Any]]) -> dict[str, Any]:
    """Explanation of one holder's score from the departments' answers (a population of one)."""
    rule_set = in_force(rule_sets, cut_off)
    facts: dict[str, Any] = {}
    for a in answers:
        facts.update(a["facts"])
    zeroed = returned_indicators(answers)
    fact_values = [0 if ind.id in zeroed else derive(ind.fact, facts, cut_off) for ind in rule_set.indicators]
    columns = {ind.fact: np.array([v], dtype=float) for ind, v in zip(rule_set.indicators, fact_values)}
    eligibility = None
    if rule_set.eligibility is not None:
        eligibility = np.array([str(facts.get(rule_set.eligibility.fact, "not_found"))], dtype=object)
    result = evaluate(rule_set, columns, eligibility)
    explanation = result.explain(0, fact_values)
    explanation["cut_off_date"] = cut_off.isoformat()
    return explanation
