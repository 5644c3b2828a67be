"""One vectorised engine: every indicator is evaluated over a whole population at once.

Scoring one application is scoring a population of one. The result keeps, per holder
and indicator, the fact value, the raw points and the points counted after the cap, so
every total can be explained line by line and recomputed later from the same rule set.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from services.scoring.engine.rules import Flag, PerUnit, RuleSet

CATEGORIES = ("basic", "bonus", "deduction")


@dataclass
class Evaluation:
    rule_set: RuleSet
    values: np.ndarray  # (indicators, holders) fact values
    raw: np.ndarray  # (indicators, holders) points before caps
    counted: np.ndarray  # (indicators, holders) points after caps
    status: np.ndarray  # (holders,) 'scored' / 'void' / 'paused'
    reason: np.ndarray  # (holders,) why void or paused, '' otherwise

    @property
    def totals(self) -> np.ndarray:
        return np.where(self.status == "scored", self.counted.sum(axis=0), 0.0)

    def category_totals(self) -> dict[str, np.ndarray]:
        cats = np.array([i.category for i in self.rule_set.indicators])
        return {c: self.counted[cats == c].sum(axis=0) for c in CATEGORIES}

    def explain(self, holder: int, fact_values: list[Any] | None = None) -> dict[str, Any]:
        lines = []
        for k, ind in enumerate(self.rule_set.indicators):
            cap = getattr(ind.formula, "cap", None)
            lines.append({
                "indicator": ind.id, "category": ind.category, "name_zh": ind.name.zh, "name_en": ind.name.en,
                "fact": ind.fact, "fact_value": fact_values[k] if fact_values else float(self.values[k, holder]),
                "department": ind.department, "raw_points": float(self.raw[k, holder]), "cap": cap,
                "points": float(self.counted[k, holder]),
            })
        status = str(self.status[holder])
        return {
            "status": status, "reason": str(self.reason[holder]) or None,
            "total": float(self.totals[holder]),
            "categories": {c: float(v[holder]) for c, v in self.category_totals().items()},
            "rule_set_id": self.rule_set.id, "rule_set_hash": self.rule_set.content_hash, "lines": lines,
        }


def _points(formula, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(formula, PerUnit):
        raw = np.floor(values / formula.unit) * formula.points
        counted = np.minimum(raw, formula.cap) if formula.cap is not None else raw
        return raw, counted
    if isinstance(formula, Flag):
        raw = np.where(values > 0, formula.points, 0.0)
        return raw, raw
    raise TypeError(f"unsupported formula {formula!r}")


def evaluate(rule_set: RuleSet, facts: dict[str, np.ndarray], eligibility: np.ndarray | None = None) -> Evaluation:
    """Score a population. `facts` maps fact names to arrays of one value per holder."""
    n = len(next(iter(facts.values()))) if facts else (len(eligibility) if eligibility is not None else 0)
    k = len(rule_set.indicators)
    values = np.zeros((k, n))
    raw = np.zeros((k, n))
    counted = np.zeros((k, n))
    for row, ind in enumerate(rule_set.indicators):
        v = np.asarray(facts.get(ind.fact, np.zeros(n)), dtype=float)
        values[row] = v
        raw[row], counted[row] = _points(ind.formula, v)
    status = np.full(n, "scored", dtype=object)
    reason = np.full(n, "", dtype=object)
    if rule_set.eligibility is not None and eligibility is not None:
        rule = rule_set.eligibility
        void = np.isin(eligibility, rule.void)
        pause = np.isin(eligibility, rule.pause)
        status[void] = "void"
        status[pause] = "paused"
        reason[void | pause] = np.char.add(f"{rule.fact}: ", eligibility[void | pause].astype(str)).astype(object)
    return Evaluation(rule_set, values, raw, counted, status, reason)
