"""Turning the registries' raw facts (spans of dates) into the units the rules count.

These are rules too (indicators.md, general rules): spans with gaps are summed, 30 days
make a month and 12 months a year, remainders earn nothing, and transferred-in or
back-paid insurance months never count. Callers pass spans; the engine decides.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable


def _d(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def residence_days(spans: Iterable[dict[str, Any]], cut_off: date) -> int:
    """Days of residence before the cut-off date, overlapping spans counted once."""
    ranges = sorted((_d(s["start"]), min(_d(s["end"]) if s.get("end") else cut_off, cut_off)) for s in spans)
    total, cur_start, cur_end = 0, None, None
    for start, end in ranges:
        if end <= start:
            continue
        if cur_end is None or start > cur_end:
            if cur_end is not None:
                total += (cur_end - cur_start).days
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    if cur_end is not None:
        total += (cur_end - cur_start).days
    return total


def residence_years(spans: Iterable[dict[str, Any]], cut_off: date) -> int:
    return (residence_days(spans, cut_off) // 30) // 12


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def social_insurance_months(spans: Iterable[dict[str, Any]], cut_off: date,
                            kinds: frozenset[str] = frozenset({"pension", "medical"})) -> int:
    """Distinct contribution months before the cut-off month, excluding transferred-in and back-paid ones."""
    last = _month_index(cut_off) - 1
    months: set[int] = set()
    for s in spans:
        if s.get("transferred_in") or s.get("back_paid") or s.get("kind") not in kinds:
            continue
        months.update(range(_month_index(_d(s["start"])), min(_month_index(_d(s["end"])), last) + 1))
    return len(months)


DERIVED = {
    "residence_years": lambda facts, cut_off: residence_years(facts.get("residence_spans", []), cut_off),
    "social_insurance_months": lambda facts, cut_off: social_insurance_months(facts.get("social_insurance_spans", []), cut_off),
}


def derive(fact: str, facts: dict[str, Any], cut_off: date) -> Any:
    if fact in DERIVED:
        return DERIVED[fact](facts, cut_off)
    return facts.get(fact, 0)
