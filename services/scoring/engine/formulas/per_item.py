"""per_item: dated or undated items scored by one field; per group (e.g. one honour matter)
only the largest; summed; capped."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from services.scoring.engine import measures
from services.scoring.engine.formulas.base import (
    Batch,
    FormulaKind,
    Holder,
    Label,
    Row,
    cap_text,
    category_points,
    group_keys,
    number,
    table_text,
)
from services.scoring.engine.population import EMPTY

if TYPE_CHECKING:
    from services.scoring.engine.rules import Indicator


class PerItem(FormulaKind):
    """Dated or undated items scored by one field; per group (e.g. one honour matter) only the largest;
    summed; capped."""

    kind: Literal["per_item"]
    field: str
    points: dict[str, float] = Field(min_length=1)
    group_by: str | None = None
    cap: float | None = Field(default=None, ge=0)
    lookback: bool = False

    def account(self, indicator: Indicator, holder: Holder) -> list[dict[str, Any]]:
        items = list(holder.facts.get(indicator.fact or "") or [])
        best: dict[object, tuple[float, int]] = {}  # group → (points, the first item with them)
        for n, item in enumerate(items):
            if self.lookback and not holder.in_lookback(item["date"]):
                continue
            key = item.get(self.group_by) if self.group_by else n
            pts = self.points.get(item.get(self.field), 0.0)
            if key not in best or pts > best[key][0]:
                best[key] = (pts, n)
        winners = {n for _pts, n in best.values()}
        out = []
        for n, item in enumerate(items):
            if self.lookback and not holder.in_lookback(item["date"]):
                out.append(measures.record(item, None, "不在回溯期内，不计"))
            elif n not in winners:
                out.append(measures.record(item, None, "同一事项只计最高一项"))
            else:
                out.append(measures.record(item, f"{number(self.points.get(item.get(self.field), 0.0))}分", None))
        return out

    def value_text(self, indicator: Indicator, fact_value: Any, label: Label = str) -> str:
        n = int(fact_value or 0) if isinstance(fact_value, (int, float)) else 0
        return f"共{n}项" if n else "无记录"

    def rule_text(self, indicator: Indicator, label: Label = str) -> str:
        text = f"每项按{table_text(self.points, label)}计"
        if self.group_by:
            text += "，同一事项只计最高一项"
        if self.lookback:
            text += "，只计回溯期内的"
        return text + cap_text(self.cap)

    def evaluate(self, indicator: Indicator, batch: Batch, row: Row) -> None:
        pop = batch.pop
        it = pop.items.get(indicator.fact or "", EMPTY)
        if len(it) == 0 or self.field not in it.fields:
            row.raw[:] = 0.0
            row.values[:] = 0.0
            return
        if self.lookback:
            it = it.where(measures.in_window(it.fields["date"], batch.cut_off, batch.lookback_years))
        owner, pts = it.owner, category_points(it.fields[self.field], self.points)
        group = it.fields[self.group_by] if self.group_by else None
        if group is not None and len(owner):
            # One matter counts once, at its highest level: reduce to (owner, matter) groups first.
            g = group_keys(owner, group)
            best = np.full(g.max() + 1, -np.inf)
            np.maximum.at(best, g, pts)
            group_owner = np.zeros(g.max() + 1, dtype=np.int64)
            group_owner[g] = owner
            owner, pts = group_owner, best
        row.raw[:] = np.bincount(owner, weights=pts, minlength=pop.n)
        row.values[:] = np.bincount(owner, minlength=pop.n)

    def score_one(self, indicator: Indicator, holder: Holder) -> float:
        per_group: dict[object, float] = {}
        for n, item in enumerate(holder.facts.get(indicator.fact or "") or []):
            if self.lookback and not holder.in_lookback(item["date"]):
                continue
            key = item.get(self.group_by) if self.group_by else n
            per_group[key] = max(per_group.get(key, float("-inf")), self.points.get(item.get(self.field), 0.0))
        return sum(per_group.values())
