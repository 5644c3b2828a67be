"""A draft rule set: a whole rule set, or an amendment to one (`based_on` + the indicators it changes).

The policy office writes the change, not a copy of the whole system: indicators listed replace
those with the same id (or are added), ids under `remove` are dropped. The merged document is
validated like any rule set, so a bad draft is refused whole with the indicator and field named.
"""

from __future__ import annotations

from datetime import date

import yaml

from services.scoring.engine.rules import RuleSet, RuleSetError, parse_rule_set, read_mapping


def _fault(source: str, field: str, message: str) -> RuleSetError:
    return RuleSetError(f"{source}: field {field!r}: {message}")


def parse_draft(text: str, source: str, rule_sets: dict[str, RuleSet]) -> RuleSet:
    raw = read_mapping(text, source, "a draft")
    if "based_on" not in raw:
        return parse_rule_set(text, source)
    base_id = raw.pop("based_on")
    if not isinstance(base_id, str) or base_id not in rule_sets:
        raise _fault(source, "based_on", f"no rule set {base_id!r} (known: {', '.join(sorted(rule_sets))})")
    # Its own id: a report comparing "hangzhou-2021" with "hangzhou-2021" would tell nobody anything.
    if not isinstance(raw.get("id"), str) or raw["id"] == base_id:
        raise _fault(source, "id", f"a draft needs an id of its own (not {base_id!r})")
    base = rule_sets[base_id].model_dump(mode="json", by_alias=True, exclude={"content_hash"}, exclude_none=True)
    changed = raw.pop("indicators", None) or []
    removed = raw.pop("remove", None) or []
    if not isinstance(changed, list) or not all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in changed):
        raise _fault(source, "indicators", "a list of indicators, each with its id")
    if not isinstance(removed, list) or not all(isinstance(i, str) for i in removed):
        raise _fault(source, "remove", "a list of indicator ids")
    unknown = set(removed) - {i["id"] for i in base["indicators"]}
    if unknown:
        raise _fault(source, "remove", f"{base_id} has no indicator {', '.join(sorted(unknown))}")
    by_id = {i["id"]: i for i in changed}
    indicators = [by_id.pop(i["id"], i) for i in base["indicators"] if i["id"] not in removed] + list(by_id.values())
    merged = {**base, **raw, "indicators": indicators}
    return parse_rule_set(yaml.safe_dump(merged, allow_unicode=True, sort_keys=False), source)


def as_if_in_force(rule_set: RuleSet, day: date) -> RuleSet:
    """The rule set applied on `day` whatever its dates: a draft is simulated before it takes effect."""
    return rule_set.model_copy(update={"effective_from": min(rule_set.effective_from, day), "effective_to": None})
