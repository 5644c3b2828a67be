"""An explanation a holder can check: per line, the rule in words and numbers, the window it
counts in, and every record behind it, counted or left out with the reason.

The vectorised engine gives the points; this walks one holder's facts in plain Python, through
each formula kind's own `account` (and its measure's), so what it says is what the rules say.
It runs for the applications and estimates explained, never for a whole simulated city.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.scoring.engine.formulas import Holder
from services.scoring.engine.formulas.base import Label, number
from services.scoring.engine.rules import RuleSet

# Measures and kinds that count inside the look-back window (their lines show its dates).
WINDOWED = ("sum_in_lookback",)


# A rule set's rules in words, by (content hash, label): the same for every holder explained.
_RULES: dict[tuple[str, Any], dict[str, tuple[str, bool]]] = {}


def _rules(rule_set: RuleSet, label: Label) -> dict[str, tuple[str, bool]]:
    """indicator id → (its rule in words, whether it counts inside the look-back window)."""
    key = (rule_set.content_hash or rule_set.id, label)
    if key not in _RULES:
        if len(_RULES) > 64:  # drafts come and go (simulations): keep the cache small
            _RULES.clear()
        _RULES[key] = {
            ind.id: (
                ind.formula.rule_text(ind, label),
                getattr(ind.measure, "kind", None) in WINDOWED or ind.formula.kind == "events",
            )
            for ind in rule_set.indicators
        }
    return _RULES[key]


def account_lines(rule_set: RuleSet, facts: dict[str, Any], cut_off: date, label: Label = str) -> dict[str, Any]:
    """indicator id → {rule, window, records} for one holder."""
    holder = Holder(rule_set, facts, cut_off)
    window = {"from": holder.lookback_start.isoformat(), "to_before": cut_off.isoformat()}
    rules = _rules(rule_set, label)
    return {
        ind.id: {
            "rule": rules[ind.id][0],
            "window": window if rules[ind.id][1] else None,
            "records": ind.formula.account(ind, holder),
        }
        for ind in rule_set.indicators
    }


def summary_zh(line: dict[str, Any], value: str = "") -> str:
    """The line in one sentence: the holder's fact, the rule, what was left out, the points counted."""
    left_out = sum(1 for r in line.get("records") or [] if r["counted"] is None and r["record"] is not None)
    text = f"{line['name_zh']}：{value + '；' if value else ''}{line['rule']}"
    if line.get("cap") is not None and line["raw_points"] > line["cap"]:
        text += f"；按规则得{number(line['raw_points'])}分，超过上限"
    if left_out:
        text += f"；另有{left_out}条记录未计入（原因见明细）"
    return f"{text}；计{number(line['points'])}分。"


def explain_lines(explanation: dict[str, Any], rule_set: RuleSet, facts: dict[str, Any], label: Label = str) -> None:
    """Add each line's rule, window, records and sentence to an explanation (in place)."""
    cut_off = date.fromisoformat(explanation["cut_off_date"])
    accounts = account_lines(rule_set, facts, cut_off, label)
    for ind, line in zip(rule_set.indicators, explanation["lines"], strict=True):
        line.update(accounts[line["indicator"]])
        line["summary_zh"] = summary_zh(line, ind.formula.value_text(ind, line["fact_value"], label))
