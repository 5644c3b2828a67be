"""The facts a module owner's registry answers: their declared types, and whether an answer fits one.

Scoring reads the declarations in a module file (`fact: {name, type, source: owner}`); the
owner's verifier checks each answer against its declared type before anything is scored, so a
registry that answers garbage gets the item returned with the reason, never a silent 0.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

FactType = Literal["boolean", "number", "date", "text", "spans"]
FACT_TYPES: tuple[str, ...] = ("boolean", "number", "date", "text", "spans")


def _iso_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _span(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) <= {"start", "end"}
        and _iso_date(value.get("start"))
        and (value.get("end") is None or _iso_date(value["end"]))
    )


def type_fault(fact_type: str, value: Any) -> str | None:
    """Why `value` is not a `fact_type` (as JSON carries it), or None when it is one."""
    ok = {
        "boolean": isinstance(value, bool),
        # JSON's true is no number, nor is NaN or infinity (json.loads reads them; nothing should send them)
        "number": isinstance(value, int | float) and not isinstance(value, bool) and value == value,
        "date": _iso_date(value),
        "text": isinstance(value, str),
        "spans": isinstance(value, list) and all(_span(s) for s in value),
    }.get(fact_type)
    if ok is None:
        return f"{fact_type!r} is not a fact type"
    if ok and fact_type == "number" and abs(value) == float("inf"):
        ok = False
    if ok:
        return None
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    expected = {
        "boolean": "true or false",
        "number": "a number",
        "date": "a date (YYYY-MM-DD)",
        "text": "a text",
        "spans": "a list of {start, end} date spans",
    }[fact_type]
    return f"the registry answered {shown}, not {expected}"
