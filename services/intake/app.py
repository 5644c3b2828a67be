"""Intake's app factory (`uvicorn services.intake.app:app`) and its wiring."""

from __future__ import annotations

from fastapi import FastAPI

from services.intake import tables
from services.intake.api import ROUTERS, problems
from services.intake.handlers import HANDLERS
from services.intake.informing import Notices, RuleSetDirectory
from services.intake.settings import IntakeSettings
from services.intake.store import Store
from shared.events.catalogue import NOTICES, SCORES, VERIFICATIONS
from shared.service import ConsumerSpec, ServiceSpec, create_app


async def _startup(app: FastAPI) -> None:
    settings = app.state.settings
    # The routes read it from app.state: one directory (and its caches) per process.
    app.state.notices = Notices(RuleSetDirectory(settings.scoring_for_services), settings.shared_data_departments)


SPEC = ServiceSpec(
    name="intake",
    title="Points platform — intake (partner application API)",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    api_keys=tables.api_keys,
    routers=ROUTERS,
    consumers=[ConsumerSpec("intake-status", [VERIFICATIONS, SCORES, NOTICES], HANDLERS)],
    publishes=["application.submitted", "application.withdrawn", "application.material_added"],
    on_startup=_startup,
    store=Store,
)


def build(settings: IntakeSettings | None = None):
    app = create_app(SPEC, settings or IntakeSettings())
    problems.install(app)  # the use cases' refusals, as problem documents
    return app


app = build()
