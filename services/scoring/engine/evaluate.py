"""One vectorised engine: every indicator is evaluated over a whole population at once.

Scoring one application is scoring a population of one. What each formula kind does is the
kind's own (formulas/); this loop only hands each indicator its rows. The result keeps, per holder and
indicator, the measured fact, the raw points and the points counted after the cap, so
every total is explained line by line and can be recomputed from the same rule set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from services.scoring.engine.formulas.base import PAUSED, REFUSED, SCORED, VETOED, VOID, Batch, Row
from services.scoring.engine.population import Categorical, Choices, Population
from services.scoring.engine.rules import Indicator, RuleSet

CATEGORIES = ("basic", "bonus", "deduction")


STATUSES = np.array(["scored", "vetoed", "paused", "void", "refused"], dtype=object)  # indexed by SCORED, VETOED, …
__all__ = [
    "CATEGORIES",
    "STATUSES",
    "SCORED",
    "VETOED",
    "PAUSED",
    "VOID",
    "REFUSED",
    "Evaluation",
    "evaluate",
    "evaluate_totals",
    "facts_read",
]


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
    labels: dict[str, tuple[list[Choices], np.ndarray]] = field(default_factory=dict)
    caps: dict[str, np.ndarray] = field(default_factory=dict)  # per-holder caps (best_of: the chosen option's)
    _fixed_caps: list[float | None] | None = field(default=None, repr=False, compare=False)

    @property
    def status(self) -> np.ndarray:
        names: np.ndarray = STATUSES[self.status_code]
        return names

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
        indicators = self.rule_set.indicators
        scored = self.status_code[holder] == SCORED
        # One column each, as Python floats at once: an estimate explains a few holders hundreds of
        # times a second, and element-wise access to numpy arrays is the slow way to read them.
        values = self.values[:, holder].tolist()
        raw = self.raw[:, holder].tolist()
        counted = self.counted[:, holder].tolist() if scored else [0.0] * len(indicators)
        lines = []
        categories = dict.fromkeys(CATEGORIES, 0.0)
        for k, ind in enumerate(indicators):
            value: Any = values[k]
            label = self.label(ind.id, holder)
            if label is not None:
                value = {"value": value, "counted": label}
            lines.append(
                {
                    "indicator": ind.id,
                    "category": ind.category,
                    "name_zh": ind.name.zh,
                    "name_en": ind.name.en,
                    "fact": ind.fact,
                    "fact_value": value,
                    "department": ind.department,
                    "raw_points": raw[k],
                    "cap": self._cap_for(k, ind, holder),
                    "points": counted[k],
                }
            )
            if ind.category in categories:  # veto lines count nothing: they void the score
                categories[ind.category] += counted[k]
        return {
            "status": str(STATUSES[self.status_code[holder]]),
            "reason": self.reasons[self.reason_code[holder]] or None,
            "total": float(self.counted[:, holder].sum()) if scored else 0.0,
            "categories": categories,
            "rule_set_id": self.rule_set.id,
            "rule_set_hash": self.rule_set.content_hash,
            "cut_off_date": self.cut_off.isoformat(),
            "lines": lines,
        }

    def _cap_for(self, k: int, ind: Indicator, holder: int) -> float | None:
        """Indicator k's cap for this holder: the option it chose (best_of), else the rule's own."""
        if ind.id in self.caps:
            c = float(self.caps[ind.id][holder])
            return None if np.isnan(c) else c
        if self._fixed_caps is None:  # the rules' caps, read once per evaluation (not once a line)
            self._fixed_caps = [i.formula.cap_points for i in self.rule_set.indicators]
        return self._fixed_caps[k]


CHUNK = 1 << 17


def evaluate(rule_set: RuleSet, pop: Population, cut_off: date, chunk: int = CHUNK) -> Evaluation:
    """Score a population under `rule_set` on `cut_off` (one round: one cut-off date).

    Holders are evaluated in chunks that fit the processor's caches; the result is the
    same as one pass over everybody.
    """
    n, k = pop.n, len(rule_set.indicators)
    # float32: points are multiples of 0.25 and facts small integers, exact in single precision,
    # and half the memory traffic of float64 across (indicators × holders) arrays.
    out = Evaluation(
        rule_set,
        cut_off,
        values=np.zeros((k, n), dtype=np.float32),
        raw=np.zeros((k, n), dtype=np.float32),
        counted=np.zeros((k, n), dtype=np.float32),
        status_code=np.zeros(n, dtype=np.int8),
        reason_code=np.zeros(n, dtype=np.int16),
    )
    pop = pop.ordered()
    for lo in range(0, max(n, 1), chunk):
        hi = min(n, lo + chunk)
        _evaluate_into(out, pop.slice(lo, hi) if (lo, hi) != (0, n) else pop, lo)
    return out


# Totals only: chunks small enough that every temporary array of a chunk (a few hundred KiB) is
# served again from the heap for the next one, instead of fresh pages the kernel must fault in
# (at CHUNK, a third of the time went to page faults).
TOTALS_CHUNK = 1 << 14


def evaluate_totals(rule_set: RuleSet, pop: Population, cut_off: date, chunk: int = TOTALS_CHUNK) -> np.ndarray:
    """Each holder's total under `rule_set` on `cut_off`, and nothing else: the same evaluation as
    `evaluate(...).totals`, without keeping the lines that explain it.

    One indicator's rows at a time, in buffers reused across indicators and chunks, so a population
    costs a few arrays of one chunk, not three (indicators × holders) matrices of fresh memory.
    """
    n = pop.n
    totals = np.zeros(n, dtype=np.float32)
    width = min(chunk, max(n, 1))
    values, raw, counted, total = (np.empty(width, dtype=np.float32) for _ in range(4))
    status, reason = np.empty(width, dtype=np.int8), np.empty(width, dtype=np.int16)
    pop = pop.ordered()
    for lo in range(0, max(n, 1), chunk):
        hi = min(n, lo + chunk)
        part = pop.slice(lo, hi) if (lo, hi) != (0, n) else pop
        m = hi - lo
        row = Row(values[:m], raw[:m], counted[:m])
        status[:m], reason[:m], total[:m] = SCORED, 0, 0.0
        batch = Batch(rule_set, part, cut_off, 0, m, status[:m], reason[:m], [""], {}, {}, explain=False)
        for ind in rule_set.indicators:
            row.values.fill(0.0)
            row.raw.fill(0.0)
            row.counted.fill(0.0)
            _score(ind, batch, row)
            total[:m] += row.counted
        _eligibility(batch)
        totals[lo:hi] = np.where(status[:m] == SCORED, total[:m], 0.0)
    return totals


def facts_read(rule_set: RuleSet) -> list[str]:
    """The facts (population columns) a rule set reads: a file's other columns need not be read."""
    names = [rule_set.eligibility.fact] if rule_set.eligibility is not None else []
    for ind in rule_set.indicators:
        names += [ind.fact] if ind.fact else []
        names += [o.fact for o in getattr(ind.formula, "options", [])]
    return list(dict.fromkeys(names))


def _score(ind: Indicator, batch: Batch, row: Row) -> None:
    ind.formula.evaluate(ind, batch, row)
    ind.formula.count(row)


def _evaluate_into(out: Evaluation, pop: Population, offset: int) -> None:
    rule_set, n = out.rule_set, pop.n
    sl = slice(offset, offset + n)
    values, raw, counted = out.values[:, sl], out.raw[:, sl], out.counted[:, sl]
    batch = Batch(
        rule_set,
        pop,
        out.cut_off,
        offset,
        out.raw.shape[1],
        out.status_code[sl],
        out.reason_code[sl],
        out.reasons,
        out.labels,
        out.caps,
    )
    for k, ind in enumerate(rule_set.indicators):
        _score(ind, batch, Row(values[k], raw[k], counted[k]))
    _eligibility(batch)


def _eligibility(batch: Batch) -> None:
    """Whether anything is scored, by the permit's state (after the indicators: a permit that is not
    valid decides the status over a veto)."""
    rule_set, pop, n = batch.rule_set, batch.pop, batch.n
    if rule_set.eligibility is not None:
        rule = rule_set.eligibility
        col = pop.scalars.get(rule.fact)
        state = (
            Categorical(np.zeros(n, dtype=np.int32), np.array(["not_found"]))
            if col is None
            else Categorical.encode(col)
        )
        # A missing permit state is as good as no permit found.
        state = Categorical(state.codes, np.where(state.categories == "", "not_found", state.categories))
        named = set(rule.scored) | set(rule.pause) | set(rule.void)
        # Each label's outcome is decided once (-1: the indicators' status stands), then every holder's
        # is one lookup; reasons are registered in the order the rules name them.
        labels = [str(c) for c in state.categories]
        present = np.bincount(state.codes, minlength=len(labels)) > 0
        outcome = np.full(len(labels), -1, dtype=np.int8)
        why = np.zeros(len(labels), dtype=np.int16)
        for i, label in enumerate(labels):
            if label not in named and present[i]:  # unknown must mean not scored, with the reason, never "as if valid"
                outcome[i], why[i] = REFUSED, batch.reason_code(rule.unnamed_reason(label))
        for code, states in ((PAUSED, rule.pause), (VOID, rule.void)):
            for label in states:
                hits = [i for i, c in enumerate(labels) if c == label and present[i]]
                if hits:
                    outcome[hits], why[hits] = code, batch.reason_code(f"{rule.fact}: {label}")
        if (outcome >= 0).any():
            decided = outcome[state.codes]
            hit = decided >= 0
            batch.status[hit] = decided[hit]
            batch.reason[hit] = why[state.codes[hit]]
