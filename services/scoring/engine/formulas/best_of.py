"""best_of: the higher of several ways to earn the indicator (own home, or years of rental:
租购同分). Each option measures its own fact and scores it with a per_unit or a flag (capped
per option); the winner's points count, and its name labels the explanation line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from services.scoring.engine import measures
from services.scoring.engine.formulas.base import Batch, FormulaKind, Holder, Label, Row, cap_text, number, zero_nan
from services.scoring.engine.formulas.flag import Flag
from services.scoring.engine.formulas.per_unit import PerUnit
from services.scoring.engine.measures import Measure
from services.scoring.engine.schema import Strict

if TYPE_CHECKING:
    from services.scoring.engine.rules import Indicator


class Option(Strict):
    name: str
    fact: str
    measure: Measure | None = None
    # The kinds an option may use: those scoring an already measured value (option_points).
    formula: Annotated[PerUnit | Flag, Field(discriminator="kind")]


class BestOf(FormulaKind):
    """The higher of several ways to earn the indicator (own home or years of rental: 租购同分)."""

    kind: Literal["best_of"]
    options: list[Option] = Field(min_length=2)
    needs_fact: ClassVar[bool] = False  # each option names its own

    def value_text(self, indicator: Indicator, fact_value: Any, label: Label = str) -> str:
        counted = fact_value.get("counted") if isinstance(fact_value, dict) else None
        return f"按{label(counted)}计" if counted else "无记录"

    def rule_text(self, indicator: Indicator, label: Label = str) -> str:
        ways = []
        for o in self.options:
            f = o.formula
            if isinstance(f, PerUnit):
                u = measures.unit_of(o.measure)
                way = f"每满{number(f.unit)}{u}计{number(f.points)}分{cap_text(f.cap)}"
            else:
                way = f"计{number(f.points)}分"
            ways.append(f"{label(o.name)}{way}")
        return "以下取最高一项：" + "；".join(ways)

    def evaluate(self, indicator: Indicator, batch: Batch, row: Row) -> None:
        n = batch.n
        best = np.full(n, -np.inf)
        chosen = np.full(n if batch.explain else 0, -1)
        cap_of = np.full(n if batch.explain else 0, np.nan)
        for o, opt in enumerate(self.options):
            v = batch.measure(opt.measure, opt.fact)
            p_raw = opt.formula.option_points(v)
            opt_cap = _cap(opt)
            p = np.minimum(p_raw, opt_cap) if not np.isnan(opt_cap) else p_raw
            better = p > best
            np.copyto(best, p, where=better)
            np.copyto(row.values, zero_nan(v), where=better)
            np.copyto(row.raw, p_raw, where=better)
            if batch.explain:  # which option won, and its cap, say what the line says
                np.copyto(chosen, np.where(p > 0, o, -1), where=better)
                np.copyto(cap_of, opt_cap, where=better)
        batch.put_labels(indicator.id, np.array([o.name for o in self.options]), chosen)
        batch.put_caps(indicator.id, cap_of)
        row.counted[:] = best

    def count(self, row: Row) -> None:
        pass  # counted in `evaluate`: each option has its own cap

    def score_one(self, indicator: Indicator, holder: Holder) -> float:
        best = 0.0
        for opt in self.options:
            p = opt.formula.option_points_one(holder.measure(opt.measure, opt.fact))
            cap = opt.formula.cap_points
            best = max(best, min(p, cap) if cap is not None else p)
        return best


def _cap(option: Option) -> float:
    cap = option.formula.cap_points
    return np.nan if cap is None else cap
