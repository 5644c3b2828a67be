"""What every formula kind is, and the two contexts it scores in.

A kind is a rule-file model (its fields are the YAML's) that also knows how to check the
indicator using it, how to score a whole population at once (`evaluate`, numpy over one chunk
of holders) and how to score one holder in plain Python (`score_one`, the reference the tests
and the benchmark hold the engine to). The engine and the reference only loop over indicators
and call these; no `isinstance` chain anywhere decides what a kind does.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

import numpy as np

from services.scoring.engine import measures
from services.scoring.engine.population import Categorical, Choices, Population
from services.scoring.engine.schema import Strict

if TYPE_CHECKING:
    from services.scoring.engine.rules import Indicator, RuleSet

T = TypeVar("T")
Label = Callable[[str], str]  # a fact's value (a category code) → its name for a reader


def number(x: float) -> str:
    """Points and amounts as people write them: 5, 0.5, 1000, 10万 (no trailing .0)."""
    if abs(x) >= 10_000 and x % 10_000 == 0:
        return f"{x / 10_000:g}万"
    return f"{x:g}"


def cap_text(cap: float | None) -> str:
    return "" if cap is None else f"，最高{number(cap)}分"


def table_text(points: dict[str, float], label: Label) -> str:
    return "、".join(f"{label(k)}{number(v)}分" for k, v in points.items())


SCORED, VETOED, PAUSED, VOID, REFUSED = range(5)  # the engine's status codes (see evaluate.STATUSES)


def zero_nan(v: np.ndarray) -> np.ndarray:
    """NaN (an unknown fact) → 0, in place: cheaper than np.nan_to_num's infinity checks."""
    if v.dtype.kind != "f":
        return v.astype(float)
    np.copyto(v, 0.0, where=np.isnan(v))
    return v


def category_points(values: Any, table: dict[str, float]) -> np.ndarray:
    """Category → points through the category table; unknown categories score 0."""
    return Categorical.encode(values).lookup(table)


def group_keys(owner: np.ndarray, labels: Any) -> np.ndarray:
    """One integer per distinct (owner, label) pair, for grouping items by holder and matter or act."""
    codes = Categorical.encode(labels).codes.astype(np.int64)
    width = int(codes.max()) + 1 if len(codes) else 1
    _, groups = np.unique(owner * width + codes, return_inverse=True)
    return groups.ravel()


@dataclass
class Row:
    """One indicator's rows over the chunk: what a kind's `evaluate` fills (views into the result)."""

    values: np.ndarray  # the measured fact
    raw: np.ndarray  # points before the cap
    counted: np.ndarray  # points after the cap (the engine caps `raw` unless the kind counts itself)


@dataclass
class Batch:
    """One chunk of a population under evaluation, with what kinds may record beside their points."""

    rule_set: RuleSet
    pop: Population
    cut_off: date
    offset: int  # the chunk's first holder in the whole population
    total: int  # holders in the whole population
    status: np.ndarray  # the chunk's status codes (a view)
    reason: np.ndarray  # the chunk's reason codes (a view)
    reasons: list[str]
    labels: dict[str, tuple[list[Choices], np.ndarray]]
    caps: dict[str, np.ndarray]
    _shared: dict[str, Any] = field(default_factory=dict)
    explain: bool = True  # False: totals only, so labels and caps (what lines say) are not kept

    @property
    def n(self) -> int:
        return self.pop.n

    @property
    def lookback_years(self) -> int:
        return self.rule_set.lookback_years

    def measure(self, spec: measures.Measure | None, fact: str) -> np.ndarray:
        return measures.measure(spec, fact, self.pop, self.cut_off, self.rule_set.lookback_years)

    def once(self, key: str, build: Callable[[], T]) -> T:
        """Work several indicators of the chunk share (e.g. events of one exclusive group), done once."""
        if key not in self._shared:
            self._shared[key] = build()
        return cast(T, self._shared[key])

    def veto(self, hit: np.ndarray, why: str) -> None:
        """Holders hit lose their score (unless something already decided their status)."""
        newly = hit & (self.status == SCORED)
        self.status[newly] = VETOED
        self.reason[newly] = self.reason_code(why)

    def reason_code(self, text: str) -> int:
        if text not in self.reasons:
            self.reasons.append(text)
        return self.reasons.index(text)

    def put_labels(self, indicator_id: str, choices: Any, index: np.ndarray) -> None:
        """The chunk's winning category or option per holder (index into `choices`, -1: none).
        Each chunk keeps its own choices, so indexes are made global."""
        if not self.explain:
            return
        entry = self.labels.get(indicator_id)
        if entry is None:
            entry = self.labels[indicator_id] = ([], np.full(self.total, -1, dtype=np.int64))
        parts, global_index = entry
        base = sum(len(p) for p in parts)
        parts.append(choices if isinstance(choices, Categorical) else np.asarray(choices))
        global_index[self.offset : self.offset + len(index)] = np.where(index >= 0, index + base, -1)

    def put_caps(self, indicator_id: str, caps: np.ndarray) -> None:
        """Per-holder caps, where the cap depends on the holder (NaN: none)."""
        if not self.explain:
            return
        self.caps.setdefault(indicator_id, np.full(self.total, np.nan))[self.offset : self.offset + self.n] = caps


@dataclass
class Holder:
    """One holder under the reference: facts, the cut-off, and a status a veto may change."""

    rule_set: RuleSet
    facts: dict[str, Any]
    cut_off: date
    status: str = "scored"
    _shared: dict[str, Any] = field(default_factory=dict)
    lookback_start: date = field(init=False)  # the look-back window's first day (inclusive)

    def __post_init__(self) -> None:
        self.lookback_start = measures.lookback_start(self.cut_off, self.rule_set.lookback_years)

    @property
    def lookback_years(self) -> int:
        return self.rule_set.lookback_years

    def in_lookback(self, day: Any) -> bool:
        return self.lookback_start <= measures.as_day(day) < self.cut_off

    def measure(self, spec: measures.Measure | None, fact: str) -> float:
        return measures.measure_one(spec, fact, self.facts, self.cut_off, self.rule_set.lookback_years)

    def once(self, key: str, build: Callable[[], T]) -> T:
        if key not in self._shared:
            self._shared[key] = build()
        return cast(T, self._shared[key])


class FormulaKind(Strict):
    """A formula kind (the base of each one). Subclasses declare `kind: Literal["..."]` and their fields, and override
    `evaluate` and `score_one`; `check` and `count` have defaults most kinds keep."""

    kind: str
    needs_fact: ClassVar[bool] = True

    def check(self, indicator: Indicator) -> None:
        """Refuse an indicator this kind cannot score (raise ValueError, the message for the file's author)."""
        if self.needs_fact and not indicator.fact:
            raise ValueError("fact is required (except for best_of, whose options name theirs)")
        if indicator.category == "veto":
            raise ValueError("veto indicators, and only they, use the veto formula")

    @property
    def cap_points(self) -> float | None:
        return getattr(self, "cap", None)

    @abstractmethod
    def evaluate(self, indicator: Indicator, batch: Batch, row: Row) -> None:
        """Fill `row.values` and `row.raw` for every holder of the batch."""

    def count(self, row: Row) -> None:
        """Points counted from the raw points: capped, if the kind has a cap."""
        cap = self.cap_points
        if cap is not None:
            np.minimum(row.raw, cap, out=row.counted)
        else:
            row.counted[:] = row.raw

    @abstractmethod
    def score_one(self, indicator: Indicator, holder: Holder) -> float:
        """One holder's raw points, in plain Python."""

    def account(self, indicator: Indicator, holder: Holder) -> list[dict[str, Any]]:
        """Every record behind the line: what of it counted, or why it was left out (the measure's
        accounting by default; kinds that choose among records say how they chose)."""
        raw = holder.facts.get(indicator.fact or "")
        return measures.account_of(indicator.measure, raw, holder.cut_off, holder.lookback_years)

    def value_text(self, indicator: Indicator, fact_value: Any, label: Label = str) -> str:
        """The holder's measured fact as the line's sentence states it ("8年"); "" if it says nothing."""
        value = fact_value.get("value") if isinstance(fact_value, dict) else fact_value
        if value is None or value != value:  # missing, or NaN
            return "无记录"
        return f"{number(float(value))}{measures.unit_of(indicator.measure)}"

    @abstractmethod
    def rule_text(self, indicator: Indicator, label: Label = str) -> str:
        """The rule in Chinese as a holder reads it ("每满1年计5分，最高100分"); `label` names a fact's values."""

    def count_one(self, points: float) -> float:
        cap = self.cap_points
        return min(points, cap) if cap is not None else points

    # Kinds a best_of's option may use: points of an already measured value (all holders; one).
    def option_points(self, v: np.ndarray) -> np.ndarray:
        raise TypeError(f"a {self.kind} formula cannot be an option of best_of")

    def option_points_one(self, v: float) -> float:
        raise TypeError(f"a {self.kind} formula cannot be an option of best_of")
