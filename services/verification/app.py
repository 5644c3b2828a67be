"""Verification's bootstrap: one process hosts every department, each its own consumer group.

Builds the dependencies (settings, each department's registries adapter, the desk's materials
source) and injects them: into the handlers as `Deps` bound per department, into the routes
through app.state.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import FastAPI

from services.verification import tables
from services.verification.api import ROUTERS
from services.verification.audit.anchors import anchor_forever
from services.verification.credit_reports import CREDIT, report_forever
from services.verification.handlers import Deps, OwnerDeps, campaign_handlers, handlers, owner_handlers
from services.verification.intake_materials import IntakeMaterials
from services.verification.module_catalogue import ModuleCatalogue
from services.verification.owner_registry import OwnerRegistries
from services.verification.registries import Registries, SqlRegistries
from services.verification.registries_http import HttpRegistries
from services.verification.settings import get_settings
from services.verification.store import Store
from shared.db import make_engine
from shared.departments import DEPARTMENTS
from shared.events.catalogue import APPLICATIONS, CAMPAIGNS, NOTICES
from shared.retention import Rule
from shared.service import ConsumerSpec, ServiceSpec, create_app

settings = get_settings()
# The departments this process answers for, as one consumer group: each event is fetched, parsed and
# claimed once for all of them, and their first answers to an application travel in one event. For
# one registry's outage to stall only its department, deploy one process per department.
ANSWERING = settings.answering()
# Module owners answer their own facts the same way: a consumer group each.
OWNERS = settings.owners()


def group_name(departments: list[str]) -> str:
    """The consumer group of a verifier answering for these departments: `verification` for all ten,
    `verification-<department>` for one (as each department's group was named before they shared one)."""
    return "verification" if set(departments) == set(DEPARTMENTS) else "verification-" + "-".join(departments)


def _registries() -> dict[str, Registries]:
    if settings.registry_base_url:
        # One client and circuit breaker per department: one registry down opens only its own breaker
        # (its department's answers wait; in one process with others, the batch waits with it).
        return {d: HttpRegistries(settings.registry_base_url) for d in ANSWERING}
    sql = SqlRegistries(
        make_engine(settings.registry_database_url, pool_size=10) if settings.registry_database_url else None
    )
    return {d: sql for d in ANSWERING}


registries = _registries()
catalogue = ModuleCatalogue(settings.scoring_for_services)
owner_registries = OwnerRegistries()


async def _startup(app: FastAPI) -> None:
    app.state.registries = registries
    app.state.owners, app.state.catalogue = OWNERS, catalogue
    app.state.materials = IntakeMaterials(app.state.settings.intake_base_url, app.state.settings.intake_materials_key)
    app.state.anchoring = asyncio.create_task(
        anchor_forever(app.state.db.unit_of_work, [*ANSWERING, *OWNERS], app.state.settings.audit_anchor_seconds)
    )
    # The process answering for the credit department also sends it the dishonesty records forgeries owe.
    app.state.credit_reporting = (
        asyncio.create_task(
            report_forever(app.state.db.unit_of_work, registries[CREDIT], app.state.settings.credit_report_seconds)
        )
        if CREDIT in registries
        else None
    )


async def _shutdown(app: FastAPI) -> None:
    tasks = [t for t in (app.state.anchoring, app.state.credit_reporting) if t is not None]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await app.state.materials.aclose()
    await catalogue.aclose()
    await owner_registries.aclose()


SPEC = ServiceSpec(
    name="verification",
    title="Points platform — verification (department verifiers)",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    api_keys=tables.api_keys,
    routers=ROUTERS,
    consumers=[ConsumerSpec(group_name(ANSWERING), [APPLICATIONS, NOTICES], handlers(Deps(registries)))]
    + [
        ConsumerSpec(
            f"verification-owner-{o.replace(':', '-')}",
            [APPLICATIONS, NOTICES],
            owner_handlers(OwnerDeps(o, catalogue, owner_registries)),
        )
        for o in OWNERS
    ]
    # 模拟积分 campaigns' look-ups: one group, asking every department this process answers for.
    + [ConsumerSpec("verification-campaigns", [CAMPAIGNS], campaign_handlers(registries))],
    publishes=[
        "verification.completed",
        "audit.chain_anchored",
        "campaign.invited",
        "campaign.facts_verified",
    ],
    store=Store,
    # A campaign's draw is kept for its retention period only (services/verification/campaigns.py).
    retention=[
        Rule(tables.campaign_invitations, "keep_until", timedelta(0)),
        Rule(tables.campaign_draws, "keep_until", timedelta(0)),
    ],
    on_startup=_startup,
    on_shutdown=_shutdown,
)


def build():
    return create_app(SPEC, settings)


app = build()
