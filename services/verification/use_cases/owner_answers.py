"""A module owner answers its own facts, as its own verifier: for applications naming one of its
modules, from the registry it registered, each look-up on the owner's audit chain.

The owner's answer travels like a department's (`verification.completed`, the owner as the
department), so intake lists its items, scoring waits for it and the desk decides its supplements.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from services.verification import domain, owners
from services.verification.audit.chain import append
from services.verification.registries_http import RegistryError
from shared.events.catalogue import ApplicationSubmitted, ReverificationRequested


class Catalogue(Protocol):
    async def owners_modules(self, owner: str, named: list[str]) -> list[owners.OwnerModule]: ...


class Registry(Protocol):
    async def facts(self, owner: str, source: Any, id_number: str, cut_off: Any, names: list[str]) -> Any: ...


NO_SOURCE = "the owner has registered no source for its facts (PUT /v1/owners/{owner}/source)"


async def look_up(
    uow: Any,
    owner: str,
    registry: Registry,
    data: ApplicationSubmitted,
    facts: list[owners.OwnerFact],
    purpose: str,
) -> domain.Answer:
    """Ask the owner's registry once for all the facts, and audit the question on the owner's chain."""
    source = await uow.store.owner_source(owner)
    if source is None:
        return owners.owner_items(facts, domain.ItemState.NOT_FOUND, NO_SOURCE.format(owner=owner))
    names = sorted({f.fact for f in facts})
    query = {"id_number": data.holder.id_number, "cut_off": data.cut_off_date.isoformat(), "facts": names}
    try:
        response = await registry.facts(owner, source, data.holder.id_number, data.cut_off_date, names)
    except RegistryError as exc:  # a 4xx: asking again will not help; the applicant may supplement
        response = {"refused": str(exc)}
        # The applicant reads the reason: the registry's address and words stay on the audit chain.
        answer = owners.owner_items(facts, domain.ItemState.RETURNED, "the owner's registry refused the question")
    except ValueError:  # not JSON at all: garbage is a returned item, never a crash
        response = {"unreadable": True}
        answer = owners.owner_items(
            facts, domain.ItemState.RETURNED, "the owner's registry answered something not JSON"
        )
    else:
        answer = owners.owner_answer(facts, response)
    await append(uow, owner, data.application_id, f"verifier:{owner} ({purpose})", [("owner_facts", query, response)])
    return answer


async def answer_for_owner(
    uow: Any,
    owner: str,
    catalogue: Catalogue,
    registry: Registry,
    data: ApplicationSubmitted,
    now: datetime | None = None,
) -> bool:
    """The owner's answer to an application naming one of its modules; False if it names none."""
    modules = await catalogue.owners_modules(owner, data.modules)
    if not modules:
        return False
    facts = [f for m in modules for f in m.facts]
    answer = await look_up(uow, owner, registry, data, facts, "application")
    now = now or datetime.now(UTC)
    uow.store.add_result(data.application_id, owner, answer.items, answer.facts, now, data.model_dump(mode="json"))
    uow.emit(domain.completed(data, owner, data.holder.ref(), answer.items, answer.facts, now))
    return True


async def reverify_for_owner(
    uow: Any,
    owner: str,
    catalogue: Catalogue,
    registry: Registry,
    data: ReverificationRequested,
    now: datetime | None = None,
) -> bool:
    """After an objection naming the owner's items: ask its registry again and answer again."""
    named = sorted({item.partition("/")[0] for item in data.items if "/" in item})
    modules = await catalogue.owners_modules(owner, named) if named else []
    facts = [f for m in modules for f in m.facts if f.item in set(data.items)]
    if not facts:
        return False
    result = await uow.store.result(data.application_id, owner, for_update=True)
    if result is None or result.context is None:
        return False  # the owner never answered this application
    submitted = ApplicationSubmitted.model_validate(result.context)
    fresh = await look_up(uow, owner, registry, submitted, facts, f"re-verification: {data.reason}"[:80])
    asked = {f.item for f in facts}
    items = domain.reverified_items(result.items, fresh.items, asked)
    renewed = {f.fact for f in facts}
    kept = {k: v for k, v in result.facts.items() if k not in renewed}
    now = now or datetime.now(UTC)
    facts_now = {**kept, **fresh.facts}
    uow.store.update_result(data.application_id, owner, items, facts_now, now)
    uow.emit(
        domain.completed(submitted, owner, submitted.holder.ref(), items, facts_now, now, in_answer_to=data.request_id)
    )
    return True
