"""Scoring's app factory (`uvicorn services.scoring.app:app`)."""
from __future__ import annotations

from fastapi import FastAPI

from services.scoring import routes, tables
from services.scoring.engine.rules import load_shipped
from services.scoring.handlers import make_handlers
from shared.events.catalogue import VERIFICATIONS
from shared.service import ConsumerSpec, ServiceSpec, create_app

# Loaded at import: a bad shipped rule file stops the service before it takes traffic.
RULE_SETS = load_shipped()


async def _startup(app: FastAPI) -> None:
    app.state.rule_sets = RULE_SETS


SPEC = ServiceSpec(
    name="scoring",
    title="Points platform — scoring (rule sets, engine, explained scores)",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    api_keys=tables.api_keys,
    routers=[routes.router],
    consumers=[ConsumerSpec("scoring", [VERIFICATIONS], make_handlers(RULE_SETS))],
    publishes=["score.computed"],
    on_startup=_startup,
)


def build():
    return create_app(SPEC)


app = build()
