"""The same rules, one holder at a time, in plain Python.

Not used to score applications: it is the engine's independent second opinion (the tests
check that both agree on random holders) and the per-person loop the benchmark measures
the vectorised engine against. Each formula kind scores one holder in its own `score_one`
(formulas/), each measure kind in its own `of_holder` (measures.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.scoring.engine.formulas import Holder
from services.scoring.engine.rules import RuleSet


def score(rule_set: RuleSet, facts: dict[str, Any], cut_off: date) -> dict[str, Any]:
    """{'status', 'total', 'points': {indicator: counted points}} for one holder."""
    holder = Holder(rule_set, facts, cut_off)
    points = {ind.id: ind.formula.count_one(ind.formula.score_one(ind, holder)) for ind in rule_set.indicators}
    status = holder.status
    if rule_set.eligibility is not None:
        outcome = rule_set.eligibility.outcome(facts.get(rule_set.eligibility.fact))
        if outcome != "scored":
            status = outcome
    total = sum(points.values()) if status == "scored" else 0.0
    return {"status": status, "total": total, "points": points}
