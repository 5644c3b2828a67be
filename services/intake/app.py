"""Intake's app factory (`uvicorn services.intake.app:app`)."""
from __future__ import annotations

from services.intake import routes, tables
from services.intake.handlers import HANDLERS
from shared.events.catalogue import NOTICES, SCORES, VERIFICATIONS
from shared.service import ConsumerSpec, ServiceSpec, create_app

SPEC = ServiceSpec(
    name="intake",
    title="Points platform — intake (partner application API)",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    api_keys=tables.api_keys,
    routers=[routes.router],
    consumers=[ConsumerSpec("intake-status", [VERIFICATIONS, SCORES, NOTICES], HANDLERS)],
    publishes=["application.submitted"],
)


def build():
    return create_app(SPEC)


app = build()
