"""Intake's app factory (`uvicorn services.intake.app:app`)."""
from __future__ import annotations

from fastapi import FastAPI

from services.intake import material_routes, routes, tables
from services.intake.informing import RuleSetDirectory
from services.intake.handlers import HANDLERS
from shared.events.catalogue import NOTICES, SCORES, VERIFICATIONS
from shared.service import ConsumerSpec, ServiceSpec, create_app

async def _startup(app: FastAPI) -> None:
    app.state.rule_set_directory = RuleSetDirectory(app.state.settings.scoring_base_url)


SPEC = ServiceSpec(
    name="intake",
    title="Points platform — intake (partner application API)",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    api_keys=tables.api_keys,
    routers=[routes.router, material_routes.router],
    consumers=[ConsumerSpec("intake-status", [VERIFICATIONS, SCORES, NOTICES], HANDLERS)],
    publishes=["application.submitted", "application.withdrawn", "application.material_added"],
    on_startup=_startup,
)


def build():
    return create_app(SPEC)


app = build()
