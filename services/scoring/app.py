"""Scoring's app factory (`uvicorn services.scoring.app:app`)."""
from __future__ import annotations

import asyncio

from fastapi import FastAPI

from services.scoring import routes, rule_set_routes, rule_set_store, tables
from services.scoring.engine.rules import load_shipped
from services.scoring.handlers import make_handlers
from shared.events.catalogue import VERIFICATIONS
from shared.service import ConsumerSpec, ServiceSpec, create_app

# Loaded at import: a bad shipped rule file stops the service before it takes traffic.
RULE_SETS = load_shipped()


async def _startup(app: FastAPI) -> None:
    # The handlers hold this very dict: rule sets published later are added to it in place.
    RULE_SETS.update(await rule_set_store.load_published(app.state.db.engine))
    app.state.rule_sets = RULE_SETS
    app.state.refresh_rules = asyncio.create_task(rule_set_store.keep_current(app.state.db.engine, RULE_SETS))


SPEC = ServiceSpec(
    name="scoring",
    title="Points platform — scoring (rule sets, engine, explained scores)",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    api_keys=tables.api_keys,
    routers=[routes.router, rule_set_routes.router],
    consumers=[ConsumerSpec("scoring", [VERIFICATIONS], make_handlers(RULE_SETS))],
    publishes=["score.computed"],
    on_startup=_startup,
)


def build():
    return create_app(SPEC)


app = build()
