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
from services.scoring.engine.population import EMPTY, Categorical, Population
from services.scoring.engine.rules import (BestOf, BracketTable, Events, Flag, Highest, Indicator, PerItem, PerUnit,
                                           RuleSet, Veto)

CATEGORIES = ("basic", "bonus", "deduction")


STATUSES = np.array(["scored", "vetoed", "paused", "void"], dtype=object)
SCORED, VETOED, PAUSED, VOID = range(4)


@dataclass
class Evaluation:
    rule_set: RuleSet
    cut_off: date
    values: np.ndarray  # (indicators, holders): the measured fact (years, months, count of cases…)
    raw: np.ndarray  # (indicators, holders): points before caps
    counted: np.ndarray  # (indicators, holders): points after caps
    status_code: np.ndarray  # (holders,): index into STATUSES
    reason_code: np.ndarray  # (holders,): index into `reasons` (0: none)
    reasons: list[str] = field(default_factory=lambda: [""])
    # Per indicator (choice arrays, index): holder h's winning category or option is entry index[h]
    # of the choice arrays laid end to end (one array per chunk).
    labels: dict[str, tuple[list[np.ndarray], np.ndarray]] = field(default_factory=dict)
    caps: dict[str, np.ndarray] = field(default_factory=dict)  # per-holder caps (best_of: the chosen option's)

    @property
    def status(self) -> np.ndarray:
        return STATUSES[self.status_code]

    @property
    def totals(self) -> np.ndarray:
        return np.where(self.status_code == SCORED, self.counted.sum(axis=0), 0.0)

    def category_totals(self) -> dict[str, np.ndarray]:
        cats = np.array([i.category for i in self.rule_set.indicators])
        scored = self.status_code == SCORED
        return {c: np.where(scored, self.counted[cats == c].sum(axis=0), 0.0) for c in CATEGORIES}

    def label(self, indicator_id: str, holder: int) -> Any:
        if indicator_id not in self.labels:
            return None
        parts, index = self.labels[indicator_id]
        i = int(index[holder])
        if i < 0:
            return None
        for part in parts:
            if i < len(part):
                return str(part[i])
            i -= len(part)
        return None

    def explain(self, holder: int) -> dict[str, Any]:
        """Holder `holder`'s score, line by line, with labels in Chinese and English."""
        lines = []
        scored = self.status_code[holder] == SCORED
        for k, ind in enumerate(self.rule_set.indicators):
            value: Any = float(self.values[k, holder])
            label = self.label(ind.id, holder)
            if label is not None:
                value = {"value": value, "counted": label}
            lines.append({
                "indicator": ind.id, "category": ind.category, "name_zh": ind.name.zh, "name_en": ind.name.en,
                "fact": ind.fact, "fact_value": value, "department": ind.department,
                "raw_points": float(self.raw[k, holder]), "cap": self._cap_for(ind, holder),
                "points": float(self.counted[k, holder]) if scored else 0.0,
            })
        counted = self.counted[:, holder] if scored else np.zeros(len(lines))
        cats = [i.category for i in self.rule_set.indicators]
        return {
            "status": str(STATUSES[self.status_code[holder]]), "reason": self.reasons[self.reason_code[holder]] or None,
            "total": float(counted.sum()),
            "categories": {c: float(sum(p for p, cc in zip(counted, cats) if cc == c)) for c in CATEGORIES},
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


def zero_nan(v: np.ndarray) -> np.ndarray:
    """NaN (an unknown fact) → 0, in place: cheaper than np.nan_to_num's infinity checks."""
    if v.dtype.kind != "f":
        return v.astype(float)
    np.copyto(v, 0.0, where=np.isnan(v))
    return v


def per_unit(f: PerUnit, v: np.ndarray) -> np.ndarray:
    v = zero_nan(v)
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


def _map(values: Any, table: dict[str, float]) -> np.ndarray:
    """Category → points through the category table; unknown categories score 0."""
    return Categorical.encode(values).lookup(table)


def _group_keys(owner: np.ndarray, labels: Any) -> np.ndarray:
    """One integer per distinct (owner, label) pair, for grouping items by holder and matter or act."""
    codes = Categorical.encode(labels).codes.astype(np.int64)
    width = int(codes.max()) + 1 if len(codes) else 1
    _, groups = np.unique(owner * width + codes, return_inverse=True)
    return groups.ravel()


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


def highest(f: Highest, fact: str, pop: Population) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    none = np.full(pop.n, -1)
    if fact in pop.items:
        it = pop.items[fact]
        values = it.fields.get("level", it.fields.get("value", np.zeros(0)))
        pts = _map(values, f.points)
        best, idx = _max_per_owner(it.owner, pts, pop.n)
        return best, (values, np.where(best > 0, idx, -1))
    col = pop.scalars.get(fact)
    if col is None:
        return np.zeros(pop.n), (np.zeros(0), none)
    pts = _map(col, f.points)
    return pts, (col, np.where(pts > 0, np.arange(pop.n), -1))


def per_item(f: PerItem, fact: str, pop: Population, cut_off: date, lookback: int) -> tuple[np.ndarray, np.ndarray]:
    it = pop.items.get(fact, EMPTY)
    if len(it) == 0 or f.field not in it.fields:
        return np.zeros(pop.n), np.zeros(pop.n)
    if f.lookback:
        it = it.where(measures.in_window(it.fields["date"], cut_off, lookback))
    owner, pts = it.owner, _map(it.fields[f.field], f.points)
    group = it.fields[f.group_by] if f.group_by else None
    if group is not None and len(owner):
        # One matter counts once, at its highest level: reduce to (owner, matter) groups first.
        g = _group_keys(owner, group)
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
        case = Categorical.encode(case)
        counts = ok & case.isin(list(table))
        act = it.fields.get("act")
        if act is not None and len(inds) > 1:
            # Per (holder, act) keep the case with the largest magnitude.
            g = _group_keys(it.owner, act)
            # Ties go to the indicator listed first in the rule set.
            order = np.lexsort((_map(case, rank_of), -np.abs(pts), g))
            first = np.ones(len(order), dtype=bool)
            first[1:] = g[order][1:] != g[order][:-1]
            keep = np.zeros(len(pts), dtype=bool)
            keep[order[first]] = True
            counts &= keep
        for ind in inds:
            mine = counts & case.equals(ind.formula.case)  # type: ignore[union-attr]
            out[ind.id] = (np.bincount(it.owner[mine], weights=pts[mine], minlength=pop.n),
                           np.bincount(it.owner[mine], minlength=pop.n).astype(float))
    return out


def veto(f: Veto, fact: str, pop: Population) -> np.ndarray:
    it = pop.items.get(fact)
    if it is not None and len(it):
        case = it.fields.get("case", it.fields.get("kind"))
        hit = Categorical.encode(case).isin(f.cases)
        return np.bincount(it.owner[hit], minlength=pop.n) > 0
    col = pop.scalars.get(fact)
    if col is None or isinstance(col, Categorical):
        return np.zeros(pop.n, dtype=bool)
    return col > 0  # NaN compares false


CHUNK = 1 << 17


def evaluate(rule_set: RuleSet, pop: Population, cut_off: date, chunk: int = CHUNK) -> Evaluation:
    """Score a population under `rule_set` on `cut_off` (one round: one cut-off date).

    Holders are evaluated in chunks that fit the processor's caches; the result is the
    same as one pass over everybody.
    """
    n, k = pop.n, len(rule_set.indicators)
    # float32: points are multiples of 0.25 and facts small integers, exact in single precision,
    # and half the memory traffic of float64 across (indicators × holders) arrays.
    out = Evaluation(rule_set, cut_off, *(np.zeros((k, n), dtype=np.float32) for _ in range(3)),
                     np.zeros(n, dtype=np.int8), np.zeros(n, dtype=np.int16))
    pop = pop.ordered()
    for lo in range(0, max(n, 1), chunk):
        hi = min(n, lo + chunk)
        _evaluate_into(out, pop.slice(lo, hi) if (lo, hi) != (0, n) else pop, lo)
    return out


def _evaluate_into(out: Evaluation, pop: Population, offset: int) -> None:
    rule_set, cut_off = out.rule_set, out.cut_off
    n = pop.n
    sl = slice(offset, offset + n)
    values, raw, counted = out.values[:, sl], out.raw[:, sl], out.counted[:, sl]
    status, reason, reasons = out.status_code[sl], out.reason_code[sl], out.reasons
    event_points = events(rule_set, pop, cut_off)
    lb = rule_set.lookback_years
    for row, ind in enumerate(rule_set.indicators):
        f = ind.formula
        if isinstance(f, BestOf):
            best = np.full(n, -np.inf)
            chosen = np.full(n, -1)
            cap_of = np.full(n, np.nan)
            for o, opt in enumerate(f.options):
                v = measures.measure(opt.measure, opt.fact, pop, cut_off, lb)
                of = opt.formula
                p_raw = per_unit(of, v) if isinstance(of, PerUnit) else np.where(v > 0, of.points, 0.0)
                opt_cap = of.cap if isinstance(of, PerUnit) and of.cap is not None else np.nan
                p = np.minimum(p_raw, opt_cap) if not np.isnan(opt_cap) else p_raw
                better = p > best
                best = np.where(better, p, best)
                chosen = np.where(better, np.where(p > 0, o, -1), chosen)
                values[row] = np.where(better, zero_nan(v), values[row])
                raw[row] = np.where(better, p_raw, raw[row])
                cap_of = np.where(better, opt_cap, cap_of)
            _put(out.labels, ind.id, np.array([o.name for o in f.options]), chosen, offset, out.raw.shape[1])
            out.caps.setdefault(ind.id, np.full(out.raw.shape[1], np.nan))[sl] = cap_of
            counted[row] = best
            continue
        elif isinstance(f, Highest):
            raw[row], (choices, index) = highest(f, ind.fact or "", pop)
            _put(out.labels, ind.id, choices, index, offset, out.raw.shape[1])
            values[row] = raw[row]
        elif isinstance(f, PerItem):
            raw[row], values[row] = per_item(f, ind.fact or "", pop, cut_off, lb)
        elif isinstance(f, Events):
            raw[row], values[row] = event_points[ind.id]
        elif isinstance(f, Veto):
            hit = veto(f, ind.fact or "", pop)
            values[row] = hit.astype(float)
            newly = hit & (status == SCORED)
            status[newly] = VETOED
            reason[newly] = _reason(reasons, f"veto: {ind.id} ({ind.name.en})")
        else:
            v = measures.measure(ind.measure, ind.fact or "", pop, cut_off, lb)
            if isinstance(f, BracketTable):
                raw[row] = bracket(f, v)  # needs NaN: an unknown age scores nothing
            v = zero_nan(v)
            values[row] = v
            if isinstance(f, PerUnit):
                raw[row] = per_unit(f, v)
            elif isinstance(f, Flag):
                raw[row] = np.where(v > 0, f.points, 0.0)
        cap = _cap(ind)
        if cap is not None:
            np.minimum(raw[row], cap, out=counted[row])
        else:
            counted[row] = raw[row]
    if rule_set.eligibility is not None:
        rule = rule_set.eligibility
        col = pop.scalars.get(rule.fact)
        state = Categorical(np.zeros(n, dtype=np.int32), np.array(["not_found"])) if col is None else Categorical.encode(col)
        # A missing permit state is as good as no permit found.
        state = Categorical(state.codes, np.where(state.categories == "", "not_found", state.categories))
        for outcome, states in ((PAUSED, rule.pause), (VOID, rule.void)):
            for label in states:
                hit = state.equals(label)
                if hit.any():
                    status[hit] = outcome
                    reason[hit] = _reason(reasons, f"{rule.fact}: {label}")


def _reason(reasons: list[str], text: str) -> int:
    if text not in reasons:
        reasons.append(text)
    return reasons.index(text)


def _put(labels: dict, indicator_id: str, choices: Any, index: np.ndarray, offset: int, n: int) -> None:
    """Store a chunk's winners; each chunk keeps its own choices, so indexes are made global."""
    entry = labels.get(indicator_id)
    if entry is None:
        entry = labels[indicator_id] = ([], np.full(n, -1, dtype=np.int64))
    parts, global_index = entry
    base = sum(len(p) for p in parts)
    parts.append(choices if isinstance(choices, Categorical) else np.asarray(choices))
    global_index[offset:offset + len(index)] = np.where(index >= 0, index + base, -1)
