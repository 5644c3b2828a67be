"""flag: `points` when the fact is true (or a positive number)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from services.scoring.engine.formulas.base import Batch, FormulaKind, Holder, Label, Row, number, zero_nan

if TYPE_CHECKING:
    from services.scoring.engine.rules import Indicator


class Flag(FormulaKind):
    """`points` when the fact is true (or a positive number)."""

    kind: Literal["flag"]
    points: float

    def option_points(self, v: np.ndarray) -> np.ndarray:
        return np.where(v > 0, self.points, 0.0)

    def option_points_one(self, v: float) -> float:
        return self.points if v > 0 else 0.0

    def value_text(self, indicator: Indicator, fact_value: Any, label: Label = str) -> str:
        return "符合" if isinstance(fact_value, (int, float)) and fact_value > 0 else "不符合"

    def rule_text(self, indicator: Indicator, label: Label = str) -> str:
        return f"符合条件的计{number(self.points)}分"

    def evaluate(self, indicator: Indicator, batch: Batch, row: Row) -> None:
        v = zero_nan(batch.measure(indicator.measure, indicator.fact or ""))
        row.values[:] = v
        row.raw[:] = self.option_points(v)

    def score_one(self, indicator: Indicator, holder: Holder) -> float:
        value = holder.facts.get(indicator.fact or "")
        return self.points if (value is True or (isinstance(value, (int, float)) and value > 0)) else 0.0
