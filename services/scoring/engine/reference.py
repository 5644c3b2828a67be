"""The same rules, one holder at a time, in plain Python.

Not used to score applications: it is the engine's independent second opinion (the tests
check that both agree on random holders) and the per-person loop the benchmark measures
the vectorised engine against.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from services.scoring.engine.measures import lookback_start
from services.scoring.engine.rules import (Age, BestOf, BracketTable, Events, Flag, Highest, InsuranceMonths, PerItem,
                                           PerUnit, RuleSet, SpanYears, SumInLookback, Veto)


def _d(v: Any) -> date | None:
    if v is None or isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


def _units(value: float, unit: float) -> int:
    return int(value / unit + 1e-9)


def _measure(spec, fact: str, facts: dict, cut_off: date, lookback: int) -> float:
    raw = facts.get(fact)
    if isinstance(spec, SpanYears):
        covered: set[int] = set()
        for s in raw or []:
            start, end = _d(s["start"]), _d(s.get("end")) or cut_off
            covered.update(range(start.toordinal(), min(end, cut_off).toordinal()))
        return float((len(covered) // 30) // 12)
    if isinstance(spec, InsuranceMonths):
        last = cut_off.year * 12 + cut_off.month - 1
        months: set[int] = set()
        for s in raw or []:
            if s.get("kind") not in spec.insurance or s.get("transferred_in") or s.get("back_paid"):
                continue
            start, end = _d(s["start"]), _d(s.get("end"))
            stop = last if end is None else min(end.year * 12 + end.month, last)
            months.update(range(start.year * 12 + start.month - 1, stop))
        return float(len(months))
    if isinstance(spec, Age):
        b = _d(raw)
        if b is None:
            return float("nan")
        return float(cut_off.year - b.year - ((cut_off.month, cut_off.day) < (b.month, b.day)))
    if isinstance(spec, SumInLookback):
        lo = lookback_start(cut_off, lookback)
        return float(sum(i.get(spec.field) or 0 for i in raw or [] if lo <= _d(i["date"]) < cut_off))
    if raw is None:
        return 0.0
    return float(raw) if isinstance(raw, (int, float)) else 0.0


def _per_unit(f: PerUnit, v: float) -> float:
    if v != v:  # NaN
        v = 0.0
    if f.threshold is not None:
        return f.base + _units(v - f.threshold, f.unit) * f.points if v >= f.threshold else 0.0
    return _units(v, f.unit) * f.points


def score(rule_set: RuleSet, facts: dict[str, Any], cut_off: date) -> dict[str, Any]:
    """{'status', 'total', 'points': {indicator: counted points}} for one holder."""
    lb = rule_set.lookback_years
    lo = lookback_start(cut_off, lb)
    points: dict[str, float] = {}
    status = "scored"
    winners: dict[tuple[str, str], tuple[float, str]] = {}  # exclusive events: (group, act) → (points, case)
    for ind in rule_set.indicators:
        f = ind.formula
        if isinstance(f, Events) and f.exclusive:
            for n, e in enumerate(facts.get(ind.fact or "") or []):
                if e.get("case") == f.case and lo <= _d(e["date"]) < cut_off:
                    key = (f.exclusive, str(e.get("act", f"#{n}")))
                    if key not in winners or abs(f.points) > abs(winners[key][0]):
                        winners[key] = (f.points, f.case)
    for ind in rule_set.indicators:
        f = ind.formula
        fact = ind.fact or ""
        if isinstance(f, BestOf):
            best = 0.0
            for opt in f.options:
                v = _measure(opt.measure, opt.fact, facts, cut_off, lb)
                p = _per_unit(opt.formula, v) if isinstance(opt.formula, PerUnit) else (opt.formula.points if v > 0 else 0.0)
                if isinstance(opt.formula, PerUnit) and opt.formula.cap is not None:
                    p = min(p, opt.formula.cap)
                best = max(best, p)
            points[ind.id] = best
            continue
        if isinstance(f, Highest):
            raw = facts.get(fact)
            values = raw if isinstance(raw, list) else ([] if raw is None else [raw])
            p = max([f.points.get(v if isinstance(v, str) else v.get("level"), 0.0) for v in values], default=0.0)
        elif isinstance(f, PerItem):
            per_group: dict[Any, float] = {}
            for n, item in enumerate(facts.get(fact) or []):
                if f.lookback and not (lo <= _d(item["date"]) < cut_off):
                    continue
                key = item.get(f.group_by) if f.group_by else n
                per_group[key] = max(per_group.get(key, float("-inf")), f.points.get(item.get(f.field), 0.0))
            p = sum(per_group.values())
        elif isinstance(f, Events):
            if f.exclusive:
                p = sum(pts for (group, _act), (pts, case) in winners.items() if group == f.exclusive and case == f.case)
            else:
                p = f.points * sum(1 for e in facts.get(fact) or [] if e.get("case") == f.case and lo <= _d(e["date"]) < cut_off)
        elif isinstance(f, Veto):
            if any(e.get("case") in f.cases for e in facts.get(fact) or []) and status == "scored":
                status = "vetoed"
            p = 0.0
        else:
            v = _measure(ind.measure, fact, facts, cut_off, lb)
            if isinstance(f, PerUnit):
                p = _per_unit(f, v)
            elif isinstance(f, BracketTable):
                p = 0.0
                for b in f.brackets:
                    if v == v and (b.min is None or v >= b.min) and (b.max is None or v <= b.max):
                        p = b.points + (b.slope * (b.anchor - v) if b.slope else 0.0)
                        break
            elif isinstance(f, Flag):
                p = f.points if (facts.get(fact) is True or (isinstance(facts.get(fact), (int, float)) and facts[fact] > 0)) else 0.0
            else:
                p = 0.0
        cap = getattr(f, "cap", None)
        points[ind.id] = min(p, cap) if cap is not None else p
    if rule_set.eligibility is not None:
        state = facts.get(rule_set.eligibility.fact) or "not_found"
        if state in rule_set.eligibility.pause:
            status = "paused"
        if state in rule_set.eligibility.void:
            status = "void"
    total = sum(points.values()) if status == "scored" else 0.0
    return {"status": status, "total": total, "points": points}
