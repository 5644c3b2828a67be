"""Rule sets as data: the YAML format, validated whole on load, with a content hash.

An indicator reads one fact of the holder, optionally *measures* it (turns spans of dates
into full years, insurance spans into countable months, a birth date into an age, dated
amounts into a sum inside the look-back window: measures.py), and scores the measure with one
formula (one kind per module in formulas/).
Every edge rule of the published indicator system is a field here, not code elsewhere.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from services.scoring.engine import bounded_yaml
from services.scoring.engine.formulas import Formula

# The measure kinds are part of the rule-file format; importable from here as before.
from services.scoring.engine.measures import Age, InsuranceMonths, Measure, SpanYears, SumInLookback  # noqa: F401
from services.scoring.engine.schema import Names, Strict

RULESET_DIR = Path(__file__).resolve().parent.parent / "rulesets"


class RuleSetError(ValueError):
    """A rule file that cannot be used; the message names the file, the indicator and the field."""


_M = TypeVar("_M", bound=BaseModel)


class Indicator(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    category: Literal["basic", "bonus", "deduction", "veto"]
    name: Names
    department: str
    fact: str | None = None
    measure: Measure | None = None
    formula: Formula
    source: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Indicator:
        self.formula.check(self)  # each kind knows what it needs of its indicator
        return self


class Eligibility(Strict):
    """The permit's state decides whether anything is scored: `scored` states are, `pause` states
    pause the score, `void` states void it, and a state the rule set does not name is refused."""

    fact: str
    department: str
    scored: list[str] = Field(default_factory=lambda: ["valid"])
    void: list[str] = Field(default_factory=list)
    pause: list[str] = Field(default_factory=list)

    def outcome(self, state: str | None) -> str:
        """scored, paused, void or refused for one state (missing: as good as no permit found)."""
        state = state or "not_found"
        if state in self.void:
            return "void"
        if state in self.pause:
            return "paused"
        return "scored" if state in self.scored else "refused"

    def unnamed_reason(self, state: str) -> str:
        return f"{self.fact}: {state!r} is a state the rule set does not name, so nothing is scored"


class RuleSet(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: Names
    effective_from: date
    effective_to: date | None = None
    lookback_years: int = Field(5, ge=0)
    eligibility: Eligibility | None = None
    indicators: list[Indicator] = Field(min_length=1)
    content_hash: str = ""  # sha256 of the exact text below, as published
    source_text: str = Field("", exclude=True)  # the document as uploaded or shipped, byte for byte

    @model_validator(mode="after")
    def _period(self) -> RuleSet:
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to must be after effective_from")
        return self

    def in_force_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    def indicator(self, indicator_id: str) -> Indicator:
        return next(i for i in self.indicators if i.id == indicator_id)


def _locate(raw: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    if len(loc) >= 2 and loc[0] == "indicators" and isinstance(loc[1], int):
        try:
            ind = raw["indicators"][loc[1]].get("id", f"#{loc[1]}")
        except (IndexError, AttributeError, KeyError, TypeError):
            ind = f"#{loc[1]}"
        field = (
            ".".join(str(p) for p in loc[2:] if not str(p).startswith(("function-after", "tagged-union")))
            or "(indicator)"
        )
        return f"indicator {ind!r}, field {field!r}"
    return f"field {'.'.join(str(p) for p in loc) or '(rule set)'!r}"


def read_mapping(text: str, source: str, what: str) -> dict[str, Any]:
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
        raise RuleSetError(
            "; ".join(f"{source}: {_locate(raw, tuple(e['loc']))}: {e['msg']}" for e in exc.errors())
        ) from exc
    return doc.model_copy(update={"content_hash": hashlib.sha256(text.encode()).hexdigest(), "source_text": text})


def parse_rule_set(text: str, source: str) -> RuleSet:
    rs = parse_document(text, source, RuleSet, "a rule set")
    ids = [i.id for i in rs.indicators]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise RuleSetError(f"{source}: indicator ids repeated: {', '.join(dupes)}")
    return rs


def load_shipped() -> dict[str, RuleSet]:
    return {
        rs.id: rs
        for rs in (parse_rule_set(p.read_text(encoding="utf-8"), p.name) for p in sorted(RULESET_DIR.glob("*.yaml")))
    }


def in_force(rule_sets: dict[str, RuleSet], day: date) -> RuleSet:
    candidates = [rs for rs in rule_sets.values() if rs.in_force_on(day)]
    if not candidates:
        raise RuleSetError(f"no rule set is in force on {day.isoformat()}")
    return max(candidates, key=lambda rs: rs.effective_from)
