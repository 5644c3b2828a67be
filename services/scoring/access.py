"""Who may read an application's score, its explanation and its facts: deny by default.

Keys are per service, so the identity shared with intake is the principal's name. A score is
shown whole to the partner that submitted the application (`scores:read`, same principal name
as in intake), to the holder through a partner app acting for them (`scores:holder`, presenting
the holder's ID number, checked against the holder's pseudonymous key: scoring keeps no ID
numbers), and to administrators; a department (`department:<name>`) that answered
the application sees only its own lines. Anyone else gets exactly the answer an unknown
application gets, so an application id (printed on public notices) tells them nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.auth import Principal
from shared.problems import Problem
from shared.pseudonyms import same_holder

PARTNER = "scores:read"
HOLDER = "scores:holder"
HOLDER_HEADER = "X-Holder-Id-Number"


@dataclass(frozen=True)
class Sight:
    """What of a score one principal sees: all of it, or the lines of these departments only."""

    departments: frozenset[str] | None = None

    @property
    def whole(self) -> bool:
        return self.departments is None


def require_reader(principal: Principal, holder_id_number: str | None) -> None:
    """Refuse a key that could read no score at all, before anything is looked up."""
    departments = principal.scoped_values("department")
    if not (principal.has(PARTNER) or principal.has(HOLDER) or departments):
        raise Problem(
            403, f"This key lacks a scope for reading scores (one of: {PARTNER}, {HOLDER}, department:<name>)."
        )
    if not (principal.has("admin") or principal.has(PARTNER) or departments) and not holder_id_number:
        raise Problem.at(HOLDER_HEADER, "required: a key acting for the holder presents the holder's ID number", 422)


async def sight_of(
    store: Any, application_id: str, principal: Principal, holder_id_number: str | None, salt: str
) -> Sight | None:
    """What this principal may see of the application's scores, or None (then: the unknown-id 404).
    `store`: scoring's Store (who submitted the application, which departments answered it)."""
    if principal.has("admin"):
        return Sight()
    submitted = await store.submitted(application_id)
    if submitted is not None:
        if (
            PARTNER in principal.scopes
            and submitted.principal is not None
            and submitted.principal == principal.principal
        ):
            return Sight()
        if (
            HOLDER in principal.scopes
            and holder_id_number
            and same_holder(submitted.holder.get("key"), holder_id_number, salt)
        ):
            return Sight()
    departments = principal.scoped_values("department")
    if departments:
        answered = await store.answered_by(application_id, departments)
        if answered:
            return Sight(frozenset(answered))
    return None


def shown(doc: dict[str, Any], sight: Sight) -> dict[str, Any]:
    """The score document as this sight shows it: a department gets its own lines and facts, and nothing
    that speaks of the others' (no total, status, reason or module results)."""
    if sight.whole:
        return doc
    lines = [line for line in doc["explanation"]["lines"] if line.get("department") in (sight.departments or ())]
    return {
        k: doc[k]
        for k in (
            "application_id",
            "version",
            "versions",
            "history",
            "round",
            "rule_set",
            "cut_off_date",
            "computed_at",
        )
        if k in doc
    } | {"departments": sorted(sight.departments or ()), "explanation": {"lines": lines}}
