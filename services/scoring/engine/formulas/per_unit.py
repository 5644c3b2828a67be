"""per_unit: `points` for each full `unit` of the measure (above `threshold`, where `base` is
earned on reaching it); capped. Years of residence, months of insurance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from services.scoring.engine import measures
from services.scoring.engine.formulas.base import Batch, FormulaKind, Holder, Label, Row, cap_text, number, zero_nan

if TYPE_CHECKING:
    from services.scoring.engine.rules import Indicator


class PerUnit(FormulaKind):
    """`points` for each full `unit` (above `threshold`, where `base` is earned on reaching it); capped."""

    kind: Literal["per_unit"]
    unit: float = Field(gt=0)
    points: float
    cap: float | None = Field(default=None, ge=0)
    threshold: float | None = Field(default=None, ge=0)
    base: float = 0.0

    def option_points(self, v: np.ndarray) -> np.ndarray:
        v = zero_nan(v)
        if self.threshold is not None:
            above = self.base + _floor_units(v - self.threshold, self.unit) * self.points
            return np.where(v >= self.threshold, above, 0.0)
        return _floor_units(v, self.unit) * self.points

    def option_points_one(self, v: float) -> float:
        if v != v:  # NaN
            v = 0.0
        if self.threshold is not None:
            return self.base + _units(v - self.threshold, self.unit) * self.points if v >= self.threshold else 0.0
        return _units(v, self.unit) * self.points

    def rule_text(self, indicator: Indicator, label: Label = str) -> str:
        u = measures.unit_of(indicator.measure)
        if self.threshold is not None:
            text = (
                f"满{number(self.threshold)}{u}计{number(self.base)}分，"
                f"超出部分每满{number(self.unit)}{u}加{number(self.points)}分"
            )
        else:
            text = f"每满{number(self.unit)}{u}计{number(self.points)}分"
        return measures.basis_of(indicator.measure) + text + cap_text(self.cap)

    def evaluate(self, indicator: Indicator, batch: Batch, row: Row) -> None:
        v = zero_nan(batch.measure(indicator.measure, indicator.fact or ""))
        row.values[:] = v
        row.raw[:] = self.option_points(v)

    def score_one(self, indicator: Indicator, holder: Holder) -> float:
        return self.option_points_one(holder.measure(indicator.measure, indicator.fact or ""))


def _floor_units(v: np.ndarray, unit: float) -> np.ndarray:
    return np.floor(v / unit + 1e-9)


def _units(value: float, unit: float) -> int:
    return int(value / unit + 1e-9)
