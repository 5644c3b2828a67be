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
    investment_tax_yuan: float = 0  # city tax a year of the enterprises one invested in (投资纳税)
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
        # The same yearly tax in each of the last three full years: its yearly mean is what was stated.
        "investment_tax": [
            {"enterprise": "E", "year": cut_off.year - 1 - k, "yuan": answers.investment_tax_yuan} for k in range(3)
        ]
        if answers.investment_tax_yuan
        else [],
        "blood_donated_ml": answers.blood_donated_ml,
        "marrow_donated": answers.marrow_donated,
        "honours": [{"matter": f"M{i}", "level": level} for i, level in enumerate(answers.honours)],
        "patents": [{"role": role} for role in answers.patents],
        # One act per case: different acts each count (one act counts once, at its largest).
        "offences": [{"date": recent, "act": f"A{i}", "case": case} for i, case in enumerate(answers.offences)],
    }


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
                # How the line came about, in one sentence: the same words as every explanation's.
                "computation_zh": line["summary_zh"],
                "rule": line["rule"],
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
