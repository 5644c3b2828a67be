"""模拟积分 for a holder: what they know about themselves → the facts the engine reads → the points,
line by line, with how each line was computed, in Chinese.

Pure: no I/O, no clock (the cut-off comes in). A holder knows "eight years of residence", not the
registry's spans; each answer becomes the one fact a department would report that yields exactly
that measure before the cut-off (a span ending on it, an event inside the look-back).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from services.scoring.engine.formulas.best_of import BestOf
from services.scoring.engine.formulas.bracket import BracketTable
from services.scoring.engine.formulas.events import Events
from services.scoring.engine.formulas.flag import Flag
from services.scoring.engine.formulas.highest import Highest
from services.scoring.engine.formulas.per_item import PerItem
from services.scoring.engine.formulas.per_unit import PerUnit
from services.scoring.engine.formulas.veto import Veto
from services.scoring.engine.rules import RuleSet
from shared import names
from shared.calendar import shift_years


@dataclass(frozen=True)
class Answers:
    """What a holder says about themselves: no name, no ID number, nothing that identifies them."""

    birth_date: date
    education: str | None = None
    skill_title: str | None = None
    employed: bool = False
    insurance_months: int = 0
    residence_years: int = 0
    own_home: bool = False
    rental_years: int = 0
    volunteer_hours: float = 0
    charity_yuan: float = 0
    income_tax_yuan: float = 0
    blood_donated_ml: float = 0
    marrow_donated: bool = False
    honours: list[str] = field(default_factory=list)  # one level per matter
    patents: list[str] = field(default_factory=list)  # one role per patent
    offences: list[str] = field(default_factory=list)  # cases inside the look-back


def shift_months(day: date, months: int) -> date:
    """The first of the month `months` before `day`'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def facts_of(answers: Answers, cut_off: date) -> dict[str, Any]:
    """The facts the departments would report for these answers, measured on `cut_off`."""
    recent = cut_off - timedelta(days=30)  # inside any look-back, before the cut-off
    spans = lambda years: [{"start": shift_years(cut_off, -years), "end": None}] if years else []  # noqa: E731
    return {
        "permit_status": "valid",
        "birth_date": answers.birth_date,
        "education": [answers.education] if answers.education else [],
        "skill_title": [answers.skill_title] if answers.skill_title else [],
        "employed": answers.employed,
        "social_insurance_spans": [
            {"start": shift_months(cut_off, answers.insurance_months), "end": None, "kind": "pension"}
        ]
        if answers.insurance_months
        else [],
        "residence_spans": spans(answers.residence_years),
        "own_home": answers.own_home,
        "rental_spans": spans(answers.rental_years),
        "volunteer_service": [{"date": recent, "hours": answers.volunteer_hours}] if answers.volunteer_hours else [],
        "charity_donations": [{"date": recent, "yuan": answers.charity_yuan}] if answers.charity_yuan else [],
        "income_tax": [{"date": recent, "yuan": answers.income_tax_yuan}] if answers.income_tax_yuan else [],
        "blood_donated_ml": answers.blood_donated_ml,
        "marrow_donated": answers.marrow_donated,
        "honours": [{"matter": f"M{i}", "level": level} for i, level in enumerate(answers.honours)],
        "patents": [{"role": role} for role in answers.patents],
        # One act per case: different acts each count (one act counts once, at its largest).
        "offences": [{"date": recent, "act": f"A{i}", "case": case} for i, case in enumerate(answers.offences)],
    }


def _n(x: float) -> str:
    return f"{x:g}"


def _unit(fact: str | None) -> str:
    return names.FACT_UNITS.get(fact or "", "")


def _label_zh(label: str) -> str:
    for table in (names.EDUCATION_LEVELS, names.SKILL_LEVELS, names.HOUSING_OPTIONS):
        if label in table:
            return table[label].zh
    return "其他"


def _per_unit(f: PerUnit, value: float, unit: str) -> str:
    rule = f"每{_n(f.unit)}{unit}计{_n(f.points)}分"
    if f.threshold:
        rule = f"满{_n(f.threshold)}{unit}计{_n(f.base)}分，超出部分{rule}"
    return f"{_n(value)}{unit}；{rule}"


def computation_zh(formula: Any, fact: str | None, line: dict[str, Any]) -> str:
    """How a line's points came about, in a sentence a holder can check by hand."""
    fv = line["fact_value"]
    value, counted = (fv["value"], fv["counted"]) if isinstance(fv, dict) else (fv, None)
    raw, points, cap = line["raw_points"], line["points"], line["cap"]
    unit = _unit(fact)
    if isinstance(formula, BestOf):
        option = next((o for o in formula.options if o.name == counted), None)
        if option is None:
            text = "无自有住房或登记租赁"
        elif isinstance(option.formula, PerUnit):
            text = f"{_label_zh(option.name)}{_per_unit(option.formula, value, _unit(option.fact))}"
        else:
            text = f"{_label_zh(option.name)}：计{_n(option.formula.points)}分"
    elif isinstance(formula, PerUnit):
        text = _per_unit(formula, value, unit)
    elif isinstance(formula, BracketTable):
        text = f"{_n(value)}{unit}，按年龄段计分"
    elif isinstance(formula, Highest):
        text = f"最高一项：{_label_zh(counted)}" if counted else "无相关记录"
    elif isinstance(formula, Flag):
        text = f"符合，计{_n(formula.points)}分" if value else "不符合，计0分"
    elif isinstance(formula, PerItem):
        text = f"共{_n(value)}项，按级别累计" if value else "无相关记录"
    elif isinstance(formula, Events):
        text = f"有此记录，扣{_n(-formula.points)}分" if raw else "无此记录，不扣分"
    elif isinstance(formula, Veto):
        return "有此情形，一票否决" if value else "无此情形"
    else:
        text = ""
    says_points = isinstance(formula, (Flag, Events)) or (isinstance(formula, BestOf) and counted == "own_home")
    if not says_points:
        text = f"{text}，得{_n(raw)}分" if text else f"得{_n(raw)}分"
    if cap is not None and raw > cap:
        text += f"；超过上限{_n(cap)}分，按{_n(cap)}分计"
    elif cap is not None:
        text += f"（上限{_n(cap)}分）"
    if points != min(raw, cap if cap is not None else raw):
        text += f"；计入{_n(points)}分"
    return text


def estimate_doc(rule_set: RuleSet, explanation: dict[str, Any]) -> dict[str, Any]:
    """The answer a holder reads: the rule set in force, the status, totals and every line explained."""
    lines = []
    for ind, line in zip(rule_set.indicators, explanation["lines"], strict=True):
        lines.append(
            {
                "indicator": ind.id,
                "name_zh": ind.name.zh,
                "name_en": ind.name.en,
                "category": ind.category,
                "category_zh": names.zh(names.CATEGORIES, ind.category),
                "raw_points": line["raw_points"],
                "cap": line["cap"],
                "points": line["points"],
                "computation_zh": computation_zh(ind.formula, ind.fact, line),
            }
        )
    return {
        "rule_set": {
            "id": rule_set.id,
            "name_zh": rule_set.name.zh,
            "name_en": rule_set.name.en,
            "content_hash": rule_set.content_hash,
            "effective_from": rule_set.effective_from.isoformat(),
        },
        "cut_off_date": explanation["cut_off_date"],
        "status": explanation["status"],
        "status_zh": names.zh(names.SCORE_STATUSES, explanation["status"]),
        "reason_zh": names.reason_zh(explanation.get("reason")),
        "total": explanation["total"],
        "categories": [
            {"category": c, "name_zh": names.zh(names.CATEGORIES, c), "points": p}
            for c, p in explanation["categories"].items()
        ],
        "lines": lines,
    }
