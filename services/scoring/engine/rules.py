"""Rule sets as data: the YAML format, validated whole on load, with a content hash.

An indicator reads one fact of the holder, optionally *measures* it (turns spans of dates
into full years, insurance spans into countable months, a birth date into an age, dated
amounts into a sum inside the look-back window), and scores the measure with one formula.
Every edge rule of ../shared/reference/indicators.md is a field here, not code elsewhere.
"""
from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Annotated, Literal, TypeVar, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from services.scoring.engine import bounded_yaml

RULESET_DIR = Path(__file__).resolve().parent.parent / "rulesets"


class RuleSetError(ValueError):
    """A rule file that cannot be used; the message names the file, the indicator and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_M = TypeVar("_M", bound=BaseModel)


class Names(_Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


# -- measures: raw fact → the number a formula scores ----------------------------------------
class SpanYears(_Strict):
    """Full years in spans of dates before the cut-off; gaps summed, overlaps once (30 days = 1 month, 12 months = 1 year)."""
    kind: Literal["span_years"]


class InsuranceMonths(_Strict):
    """Distinct contribution months before the cut-off month, of the listed insurance kinds; transferred-in and back-paid months excluded."""
    kind: Literal["insurance_months"]
    insurance: list[str] = Field(min_length=1)


class Age(_Strict):
    """Completed years of age on the cut-off date, from a birth date."""
    kind: Literal["age"]


class SumInLookback(_Strict):
    """Sum of a field of dated items inside the look-back window."""
    kind: Literal["sum_in_lookback"]
    field: str = "amount"


Measure = Annotated[Union[SpanYears, InsuranceMonths, Age, SumInLookback], Field(discriminator="kind")]


# -- formulas: measure → points ----------------------------------------------------------------
class PerUnit(_Strict):
    """`points` for each full `unit` (above `threshold`, where `base` is earned on reaching it); capped."""
    kind: Literal["per_unit"]
    unit: float = Field(gt=0)
    points: float
    cap: float | None = Field(default=None, ge=0)
    threshold: float | None = Field(default=None, ge=0)
    base: float = 0.0


class Bracket(_Strict):
    min: float | None = None
    max: float | None = None
    points: float
    # points + slope × (anchor − value): a linear run inside the bracket.
    slope: float = 0.0
    anchor: float | None = None

    @model_validator(mode="after")
    def _anchor_with_slope(self) -> "Bracket":
        if self.slope and self.anchor is None:
            raise ValueError("a bracket with a slope needs an anchor")
        return self


class BracketTable(_Strict):
    """The first bracket whose inclusive [min, max] holds the value; none: 0 points."""
    kind: Literal["bracket"]
    brackets: list[Bracket] = Field(min_length=1)
    cap: float | None = Field(default=None, ge=0)


class Flag(_Strict):
    """`points` when the fact is true (or a positive number)."""
    kind: Literal["flag"]
    points: float


class Highest(_Strict):
    """Categorical: the holder's best category counts, only one."""
    kind: Literal["highest"]
    points: dict[str, float] = Field(min_length=1)


class PerItem(_Strict):
    """Dated or undated items scored by one field; per group (e.g. one honour matter) only the largest; summed; capped."""
    kind: Literal["per_item"]
    field: str
    points: dict[str, float] = Field(min_length=1)
    group_by: str | None = None
    cap: float | None = Field(default=None, ge=0)
    lookback: bool = False


class Events(_Strict):
    """Cases of `case` among dated events inside the look-back, `points` each (negative for deductions).

    Indicators naming the same `exclusive` group share their events: one act (`act` field)
    matching several of them counts once, at the largest.
    """
    kind: Literal["events"]
    case: str
    points: float
    exclusive: str | None = None


class Veto(_Strict):
    """Any event of the listed cases (no look-back): no score at all."""
    kind: Literal["veto"]
    cases: list[str] = Field(min_length=1)


class Option(_Strict):
    name: str
    fact: str
    measure: Measure | None = None
    formula: Annotated[Union[PerUnit, Flag], Field(discriminator="kind")]


class BestOf(_Strict):
    """The higher of several ways to earn the indicator (own home or years of rental: 租购同分)."""
    kind: Literal["best_of"]
    options: list[Option] = Field(min_length=2)


Formula = Annotated[Union[PerUnit, BracketTable, Flag, Highest, PerItem, Events, Veto, BestOf],
                    Field(discriminator="kind")]


class Indicator(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    category: Literal["basic", "bonus", "deduction", "veto"]
    name: Names
    department: str
    fact: str | None = None
    measure: Measure | None = None
    formula: Formula
    source: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Indicator":
        f = self.formula
        if not isinstance(f, BestOf) and not self.fact:
            raise ValueError("fact is required (except for best_of, whose options name theirs)")
        if isinstance(f, Veto) != (self.category == "veto"):
            raise ValueError("veto indicators, and only they, use the veto formula")
        if isinstance(f, Events) and self.category == "deduction" and f.points > 0:
            raise ValueError("a deduction's points must not be positive")
        return self


class Eligibility(_Strict):
    fact: str
    department: str
    void: list[str] = Field(default_factory=list)
    pause: list[str] = Field(default_factory=list)


class RuleSet(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: Names
    effective_from: date
    effective_to: date | None = None
    lookback_years: int = Field(5, ge=0)
    eligibility: Eligibility | None = None
    indicators: list[Indicator] = Field(min_length=1)
    content_hash: str = ""

    @model_validator(mode="after")
    def _period(self) -> "RuleSet":
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to must be after effective_from")
        return self

    def in_force_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    def indicator(self, indicator_id: str) -> Indicator:
        return next(i for i in self.indicators if i.id == indicator_id)


def _locate(raw: dict, loc: tuple) -> str:
    if len(loc) >= 2 and loc[0] == "indicators" and isinstance(loc[1], int):
        try:
            ind = raw["indicators"][loc[1]].get("id", f"#{loc[1]}")
        except (IndexError, AttributeError, KeyError, TypeError):
            ind = f"#{loc[1]}"
        field = ".".join(str(p) for p in loc[2:] if not str(p).startswith(("function-after", "tagged-union"))) or "(indicator)"
        return f"indicator {ind!r}, field {field!r}"
    return f"field {'.'.join(str(p) for p in loc) or '(rule set)'!r}"


def read_mapping(text: str, source: str, what: str) -> dict:
    """The YAML document as a mapping, or a RuleSetError naming the file."""
    try:
        raw = bounded_yaml.load(text)  # a document from outside: aliases cannot make it huge
    except bounded_yaml.DocumentTooLarge as exc:
        raise RuleSetError(f"{source}: too large: {exc}") from exc
    except yaml.YAMLError as exc:
        raise RuleSetError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise RuleSetError(f"{source}: {what} must be a mapping")
    return raw


def parse_document(text: str, source: str, model: type[_M], what: str) -> _M:
    """Validate a YAML document whole; any fault refuses all of it, naming file, indicator and field."""
    raw = read_mapping(text, source, what)
    try:
        doc = model.model_validate(raw)
    except ValidationError as exc:
        raise RuleSetError("; ".join(f"{source}: {_locate(raw, tuple(e['loc']))}: {e['msg']}"
                                     for e in exc.errors())) from exc
    return doc.model_copy(update={"content_hash": hashlib.sha256(text.encode()).hexdigest()})


def parse_rule_set(text: str, source: str) -> RuleSet:
    rs = parse_document(text, source, RuleSet, "a rule set")
    ids = [i.id for i in rs.indicators]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise RuleSetError(f"{source}: indicator ids repeated: {', '.join(dupes)}")
    return rs


def load_shipped() -> dict[str, RuleSet]:
    return {rs.id: rs for rs in (parse_rule_set(p.read_text(encoding="utf-8"), p.name)
                                 for p in sorted(RULESET_DIR.glob("*.yaml")))}


def in_force(rule_sets: dict[str, RuleSet], day: date) -> RuleSet:
    candidates = [rs for rs in rule_sets.values() if rs.in_force_on(day)]
    if not candidates:
        raise RuleSetError(f"no rule set is in force on {day.isoformat()}")
    return max(candidates, key=lambda rs: rs.effective_from)
