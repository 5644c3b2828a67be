"""Where a module's facts come from: a department, a derivation from departments' facts, or the owner.

A module indicator names its fact in the short form (`fact: residence_spans`: one the departments
report) or declares it: `fact: {name: key_enterprise_employee, type: boolean, source: owner}`
(the owner's registry answers it), `source: department:police` or `source: derived` (computed
here from the departments' facts). A fact that nothing answers refuses the module, naming the
indicator. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from services.scoring.engine.schema import Strict
from shared.departments import FACTS_BY_DEPARTMENT
from shared.module_facts import FactType

OWNER = "owner"
DERIVED = "derived"


class FactSource(Strict):
    """A module indicator's fact, declared with its type and where it comes from."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: FactType
    source: str = Field(pattern=r"^(owner|derived|department:[a-z_]+)$")


@dataclass(frozen=True)
class Derivation:
    """A fact computed from departments' facts for one module owner."""

    type: str
    reads: tuple[str, str]  # (department, fact)
    owners: str  # the owner kind it is defined for ("district")
    compute: Callable[[dict[str, Any], str], Any]  # (holder's facts, the owner's name) -> value


def _district_residence_spans(facts: dict[str, Any], district: str) -> list[dict[str, Any]]:
    """The police residence record's spans inside the district."""
    return [
        {"start": r["start"], "end": r.get("end")}
        for r in facts.get("residence_districts") or []
        if r.get("district") == district
    ]


DERIVATIONS: dict[str, Derivation] = {
    "district_residence_spans": Derivation(
        "spans", ("police", "residence_districts"), "district", _district_residence_spans
    ),
}
DEPARTMENT_FACTS = frozenset(f for facts in FACTS_BY_DEPARTMENT.values() for f in facts)


def fault(owner: str, fact: str | None, declared: FactSource | None) -> str | None:
    """Why nothing answers the indicator's fact for a module of `owner`, or None when something does."""
    if declared is None:
        if fact is None or fact in DEPARTMENT_FACTS:
            return None
        return (
            f"nothing answers the fact {fact!r}: no department reports it; declare it "
            f"{{name: {fact}, type: ..., source: owner}} if the owner's registry holds it"
        )
    if declared.source == OWNER:
        if owner == "city":
            return f"nothing answers the fact {declared.name!r}: the city has no registry of its own; name a department"
        return None
    if declared.source == DERIVED:
        derivation = DERIVATIONS.get(declared.name)
        if derivation is None:
            return f"nothing answers the fact {declared.name!r}: no derivation of that name ({', '.join(DERIVATIONS)})"
        if not owner.startswith(derivation.owners + ":"):
            return f"the fact {declared.name!r} is derived for a {derivation.owners}'s module only"
        if derivation.type != declared.type:
            return f"the fact {declared.name!r} is of type {derivation.type!r}, not {declared.type!r}"
        return None
    department = declared.source.removeprefix("department:")
    if declared.name not in FACTS_BY_DEPARTMENT.get(department, ()):
        return f"nothing answers the fact {declared.name!r}: the department {department!r} does not report it"
    return None


def owner_facts(sources: dict[str, FactSource]) -> dict[str, FactSource]:
    """Indicator id -> declaration, for the facts the owner's registry answers."""
    return {ind: s for ind, s in sources.items() if s.source == OWNER}


def derived_facts(sources: dict[str, FactSource], facts: dict[str, Any], owner: str) -> dict[str, Any]:
    """The module's derived facts of one holder, from the departments' facts."""
    name = owner.partition(":")[2]
    return {s.name: DERIVATIONS[s.name].compute(facts, name) for s in sources.values() if s.source == DERIVED}
