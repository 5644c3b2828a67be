"""Department verifiers' event handlers: one consumer group for the departments a process answers for.

The departments answer an application from their registries at once, together (use_cases/answers.py);
a supplemented item goes to its department officers' desk (use_cases/desk.py), whose decision answers
again. The handlers take the departments' registries (`Deps`), bound at bootstrap by `handlers(deps)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from services.verification import campaigns
from services.verification.registries import Registries
from services.verification.use_cases import answers, owner_answers
from shared.events import Envelope
from shared.events.catalogue import (
    ApplicationSubmitted,
    CampaignJoined,
    CampaignWithdrawn,
    MaterialAdded,
    ReverificationRequested,
)


@dataclass(frozen=True)
class Deps:
    """What the departments' handlers need: each department's registries (an adapter of the port)."""

    registries: dict[str, Registries]


async def on_application_submitted(uow: Any, event: Envelope, data: ApplicationSubmitted, *, deps: Deps) -> None:
    await answers.answer_together(uow, deps.registries, data)


async def on_reverification_requested(uow: Any, event: Envelope, data: ReverificationRequested, *, deps: Deps) -> None:
    for department, registries in deps.registries.items():
        await answers.reverify(uow, department, registries, data)


async def on_material_added(uow: Any, event: Envelope, data: MaterialAdded, *, deps: Deps) -> None:
    for department in deps.registries:
        await answers.receive_supplement(uow, department, data)


HANDLERS = {
    "application.submitted": on_application_submitted,
    "application.material_added": on_material_added,
    "reverification.requested": on_reverification_requested,
}


def handlers(deps: Deps) -> dict[str, Any]:
    """The handler table of the departments' consumer group."""
    return {event_type: partial(handler, deps=deps) for event_type, handler in HANDLERS.items()}


@dataclass(frozen=True)
class OwnerDeps:
    """What a module owner's verifier needs: the owner, the module catalogue (scoring's, over HTTP)
    and the owners' registry clients."""

    owner: str
    catalogue: owner_answers.Catalogue
    registry: owner_answers.Registry


async def on_owner_application_submitted(
    uow: Any, event: Envelope, data: ApplicationSubmitted, *, deps: OwnerDeps
) -> None:
    await owner_answers.answer_for_owner(uow, deps.owner, deps.catalogue, deps.registry, data)


async def on_owner_reverification_requested(
    uow: Any, event: Envelope, data: ReverificationRequested, *, deps: OwnerDeps
) -> None:
    await owner_answers.reverify_for_owner(uow, deps.owner, deps.catalogue, deps.registry, data)


async def on_owner_material_added(uow: Any, event: Envelope, data: MaterialAdded, *, deps: OwnerDeps) -> None:
    await answers.receive_supplement(uow, deps.owner, data)


OWNER_HANDLERS = {
    "application.submitted": on_owner_application_submitted,
    "application.material_added": on_owner_material_added,
    "reverification.requested": on_owner_reverification_requested,
}


def owner_handlers(deps: OwnerDeps) -> dict[str, Any]:
    """The handler table of one module owner's consumer group."""
    return {event_type: partial(handler, deps=deps) for event_type, handler in OWNER_HANDLERS.items()}


async def on_campaign_joined(
    uow: Any, event: Envelope, data: CampaignJoined, *, registries: dict[str, Registries]
) -> None:
    await campaigns.answer_participant(uow, registries, data)


async def on_campaign_withdrawn(
    uow: Any, event: Envelope, data: CampaignWithdrawn, *, registries: dict[str, Registries]
) -> None:
    await campaigns.forget_participant(uow, data)


CAMPAIGN_HANDLERS = {"campaign.joined": on_campaign_joined, "campaign.withdrawn": on_campaign_withdrawn}


def campaign_handlers(registries: dict[str, Registries]) -> dict[str, Any]:
    """The handler table of the campaigns' consumer group: every department this process answers for."""
    return {t: partial(handler, registries=registries) for t, handler in CAMPAIGN_HANDLERS.items()}
