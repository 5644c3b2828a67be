"""The departments' desk: officers decide the items that need a person (a supplemented item).

Officers see only their department's queue. Opening a material is a look-up into a person's
records like any registry query, so it is written to the department's audit chain. A decision
answers the application again: the department's result is updated and a new
`verification.completed` carries all its items, so scoring computes a new version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from services.verification import domain
from services.verification.audit.chain import append
from services.verification.departments import FACTS_OF_ITEM
from services.verification.owners import OwnerFact
from services.verification.use_cases.errors import (
    AlreadyDecided,
    FactsRefused,
    MaterialAltered,
    NoEarlierAnswer,
    NotVisible,
)
from shared.events.catalogue import ApplicationSubmitted
from shared.module_facts import type_fault


class Materials(Protocol):
    """Where the desk reads a task's material (intake, over HTTP: intake_materials.py)."""

    async def fetch(self, url: str) -> bytes: ...


@dataclass(frozen=True)
class DeskDecision:
    """An officer's decision on a desk task, as the api parsed it."""

    verdict: domain.DeskVerdict
    reason: str | None = None
    facts: dict[str, Any] | None = None


@dataclass(frozen=True)
class OpenedMaterial:
    content: bytes
    media_type: str
    sha256: str


async def desk_queue(
    uow: Any, department: str, state: domain.DeskTaskState, after: int, limit: int
) -> tuple[list[Any], int | None]:
    """A page of the department's desk tasks in `state`, oldest first, and where the next page starts."""
    rows = await uow.store.desk_queue(department, state, after, limit + 1)
    return rows[:limit], rows[limit - 1].id if len(rows) > limit else None


async def desk_task(uow: Any, department: str, task_id: int) -> Any:
    task = await uow.store.desk_task(department, task_id)
    if task is None:
        raise NotVisible()
    return task


async def open_material(
    new_uow: Callable[[], Any], materials: Materials, department: str, task_id: int, officer: str
) -> OpenedMaterial:
    """Fetch the task's material from intake, check it is what was uploaded, and audit the opening.

    No transaction is held while intake answers: the task is read in one, the opening recorded in another."""
    async with new_uow() as uow:
        task = await desk_task(uow, department, task_id)
    content = await materials.fetch(task.material["url"])
    digest = hashlib.sha256(content).hexdigest()
    if digest != task.material["sha256"]:
        raise MaterialAltered("The material intake returned does not match the SHA-256 recorded at upload.")
    async with new_uow() as uow:
        await append(
            uow,
            department,
            task.application_id,
            officer,
            [("material", {"material_id": task.material["id"], "indicator": task.indicator}, content)],
        )
        await uow.commit()
    return OpenedMaterial(content, task.material["media_type"], digest)


async def decide(
    uow: Any,
    department: str,
    task_id: int,
    decision: DeskDecision,
    officer: str,
    now: datetime | None = None,
    owner_facts: list[OwnerFact] | None = None,
) -> None:
    """Decide a pending task: the department's answer is revised and sent again (the caller commits).
    `owner_facts`: a module owner's desk, the facts its items rest on (with their declared types)."""
    now = now or datetime.now(UTC)
    task = await uow.store.desk_task(department, task_id, for_update=True)
    if task is None:
        raise NotVisible()
    if task.state != domain.DeskTaskState.PENDING:
        raise AlreadyDecided(task_id)
    result = await uow.store.result(task.application_id, department, for_update=True)
    if result is None or result.context is None:
        raise NoEarlierAnswer(department, task.application_id)
    facts_given = decision.facts or {}
    if owner_facts is None:
        owned = FACTS_OF_ITEM.get(task.indicator, ())
    else:
        declared = [f for f in owner_facts if f.item == task.indicator]
        owned = tuple(f.fact for f in declared)
        for f in declared:
            if f.fact in (decision.facts or {}) and (why := type_fault(f.type, decision.facts[f.fact])):  # type: ignore[index]
                raise FactsRefused(f"a {f.type}", f"facts: {f.fact}: {why.replace('the registry answered', 'given')}")
    if stray := sorted(set(facts_given) - set(owned)):
        raise FactsRefused(
            f"only {', '.join(owned) or 'none'}",
            f"facts: {', '.join(stray)} {'is' if len(stray) == 1 else 'are'} not facts of the "
            f"{task.indicator} item (it rests on: {', '.join(owned) or 'no fact'})",
        )
    if decision.verdict == domain.DeskVerdict.CONFIRM and owned and not facts_given:
        raise FactsRefused(
            "required to confirm",
            f"facts: confirming {task.indicator} means saying what the material proves ({', '.join(owned)})",
        )
    items = domain.decided_items(result.items, task.indicator, decision.verdict, decision.reason)
    facts = {**result.facts, **facts_given}
    recorded = {
        "decision": decision.verdict.value,
        "reason": decision.reason,
        "facts": facts_given,
        "material_sha256": task.material["sha256"],
    }
    uow.store.update_result(task.application_id, department, items, facts, now)
    await uow.store.decide_desk_task(task_id, recorded, officer, now)
    question = ApplicationSubmitted.model_validate(result.context)
    if decision.verdict == domain.DeskVerdict.FORGED:
        # Forged materials leave a dishonesty record in the credit registry, which later applications
        # see as a deduction: owed here, in the decision's transaction; sent by credit_reports.py.
        await uow.store.add_credit_report(domain.forgery_report(question, department, task.indicator, now))
    uow.emit(domain.completed(question, department, question.holder.ref(), items, facts, now))
