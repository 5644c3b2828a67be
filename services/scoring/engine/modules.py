"""X-modules: how a district or department applies the score to its own service.

A module adds guiding indicators in the rule-set format, an eligibility rule, a threshold
or a quota per round, and ordered tie-breakers. Module points are computed beside the base
score; for a child (school enrolment) the higher of the parents' scores counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from services.scoring.engine.evaluate import SCORED, Evaluation, evaluate
from services.scoring.engine.fact_sources import FactSource, fault
from services.scoring.engine.population import Population
from services.scoring.engine.rules import Indicator, RuleSet, RuleSetError, in_force, parse_document
from services.scoring.engine.schema import Names, Strict

MODULE_DIR = Path(__file__).resolve().parent.parent / "modules"


class Requirement(Strict):
    """A candidate qualifies only if the fact is at least `min` (or equals `equals`)."""

    fact: str
    min: float | None = None
    equals: str | None = None


class Round(Strict):
    """From `from` on: the points needed (a published cut-off line) and/or the places available."""

    from_: date = Field(alias="from")
    threshold: float | None = None
    quota: int | None = Field(default=None, ge=1)


class TieBreaker(Strict):
    """`total`, `category:<basic|bonus|deduction>`, `indicator:<id>` (its points),
    `indicator:<id>:value` (its measured fact) or `fact:<name>` (a scalar fact)."""

    key: str = Field(pattern=r"^(total|category:[a-z]+|indicator:[a-z0-9_]+(:value)?|fact:[a-z0-9_]+)$")
    order: Literal["desc", "asc"] = "desc"
    name: Names | None = None


class Module(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    owner: str = Field(pattern=r"^(city|district:[a-z0-9_-]+|department:[a-z0-9_-]+)$")
    name: Names
    effective_from: date
    effective_to: date | None = None
    candidate: Literal["holder", "child"] = "holder"
    indicators: list[Indicator] = Field(default_factory=list)
    requires: list[Requirement] = Field(default_factory=list)
    rounds: list[Round] = Field(default_factory=list)
    tie_breakers: list[TieBreaker] = Field(default_factory=list)
    # Indicator id -> its fact declared with type and source (`fact: {name, type, source}` in the
    # file); an indicator with the short form (`fact: <name>`) reads a department's fact.
    fact_sources: dict[str, FactSource] = Field(default_factory=dict)
    source: str | None = None
    content_hash: str = ""  # sha256 of the exact text below
    source_text: str = Field("", exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _declared_facts(cls, raw: Any) -> Any:
        """Lift each `fact: {name, type, source}` into `fact_sources`, leaving the engine its fact's name."""
        if not isinstance(raw, dict) or not isinstance(raw.get("indicators"), list):
            return raw
        sources = dict(raw.get("fact_sources") or {})
        indicators = []
        for i, ind in enumerate(raw["indicators"]):
            if isinstance(ind, dict) and isinstance(ind.get("fact"), dict):
                sources[str(ind.get("id", f"#{i}"))] = ind["fact"]
                ind = {**ind, "fact": ind["fact"].get("name")}
            indicators.append(ind)
        return {**raw, "indicators": indicators, "fact_sources": sources}

    def round_on(self, day: date) -> Round | None:
        current = [r for r in self.rounds if r.from_ <= day]
        return max(current, key=lambda r: r.from_) if current else None

    def in_force_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


def parse_module(text: str, source: str) -> Module:
    """Validate a module file whole: the format, and that something answers every indicator's fact.
    Registration (`PUT /v1/modules/{id}`) refuses with this function's fault (a 422 naming the indicator)."""
    module = parse_document(text, source, Module, "a module")
    faults = fact_faults(module)
    if faults:
        raise RuleSetError("; ".join(f"{source}: indicator {ind!r}, field 'fact': {why}" for ind, why in faults))
    return module


def fact_faults(module: Module) -> list[tuple[str, str]]:
    """(indicator id, why) for each indicator whose fact nothing answers."""
    ids = {i.id for i in module.indicators}
    faults = [(ind, "declared for no indicator of the module") for ind in module.fact_sources if ind not in ids]
    for ind in module.indicators:
        declared = module.fact_sources.get(ind.id)
        why = fault(module.owner, ind.fact, declared)
        if why is None and declared is not None and declared.name != ind.fact:
            why = "the declared fact's name differs from the indicator's fact"
        if why is None and declared is not None and declared.source == "owner" and len(f"{module.id}/{ind.id}") > 60:
            # The owner's item is `<module>/<indicator>` wherever it is kept and named (intake, objections).
            why = f"the owner's item {module.id}/{ind.id} is longer than 60 characters: shorten the ids"
        if why:
            faults.append((ind.id, why))
    return faults


def module_faults(module: Module, rule_sets: dict[str, RuleSet]) -> list[tuple[str, str]]:
    """What a well-formed module asks that the rule sets cannot give: (field, message) pairs.

    A tie-breaker naming an unknown indicator would silently separate nobody, and a module's own
    indicator under a city indicator's id would be ambiguous in every explanation.
    """
    city = {i.id for rs in rule_sets.values() for i in rs.indicators}
    own = {i.id for i in module.indicators}
    faults = [
        (f"indicators[{n}].id", f"{i.id!r} is already an indicator of the city's rule sets; choose another id")
        for n, i in enumerate(module.indicators)
        if i.id in city
    ]
    for n, t in enumerate(module.tie_breakers):
        kind, _, rest = t.key.partition(":")
        if kind == "indicator" and rest.partition(":")[0] not in city | own:
            faults.append((f"tie_breakers[{n}].key", f"{t.key!r} names no indicator of the module or the rule sets"))
        if kind == "category" and rest not in ("basic", "bonus", "deduction"):
            faults.append((f"tie_breakers[{n}].key", f"{t.key!r}: a category is basic, bonus or deduction"))
    return faults


def load_shipped_modules() -> dict[str, Module]:
    return {
        m.id: m
        for m in (parse_module(p.read_text(encoding="utf-8"), p.name) for p in sorted(MODULE_DIR.glob("*.yaml")))
    }


@dataclass
class ModuleResult:
    module: Module
    base: Evaluation
    extra: Evaluation | None
    chosen: np.ndarray  # per candidate: the population row whose score counts (-1: none)
    eligible: np.ndarray
    total: np.ndarray  # base + module points of the counted row
    rank: np.ndarray  # 1-based among eligible candidates, 0 when not eligible
    qualified: np.ndarray
    round: Round | None
    # Per candidate, what it is ranked by: the total, then each tie-breaker signed so larger ranks first.
    sort_keys: np.ndarray  # shape (1 + tie-breakers, candidates)

    def candidate(self, c: int) -> dict[str, Any]:
        row = int(self.chosen[c])
        lines = self.extra.explain(row)["lines"] if self.extra is not None and row >= 0 else []
        return {
            "eligible": bool(self.eligible[c]),
            "base_total": float(self.base.totals[row]) if row >= 0 else 0.0,
            "module_points": float(sum(line["points"] for line in lines)),
            "total": float(self.total[c]),
            "rank": int(self.rank[c]) or None,
            "qualified": bool(self.qualified[c]),
            "counted_row": row,
            "lines": lines,
            "sort_key": [float(k) for k in self.sort_keys[:, c]],
        }


def _extra_rule_set(module: Module, base: RuleSet) -> RuleSet | None:
    if not module.indicators:
        return None
    return RuleSet(
        id=module.id,
        name=module.name,
        effective_from=module.effective_from,
        lookback_years=base.lookback_years,
        indicators=module.indicators,
        content_hash=module.content_hash,
    )


def _tie_value(key: str, base: Evaluation, extra: Evaluation | None, totals: np.ndarray, pop: Population) -> np.ndarray:
    if key == "total":
        return totals
    kind, _, rest = key.partition(":")
    if kind == "category":
        return base.category_totals()[rest]
    if kind == "indicator":
        ind_id, _, part = rest.partition(":")
        for ev in (base, extra):
            if ev is None:
                continue
            ids = [i.id for i in ev.rule_set.indicators]
            if ind_id in ids:
                k = ids.index(ind_id)
                row: np.ndarray = (ev.values if part == "value" else ev.counted)[k].astype(float)
                return row
        return np.zeros(pop.n)  # an indicator this rule set lacks separates nobody
    col = pop.scalars.get(rest)
    if col is None or col.dtype.kind not in "fiub":
        return np.zeros(pop.n)
    numbers: np.ndarray = np.nan_to_num(col.astype(float))
    return numbers


def evaluate_module(
    module: Module,
    rule_sets: dict[str, RuleSet],
    pop: Population,
    cut_off: date,
    candidate_of: np.ndarray | None = None,
    base: Evaluation | None = None,
    rules_on: date | None = None,
) -> ModuleResult:
    """Score rows of `pop` under the base rule set and the module; rank candidates.

    `candidate_of[row]` says which candidate a row belongs to (parents of one child share
    it); by default every row is its own candidate. The rule set and the round's line are those in
    force on `rules_on` (the application's or the round's date; by default the cut-off); facts
    count up to the cut-off.
    """
    rules_on = rules_on or cut_off
    base_rs = in_force(rule_sets, rules_on)
    base = base if base is not None else evaluate(base_rs, pop, cut_off)
    extra_rs = _extra_rule_set(module, base_rs)
    extra = evaluate(extra_rs, pop, cut_off) if extra_rs is not None else None
    row_ok = base.status_code == SCORED
    for req in module.requires:
        col = pop.scalars.get(req.fact)
        if col is None:
            row_ok &= False
        elif req.equals is not None:
            row_ok &= np.asarray(col.decode() if hasattr(col, "decode") else col, dtype=str) == req.equals
        elif req.min is not None:
            row_ok &= np.nan_to_num(np.asarray(col, dtype=float)) >= req.min
    row_total = base.totals + (extra.totals if extra is not None else 0.0)
    owner = np.arange(pop.n) if candidate_of is None else np.asarray(candidate_of)
    m = int(owner.max()) + 1 if len(owner) else 0
    # Per candidate, the row with the highest total among eligible rows (a child: the better parent).
    score = np.where(row_ok, row_total, -np.inf)
    order = np.lexsort((score, owner))
    last = np.ones(len(order), dtype=bool)
    last[:-1] = owner[order][1:] != owner[order][:-1]
    chosen = np.full(m, -1)
    chosen[owner[order[last]]] = order[last]
    eligible = np.zeros(m, dtype=bool)
    eligible[chosen >= 0] = row_ok[chosen[chosen >= 0]]
    rows = np.maximum(chosen, 0)
    total = np.where(eligible, row_total[rows], 0.0)
    rnd = module.round_on(rules_on)
    # Rank: total first, then each tie-breaker in order (np.lexsort takes the primary key last).
    keys = [total]
    for tb in module.tie_breakers:
        keys.append(_tie_value(tb.key, base, extra, row_total, pop)[rows] * (1 if tb.order == "desc" else -1))
    sort_keys = [-k for k in reversed(keys)] + [~eligible]
    ranking = np.lexsort(sort_keys)
    rank = np.zeros(m, dtype=np.int64)
    n_eligible = int(eligible.sum())
    rank[ranking[:n_eligible]] = np.arange(1, n_eligible + 1)
    qualified = eligible.copy()
    if rnd is not None and rnd.threshold is not None:
        qualified &= total >= rnd.threshold
    if rnd is not None and rnd.quota is not None:
        qualified &= (rank > 0) & (rank <= rnd.quota)
    return ModuleResult(module, base, extra, chosen, eligible, total, rank, qualified, rnd, np.vstack(keys))
