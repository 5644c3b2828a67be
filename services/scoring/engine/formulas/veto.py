"""veto: any event of the listed cases (no look-back): no score at all."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from services.scoring.engine import measures
from services.scoring.engine.formulas.base import Batch, FormulaKind, Holder, Label, Row
from services.scoring.engine.population import Categorical

if TYPE_CHECKING:
    from services.scoring.engine.rules import Indicator


class Veto(FormulaKind):
    """Any event of the listed cases (no look-back): no score at all."""

    kind: Literal["veto"]
    cases: list[str] = Field(min_length=1)

    def check(self, indicator: Indicator) -> None:
        if not indicator.fact:
            raise ValueError("fact is required (except for best_of, whose options name theirs)")
        if indicator.category != "veto":
            raise ValueError("veto indicators, and only they, use the veto formula")

    def account(self, indicator: Indicator, holder: Holder) -> list[dict[str, Any]]:
        return [
            measures.record(e, "一票否决", None)
            for e in holder.facts.get(indicator.fact or "") or []
            if e.get("case") in self.cases
        ]

    def value_text(self, indicator: Indicator, fact_value: Any, label: Label = str) -> str:
        return "有此情形" if isinstance(fact_value, (int, float)) and fact_value > 0 else "无此情形"

    def rule_text(self, indicator: Indicator, label: Label = str) -> str:
        return f"有{'、'.join(label(c) for c in self.cases)}记录的，不予积分"

    def evaluate(self, indicator: Indicator, batch: Batch, row: Row) -> None:
        hit = self._hit(indicator.fact or "", batch)
        row.values[:] = hit
        row.raw[:] = 0.0
        batch.veto(hit, f"veto: {indicator.id} ({indicator.name.en})")

    def _hit(self, fact: str, batch: Batch) -> np.ndarray:
        pop = batch.pop
        it = pop.items.get(fact)
        if it is not None and len(it):
            case = it.fields.get("case", it.fields.get("kind"))
            hit = Categorical.encode(case).isin(self.cases)
            return np.bincount(it.owner[hit], minlength=pop.n) > 0
        col = pop.scalars.get(fact)
        if col is None or isinstance(col, Categorical):
            return np.zeros(pop.n, dtype=bool)
        return col > 0  # NaN compares false

    def score_one(self, indicator: Indicator, holder: Holder) -> float:
        if (
            any(e.get("case") in self.cases for e in holder.facts.get(indicator.fact or "") or [])
            and holder.status == "scored"
        ):
            holder.status = "vetoed"
        return 0.0
