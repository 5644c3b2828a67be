"""events: cases of `case` among dated events inside the look-back, `points` each (negative
for deductions). Indicators naming the same `exclusive` group share their events: one act
(`act` field) matching several of them counts once, at the largest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np

from services.scoring.engine import measures
from services.scoring.engine.formulas.base import (
    Batch,
    FormulaKind,
    Holder,
    Label,
    Row,
    category_points,
    group_keys,
    number,
)
from services.scoring.engine.population import EMPTY, Categorical

if TYPE_CHECKING:
    from services.scoring.engine.rules import Indicator


class Events(FormulaKind):
    """Cases of `case` among dated events inside the look-back, `points` each (negative for deductions).

    Indicators naming the same `exclusive` group share their events: one act (`act` field)
    matching several of them counts once, at the largest.
    """

    kind: Literal["events"]
    case: str
    points: float
    exclusive: str | None = None

    def check(self, indicator: Indicator) -> None:
        super().check(indicator)
        if indicator.category == "deduction" and self.points > 0:
            raise ValueError("a deduction's points must not be positive")

    def account(self, indicator: Indicator, holder: Holder) -> list[dict[str, Any]]:
        winners = holder.once("events", lambda: _exclusive_winners(holder)) if self.exclusive else {}
        out = []
        for n, e in enumerate(holder.facts.get(indicator.fact or "") or []):
            if e.get("case") != self.case:
                continue
            if not holder.in_lookback(e["date"]):
                why = f"不在回溯期（{holder.lookback_start.isoformat()}至截止日前）内，不计"
                out.append(measures.record(e, None, why))
                continue
            won = winners.get((self.exclusive or "", str(e.get("act", f"#{n}"))))
            if self.exclusive and won is not None and won[1] != self.case:
                out.append(measures.record(e, None, "同一行为已按较重的一项计，此项不再计"))
                continue
            out.append(measures.record(e, f"{number(self.points)}分", None))
        return out

    def value_text(self, indicator: Indicator, fact_value: Any, label: Label = str) -> str:
        n = int(fact_value or 0) if isinstance(fact_value, (int, float)) else 0
        return f"回溯期内{n}次" if n else "回溯期内无此记录"

    def rule_text(self, indicator: Indicator, label: Label = str) -> str:
        verb = "扣" if self.points < 0 else "计"
        text = f"回溯期内每有一次{verb}{number(abs(self.points))}分"
        return text + ("；同一行为只按最重的一项计" if self.exclusive else "")

    def evaluate(self, indicator: Indicator, batch: Batch, row: Row) -> None:
        row.raw[:], row.values[:] = batch.once("events", lambda: _all_events(batch))[indicator.id]

    def score_one(self, indicator: Indicator, holder: Holder) -> float:
        if self.exclusive:
            winners = holder.once("events", lambda: _exclusive_winners(holder))
            return sum(
                pts for (group, _act), (pts, case) in winners.items() if group == self.exclusive and case == self.case
            )
        return self.points * sum(
            1
            for e in holder.facts.get(indicator.fact or "") or []
            if e.get("case") == self.case and holder.in_lookback(e["date"])
        )


def _all_events(batch: Batch) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(raw points, counted cases) of every `events` indicator of the rule set, over the chunk.

    Inside an `exclusive` group, each act keeps only its largest-magnitude case.
    """
    pop = batch.pop
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    groups: dict[tuple[str, str], list[Indicator]] = {}
    for ind in batch.rule_set.indicators:
        if isinstance(ind.formula, Events):
            key = (ind.fact or "", ind.formula.exclusive or f"__{ind.id}")
            groups.setdefault(key, []).append(ind)
    for (fact, _), inds in groups.items():
        it = pop.items.get(fact, EMPTY)
        if len(it) == 0:
            for ind in inds:
                out[ind.id] = (np.zeros(pop.n), np.zeros(pop.n))
            continue
        ok = measures.in_window(it.fields["date"], batch.cut_off, batch.lookback_years)
        kinds = [cast(Events, i.formula) for i in inds]  # grouped above by isinstance
        table = {f.case: f.points for f in kinds}
        rank_of = {f.case: float(r) for r, f in enumerate(kinds)}
        case = Categorical.encode(it.fields.get("case", it.fields.get("kind")))
        pts = np.where(ok, category_points(case, table), 0.0)
        counts = ok & case.isin(list(table))
        act = it.fields.get("act")
        if act is not None and len(inds) > 1:
            # Per (holder, act) keep the case with the largest magnitude.
            g = group_keys(it.owner, act)
            # Ties go to the indicator listed first in the rule set.
            order = np.lexsort((category_points(case, rank_of), -np.abs(pts), g))
            first = np.ones(len(order), dtype=bool)
            first[1:] = g[order][1:] != g[order][:-1]
            keep = np.zeros(len(pts), dtype=bool)
            keep[order[first]] = True
            counts &= keep
        for ind, f in zip(inds, kinds, strict=True):
            mine = counts & case.equals(f.case)
            out[ind.id] = (
                np.bincount(it.owner[mine], weights=pts[mine], minlength=pop.n),
                np.bincount(it.owner[mine], minlength=pop.n).astype(float),
            )
    return out


def _exclusive_winners(holder: Holder) -> dict[tuple[str, str], tuple[float, str]]:
    """Per (exclusive group, act): the points and case of the largest-magnitude case."""
    winners: dict[tuple[str, str], tuple[float, str]] = {}
    for ind in holder.rule_set.indicators:
        f = ind.formula
        if isinstance(f, Events) and f.exclusive:
            for n, e in enumerate(holder.facts.get(ind.fact or "") or []):
                if e.get("case") == f.case and holder.in_lookback(e["date"]):
                    key = (f.exclusive, str(e.get("act", f"#{n}")))
                    if key not in winners or abs(f.points) > abs(winners[key][0]):
                        winners[key] = (f.points, f.case)
    return winners
