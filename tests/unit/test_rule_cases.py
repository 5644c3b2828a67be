"""Rule cases as data (tests/rules/<rule set>/*.yaml): each case's facts scored through the service's
own code and through the one-holder reference, against the lines and totals worked out by hand.
The format is in tests/rules/README.md."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field

from services.scoring.domain import score_facts
from services.scoring.engine import reference
from services.scoring.engine.modules import load_shipped_modules
from services.scoring.engine.rules import load_shipped
from shared.calendar import cut_off_date

CASES = Path(__file__).resolve().parents[1] / "rules"
RULES = load_shipped()
MODULES = load_shipped_modules()


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule_set: str | None = None
    cut_off_date: date | None = None
    status: str | None = None
    reason_contains: str | None = None
    total: float | None = None
    categories: dict[str, float] = Field(default_factory=dict)
    lines: dict[str, float] = Field(default_factory=dict)
    modules: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    application_date: date
    acceptance_opens: date | None = None
    facts: dict[str, Any]
    expect: Expect


def cases() -> list[Any]:
    found = []
    for path in sorted(CASES.glob("*/*.yaml")):
        for n, raw in enumerate(yaml.safe_load(path.read_text(encoding="utf-8")) or []):
            case = Case.model_validate(raw)  # a malformed case fails collection, naming its field
            found.append(pytest.param(path.parent.name, case, id=f"{path.parent.name}/{path.stem}#{n + 1}"))
    return found


def as_json(facts: dict[str, Any]) -> dict[str, Any]:
    """Facts as a partner or a department sends them: dates as ISO text."""
    return json.loads(json.dumps(facts, default=str))


def test_every_rule_set_has_cases():
    assert {p.name for p in CASES.iterdir() if p.is_dir()} == set(RULES)


@pytest.mark.parametrize(("folder", "case"), cases())
def test_rule_case(folder: str, case: Case):
    expect = case.expect
    facts = as_json(case.facts)
    cut_off = cut_off_date(case.application_date, case.acceptance_opens)
    rules_on = case.acceptance_opens or case.application_date  # the rules in force on the application date
    got = score_facts(RULES, cut_off, facts, MODULES, rules_on)
    where = f"{case.name}: "
    assert got["rule_set_id"] == (expect.rule_set or folder), where + "rule set"
    if expect.cut_off_date is not None:
        assert got["cut_off_date"] == expect.cut_off_date.isoformat(), where + "cut-off date"
    if expect.status is not None:
        assert got["status"] == expect.status, where + f"status (reason: {got['reason']})"
    if expect.reason_contains is not None:
        assert expect.reason_contains in (got["reason"] or ""), where + "reason"
    if expect.total is not None:
        assert got["total"] == pytest.approx(expect.total), where + "total"
    for category, points in expect.categories.items():
        assert got["categories"][category] == pytest.approx(points), where + f"category {category}"
    counted = {line["indicator"]: line["points"] for line in got["lines"]}
    for indicator, points in expect.lines.items():
        assert indicator in counted, where + f"no line {indicator!r} in {got['rule_set_id']}"
        assert counted[indicator] == pytest.approx(points), where + f"line {indicator}"
    for module_id, wanted in expect.modules.items():
        doc = got["modules"][module_id]
        assert {k: doc[k] for k in wanted} == pytest.approx(wanted), where + f"module {module_id}"

    # The reference, one holder in plain Python, agrees line by line.
    ref = reference.score(RULES[got["rule_set_id"]], facts, cut_off)
    assert ref["status"] == got["status"], where + "reference status"
    assert ref["total"] == pytest.approx(got["total"]), where + "reference total"
    if got["status"] == "scored":
        assert ref["points"] == pytest.approx(counted), where + "reference lines"
