"""highest: categorical; the holder's best category counts, only one (education, for one)."""

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
    category_points,
    number,
    table_text,
)

if TYPE_CHECKING:
    from services.scoring.engine.rules import Indicator


class Highest(FormulaKind):
    """Categorical: the holder's best category counts, only one."""

    kind: Literal["highest"]
    points: dict[str, float] = Field(min_length=1)

    def account(self, indicator: Indicator, holder: Holder) -> list[dict[str, Any]]:
        raw = holder.facts.get(indicator.fact or "")
        values = raw if isinstance(raw, list) else ([] if raw is None else [raw])
        pts = [self.points.get(v if isinstance(v, str) else v.get("level"), 0.0) for v in values]
        top = pts.index(max(pts)) if pts else -1
        return [
            measures.record(v, f"{number(p)}分", None) if i == top else measures.record(v, None, "只计最高一项")
            for i, (v, p) in enumerate(zip(values, pts, strict=True))
        ]

    def value_text(self, indicator: Indicator, fact_value: Any, label: Label = str) -> str:
        counted = fact_value.get("counted") if isinstance(fact_value, dict) else None
        return f"最高一项为{label(counted)}" if counted else "无记录"

    def rule_text(self, indicator: Indicator, label: Label = str) -> str:
        return f"按最高一项计，不累加：{table_text(self.points, label)}"

    def evaluate(self, indicator: Indicator, batch: Batch, row: Row) -> None:
        pop, fact = batch.pop, indicator.fact or ""
        if fact in pop.items:
            it = pop.items[fact]
            values = it.fields.get("level", it.fields.get("value", np.zeros(0)))
            best, idx = _max_per_owner(it.owner, category_points(values, self.points), pop.n)
            row.raw[:] = best
            batch.put_labels(indicator.id, values, np.where(best > 0, idx, -1))
        else:
            col = pop.scalars.get(fact)
            if col is None:
                row.raw[:] = 0.0
                batch.put_labels(indicator.id, np.zeros(0), np.full(pop.n, -1))
            else:
                pts = category_points(col, self.points)
                row.raw[:] = pts
                batch.put_labels(indicator.id, col, np.where(pts > 0, np.arange(pop.n), -1))
        row.values[:] = row.raw

    def score_one(self, indicator: Indicator, holder: Holder) -> float:
        raw = holder.facts.get(indicator.fact or "")
        values = raw if isinstance(raw, list) else ([] if raw is None else [raw])
        return max([self.points.get(v if isinstance(v, str) else v.get("level"), 0.0) for v in values], default=0.0)


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
