"""bracket: the first bracket whose inclusive [min, max] holds the measure; none: 0 points.
A bracket may run linearly (points + slope × (anchor − value)). Age, for one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field, model_validator

from services.scoring.engine import measures
from services.scoring.engine.formulas.base import Batch, FormulaKind, Holder, Label, Row, cap_text, number, zero_nan
from services.scoring.engine.schema import Strict

if TYPE_CHECKING:
    from services.scoring.engine.rules import Indicator


class Bracket(Strict):
    min: float | None = None
    max: float | None = None
    points: float
    # points + slope × (anchor − value): a linear run inside the bracket.
    slope: float = 0.0
    anchor: float | None = None

    @model_validator(mode="after")
    def _anchor_with_slope(self) -> Bracket:
        if self.slope and self.anchor is None:
            raise ValueError("a bracket with a slope needs an anchor")
        return self


class BracketTable(FormulaKind):
    """The first bracket whose inclusive [min, max] holds the value; none: 0 points."""

    kind: Literal["bracket"]
    brackets: list[Bracket] = Field(min_length=1)
    cap: float | None = Field(default=None, ge=0)

    def rule_text(self, indicator: Indicator, label: Label = str) -> str:
        u = measures.unit_of(indicator.measure)
        parts = []
        for b in self.brackets:
            if b.min is not None and b.max is not None:
                span = f"{number(b.min)}至{number(b.max)}{u}"
            elif b.min is not None:
                span = f"{number(b.min)}{u}及以上"
            elif b.max is not None:
                span = f"{number(b.max)}{u}及以下"
            else:
                span = "其他"
            if b.slope and b.anchor is not None:
                step = "加" if b.slope > 0 else "减"  # points + slope × (anchor − value)
                at = f"{number(b.anchor)}{u}计{number(b.points)}分"
                parts.append(f"{span}：{at}，每少1{u or '单位'}{step}{number(abs(b.slope))}分")
            else:
                parts.append(f"{span}计{number(b.points)}分")
        return "；".join(parts) + cap_text(self.cap)

    def evaluate(self, indicator: Indicator, batch: Batch, row: Row) -> None:
        v = batch.measure(indicator.measure, indicator.fact or "")
        row.raw[:] = self.points_of(v)  # needs NaN: an unknown age scores nothing
        row.values[:] = zero_nan(v)

    def points_of(self, v: np.ndarray) -> np.ndarray:
        out = np.zeros(len(v))
        done = np.isnan(v)
        for b in self.brackets:
            hit = ~done
            if b.min is not None:
                hit &= v >= b.min
            if b.max is not None:
                hit &= v <= b.max
            pts = b.points + (b.slope * (b.anchor - v) if b.slope else 0.0)
            out = np.where(hit, pts, out)
            done |= hit
        return out

    def score_one(self, indicator: Indicator, holder: Holder) -> float:
        v = holder.measure(indicator.measure, indicator.fact or "")
        for b in self.brackets:
            if v == v and (b.min is None or v >= b.min) and (b.max is None or v <= b.max):
                return b.points + (b.slope * (b.anchor - v) if b.slope and b.anchor is not None else 0.0)
        return 0.0
