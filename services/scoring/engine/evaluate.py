"""One vectorised engine: every indicator is evaluated over a whole population at once.

Scoring one application is scoring a population of one. The result keeps, per holder and
indicator, the measured fact, the raw points and the points counted after the cap, so
every total is explained line by line and can be recomputed from the same rule set.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from services.scoring.engine import measures
from services.scoring.engine.population import Items, Population
from services.scoring.engine.rules import (BestOf, BracketTable, Events, Flag, Highest, Indicator, PerItem, PerUnit,
                                           RuleSet, Veto)

CATEGORIES = ("basic", "bonus", "deduction")
EMPTY = Items(np.zeros(0, np.int64), {})


@dataclass
class Evaluation:
    rule_set: RuleSet
    cut_off: date
    values: np.ndarray  # (indicators, holders): the measured fact (years, months, count of cases…)
    raw: np.ndarray  # (indicators, holders): points before caps
    counted: np.ndarray  # (indicators, holders): points after caps
    status: np.ndarray  # (holders,): scored / void / paused / vetoed
    reason: np.ndarray  # (holders,): why not scored, '' otherwise
    labels: dict[str, np.ndarray] = field(default_factory=dict)  # winning category or option per holder
    caps: dict[str, np.ndarray] = field(default_factory=dict)  # per-holder caps (best_of: the chosen option's)

    @property
    def totals(self) -> np.ndarray:
        return np.where(self.status == "scored", self.counted.sum(axis=0), 0.0)

    def category_totals(self) -> dict[str, np.ndarray]:
        cats = np.array([i.category for i in self.rule_set.indicators])
        scored = self.status == "scored"
        return {c: np.where(scored, self.counted[cats == c].sum(axis=0), 0.0) for c in CATEGORIES}

    def explain(self, holder: int) -> dict[str, Any]:
        """Holder `holder`'s score, line by line, with labels in Chinese and English."""
        lines = []
        scored = self.status[holder] == "scored"
        for k, ind in enumerate(self.rule_set.indicators):
            value: Any = float(self.values[k, holder])
            if ind.id in self.labels and self.labels[ind.id][holder] is not None:
                value = {"value": value, "counted": self.labels[ind.id][holder]}
            lines.append({
                "indicator": ind.id, "category": ind.category, "name_zh": ind.name.zh, "name_en": ind.name.en,
                "fact": ind.fact, "fact_value": value, "department": ind.department,
                "raw_points": float(self.raw[k, holder]), "cap": self._cap_for(ind, holder),
                "points": float(self.counted[k, holder]) if scored else 0.0,
            })
        return {
            "status": str(self.status[holder]), "reason": str(self.reason[holder]) or None,
            "total": float(self.totals[holder]),
            "categories": {c: float(v[holder]) for c, v in self.category_totals().items()},
            "rule_set_id": self.rule_set.id, "rule_set_hash": self.rule_set.content_hash,
            "cut_off_date": self.cut_off.isoformat(), "lines": lines,
        }


    def _cap_for(self, ind: Indicator, holder: int) -> float | None:
        if ind.id in self.caps:
            c = float(self.caps[ind.id][holder])
            return None if np.isnan(c) else c
        return _cap(ind)


def _cap(ind: Indicator) -> float | None:
    return getattr(ind.formula, "cap", None)


def _floor_units(v: np.ndarray, unit: float) -> np.ndarray:
    return np.floor(v / unit + 1e-9)


def per_unit(f: PerUnit, v: np.ndarray) -> np.ndarray:
    v = np.nan_to_num(v)
    if f.threshold is not None:
        return np.where(v >= f.threshold, f.base + _floor_units(v - f.threshold, f.unit) * f.points, 0.0)
    return _floor_units(v, f.unit) * f.points


def bracket(f: BracketTable, v: np.ndarray) -> np.ndarray:
    out = np.zeros(len(v))
    done = np.isnan(v)
    for b in f.brackets:
        hit = ~done
        if b.min is not None:
            hit &= v >= b.min
        if b.max is not None:
            hit &= v <= b.max
        pts = b.points + (b.slope * (b.anchor - v) if b.slope else 0.0)
        out = np.where(hit, pts, out)
        done |= hit
    return out


def _map(values: np.ndarray, table: dict[str, float]) -> np.ndarray:
    """Category → points, vectorised through the distinct categories; unknown ones score 0."""
    if len(values) == 0:
        return np.zeros(0)
    uniq, inverse = np.unique(values.astype(str), return_inverse=True)
    return np.array([table.get(u, 0.0) for u in uniq])[inverse]


def _max_per_owner(owner: np.ndarray, points: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per owner: the largest item's points (0 if none) and that item's index (-1 if none)."""
    best = np.zeros(n)
    index = np.full(n, -1)
    if len(owner):
        order = np.lexsort((points, owner))
        last = np.ones(len(order), dtype=bool)
        last[:-1] = owner[order][1:] != owner[order][:-1]
        winners = order[last]
        best[owner[winners]] = points[winners]
        index[owner[winners]] = winners
    return best, index


def highest(f: Highest, fact: str, pop: Population) -> tuple[np.ndarray, np.ndarray]:
    if fact in pop.items:
        it = pop.items[fact]
        values = it.fields.get("level", it.fields.get("value", np.zeros(0)))
        pts = _map(values, f.points)
        best, idx = _max_per_owner(it.owner, pts, pop.n)
        labels = np.where(idx >= 0, values[np.maximum(idx, 0)] if len(values) else None, None).astype(object)
        return best, labels
    col = pop.scalars.get(fact)
    if col is None:
        return np.zeros(pop.n), np.full(pop.n, None, dtype=object)
    present = np.array([v is not None for v in col]) if col.dtype == object else np.zeros(pop.n, dtype=bool)
    return _map(np.where(present, col, ""), f.points), np.where(present, col, None).astype(object)


def per_item(f: PerItem, fact: str, pop: Population, cut_off: date, lookback: int) -> tuple[np.ndarray, np.ndarray]:
    it = pop.items.get(fact, EMPTY)
    if len(it) == 0 or f.field not in it.fields:
        return np.zeros(pop.n), np.zeros(pop.n)
    owner, pts = it.owner, _map(it.fields[f.field], f.points)
    if f.lookback:
        ok = measures.in_window(it.fields["date"], cut_off, lookback)
        owner, pts = owner[ok], pts[ok]
        group = it.fields[f.group_by][ok] if f.group_by else None
    else:
        group = it.fields[f.group_by] if f.group_by else None
    if group is not None and len(owner):
        # One matter counts once, at its highest level: reduce to (owner, matter) groups first.
        _, g = np.unique(np.stack([owner.astype(str), group.astype(str)]), axis=1, return_inverse=True)
        g = g.ravel()
        best = np.full(g.max() + 1, -np.inf)
        np.maximum.at(best, g, pts)
        group_owner = np.zeros(g.max() + 1, dtype=np.int64)
        group_owner[g] = owner
        owner, pts = group_owner, best
    return np.bincount(owner, weights=pts, minlength=pop.n), np.bincount(owner, minlength=pop.n).astype(float)


def events(rule_set: RuleSet, pop: Population, cut_off: date) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Deduction-style events of every `events` indicator: (raw points, counted cases) per indicator.

    Inside an `exclusive` group, each act keeps only its largest-magnitude case.
    """
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    groups: dict[tuple[str, str], list[Indicator]] = {}
    for ind in rule_set.indicators:
        if isinstance(ind.formula, Events):
            key = (ind.fact or "", ind.formula.exclusive or f"__{ind.id}")
            groups.setdefault(key, []).append(ind)
    for (fact, _), inds in groups.items():
        it = pop.items.get(fact, EMPTY)
        if len(it) == 0:
            for ind in inds:
                out[ind.id] = (np.zeros(pop.n), np.zeros(pop.n))
            continue
        ok = measures.in_window(it.fields["date"], cut_off, rule_set.lookback_years)
        case = it.fields.get("case", it.fields.get("kind"))
        table = {i.formula.case: i.formula.points for i in inds}  # type: ignore[union-attr]
        rank_of = {i.formula.case: float(r) for r, i in enumerate(inds)}  # type: ignore[union-attr]
        pts = np.where(ok, _map(case, table), 0.0)
        counts = ok & np.isin(case.astype(str), list(table))
        act = it.fields.get("act")
        if act is not None and len(inds) > 1:
            # Per (holder, act) keep the case with the largest magnitude.
            _, g = np.unique(np.stack([it.owner.astype(str), act.astype(str)]), axis=1, return_inverse=True)
            g = g.ravel()
            # Ties go to the indicator listed first in the rule set.
            order = np.lexsort((_map(case, rank_of), -np.abs(pts), g))
            first = np.ones(len(order), dtype=bool)
            first[1:] = g[order][1:] != g[order][:-1]
            keep = np.zeros(len(pts), dtype=bool)
            keep[order[first]] = True
            counts &= keep
        for ind in inds:
            mine = counts & (case.astype(str) == ind.formula.case)  # type: ignore[union-attr]
            out[ind.id] = (np.bincount(it.owner[mine], weights=pts[mine], minlength=pop.n),
                           np.bincount(it.owner[mine], minlength=pop.n).astype(float))
    return out


def veto(f: Veto, fact: str, pop: Population) -> np.ndarray:
    it = pop.items.get(fact)
    if it is not None and len(it):
        case = it.fields.get("case", it.fields.get("kind"))
        hit = np.isin(case.astype(str), f.cases)
        return np.bincount(it.owner[hit], minlength=pop.n) > 0
    col = pop.scalars.get(fact)
    return np.zeros(pop.n, dtype=bool) if col is None else np.nan_to_num(col.astype(float)) > 0


def evaluate(rule_set: RuleSet, pop: Population, cut_off: date) -> Evaluation:
    """Score a population under `rule_set` on `cut_off` (one round: one cut-off date)."""
    n, k = pop.n, len(rule_set.indicators)
    values, raw, counted = np.zeros((k, n)), np.zeros((k, n)), np.zeros((k, n))
    labels: dict[str, np.ndarray] = {}
    caps: dict[str, np.ndarray] = {}
    status = np.full(n, "scored", dtype=object)
    reason = np.full(n, "", dtype=object)
    event_points = events(rule_set, pop, cut_off)
    lb = rule_set.lookback_years
    for row, ind in enumerate(rule_set.indicators):
        f = ind.formula
        if isinstance(f, BestOf):
            best = np.full(n, -np.inf)
            chosen = np.full(n, None, dtype=object)
            cap_of = np.full(n, np.nan)
            for opt in f.options:
                v = measures.measure(opt.measure, opt.fact, pop, cut_off, lb)
                of = opt.formula
                p_raw = per_unit(of, v) if isinstance(of, PerUnit) else np.where(np.nan_to_num(v) > 0, of.points, 0.0)
                opt_cap = of.cap if isinstance(of, PerUnit) and of.cap is not None else np.nan
                p = np.minimum(p_raw, opt_cap) if not np.isnan(opt_cap) else p_raw
                better = p > best
                best = np.where(better, p, best)
                chosen = np.where(better & (p > 0), opt.name, chosen)
                values[row] = np.where(better, np.nan_to_num(v), values[row])
                raw[row] = np.where(better, p_raw, raw[row])
                cap_of = np.where(better, opt_cap, cap_of)
            labels[ind.id] = chosen
            caps[ind.id] = cap_of
            counted[row] = best
            continue
        elif isinstance(f, Highest):
            raw[row], labels[ind.id] = highest(f, ind.fact or "", pop)
            values[row] = raw[row]
        elif isinstance(f, PerItem):
            raw[row], values[row] = per_item(f, ind.fact or "", pop, cut_off, lb)
        elif isinstance(f, Events):
            raw[row], values[row] = event_points[ind.id]
        elif isinstance(f, Veto):
            hit = veto(f, ind.fact or "", pop)
            values[row] = hit.astype(float)
            newly = hit & (status == "scored")
            status[newly] = "vetoed"
            reason[newly] = f"veto: {ind.id} ({ind.name.en})"
        else:
            v = measures.measure(ind.measure, ind.fact or "", pop, cut_off, lb)
            values[row] = np.nan_to_num(v)
            if isinstance(f, PerUnit):
                raw[row] = per_unit(f, v)
            elif isinstance(f, BracketTable):
                raw[row] = bracket(f, v)
            elif isinstance(f, Flag):
                raw[row] = np.where(np.nan_to_num(v) > 0, f.points, 0.0)
        cap = _cap(ind)
        counted[row] = np.minimum(raw[row], cap) if cap is not None else raw[row]
    if rule_set.eligibility is not None:
        rule = rule_set.eligibility
        col = pop.scalars.get(rule.fact)
        state = np.array(["not_found"] * n, dtype=object) if col is None else np.where(
            np.array([v is None for v in col]), "not_found", col).astype(object)
        for outcome, states in (("paused", rule.pause), ("void", rule.void)):
            hit = np.isin(state.astype(str), states)
            status[hit] = outcome
            reason[hit] = np.char.add(f"{rule.fact}: ", state[hit].astype(str)).astype(object)
    return Evaluation(rule_set, cut_off, values, raw, counted, status, reason, labels, caps)
