"""Rule sets as data: the YAML format, validated whole on load, with a content hash."""
from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

RULESET_DIR = Path(__file__).resolve().parent.parent / "rulesets"


class RuleSetError(ValueError):
    """A rule file that cannot be used; the message names the file, the indicator and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Names(_Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class PerUnit(_Strict):
    kind: Literal["per_unit"]
    unit: float = Field(gt=0)
    points: float
    cap: float | None = Field(default=None, ge=0)


class Flag(_Strict):
    kind: Literal["flag"]
    points: float


Formula = Annotated[Union[PerUnit, Flag], Field(discriminator="kind")]


class Indicator(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    category: Literal["basic", "bonus", "deduction", "veto"]
    name: Names
    fact: str
    department: str
    formula: Formula


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
    eligibility: Eligibility | None = None
    indicators: list[Indicator] = Field(min_length=1)
    content_hash: str = ""

    def in_force_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


def _locate(raw: dict, loc: tuple) -> str:
    if len(loc) >= 2 and loc[0] == "indicators" and isinstance(loc[1], int):
        try:
            ind = raw["indicators"][loc[1]].get("id", f"#{loc[1]}")
        except (IndexError, AttributeError, KeyError, TypeError):
            ind = f"#{loc[1]}"
        field = ".".join(str(p) for p in loc[2:]) or "(indicator)"
        return f"indicator {ind!r}, field {field!r}"
    return f"field {'.'.join(str(p) for p in loc)!r}"


def parse_rule_set(text: str, source: str) -> RuleSet:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleSetError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise RuleSetError(f"{source}: a rule set must be a mapping")
    try:
        rs = RuleSet.model_validate(raw)
    except ValidationError as exc:
        msgs = [f"{source}: {_locate(raw, tuple(e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise RuleSetError("; ".join(msgs)) from exc
    ids = [i.id for i in rs.indicators]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise RuleSetError(f"{source}: indicator ids repeated: {', '.join(dupes)}")
    digest = hashlib.sha256(text.encode()).hexdigest()
    return rs.model_copy(update={"content_hash": digest})


def load_shipped() -> dict[str, RuleSet]:
    return {rs.id: rs for rs in (parse_rule_set(p.read_text(encoding="utf-8"), p.name)
                                 for p in sorted(RULESET_DIR.glob("*.yaml")))}


def in_force(rule_sets: dict[str, RuleSet], day: date) -> RuleSet:
    candidates = [rs for rs in rule_sets.values() if rs.in_force_on(day)]
    if not candidates:
        raise RuleSetError(f"no rule set is in force on {day.isoformat()}")
    return max(candidates, key=lambda rs: rs.effective_from)
