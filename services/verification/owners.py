"""A module owner's answer: its registry's facts turned into items, each checked against its declared type.

Pure: the module's declarations come in as scoring publishes them (`GET /v1/modules/{id}`), the
registry's answer as JSON. An item is `<module>/<indicator>`, so two modules' indicators never
collide with each other or with the departments' items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.verification.domain import Answer, ItemState
from shared.module_facts import type_fault

OWNER_SOURCE = "owner"


@dataclass(frozen=True)
class OwnerFact:
    """One fact the owner's registry answers for one module indicator."""

    item: str
    fact: str
    type: str


@dataclass(frozen=True)
class OwnerModule:
    id: str
    owner: str
    facts: tuple[OwnerFact, ...]


def owner_module(doc: dict[str, Any]) -> OwnerModule:
    """A module as scoring publishes it, reduced to what its owner's registry answers."""
    sources = doc.get("fact_sources") or {}
    return OwnerModule(
        id=doc["id"],
        owner=doc["owner"],
        facts=tuple(
            OwnerFact(f"{doc['id']}/{indicator}", s["name"], s["type"])
            for indicator, s in sorted(sources.items())
            if s.get("source") == OWNER_SOURCE
        ),
    )


def owner_items(facts: list[OwnerFact], state: ItemState, reason: str) -> Answer:
    """Every item in one state: the owner has no registry, or it refused the question."""
    return Answer(items=[{"indicator": f.item, "state": state, "reason": reason} for f in facts])


def owner_answer(facts: list[OwnerFact], answer: Any) -> Answer:
    """The items and facts of the owner's registry's answer `{"facts": {name: value}}`. A fact
    missing (or null) is not on record; one of another type is returned, with the reason, and
    counts nothing. Never raises on what the registry sent."""
    found = answer.get("facts") if isinstance(answer, dict) else None
    if not isinstance(found, dict):
        return owner_items(facts, ItemState.RETURNED, 'the registry\'s answer is not {"facts": {...}}')
    out = Answer()
    for f in facts:
        value = found.get(f.fact)
        if value is None:
            out.items.append({"indicator": f.item, "state": ItemState.NOT_FOUND, "reason": "not on the owner's record"})
        elif why := type_fault(f.type, value):
            out.items.append({"indicator": f.item, "state": ItemState.RETURNED, "reason": f"{f.fact}: {why}"})
        else:
            out.items.append({"indicator": f.item, "state": ItemState.PASSED, "reason": None})
            out.facts[f.fact] = value
    return out


def facts_of_item(facts: list[OwnerFact], item: str) -> tuple[str, ...]:
    """The fact an owner's item rests on (what a desk decision may set, a re-verification renews)."""
    return tuple(f.fact for f in facts if f.item == item)
