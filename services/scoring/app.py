"""Scoring's app factory (`uvicorn services.scoring.app:app`)."""
from __future__ import annotations

import asyncio
from datetime import date

from fastapi import FastAPI

from services.scoring import module_routes, routes, rule_set_routes, rule_set_store, tables
from services.scoring.engine.modules import load_shipped_modules
from services.scoring.engine.rules import load_shipped
from services.scoring.handlers import make_handlers
from services.scoring.simulation import jobs as simulation_jobs
from services.scoring.simulation import routes as simulation_routes
from shared.events.catalogue import APPLICATIONS, VERIFICATIONS
from shared.logging import get_logger
from shared.security_headers import BASE_POLICY
from shared.service import ConsumerSpec, ServiceSpec, create_app

# Loaded at import: a bad shipped rule file stops the service before it takes traffic.
RULE_SETS = load_shipped()
MODULES = load_shipped_modules()
HANDLERS, SWEEP_OVERDUE = make_handlers(RULE_SETS, MODULES)
log = get_logger("scoring")


async def _sweep_overdue_forever(db, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            async with db.unit_of_work() as uow:
                scored = await SWEEP_OVERDUE(uow, date.today())
                await uow.commit()
            if scored:
                log.info("scored applications past their review deadline", applications=scored)
        except Exception as exc:  # the database away for a moment: try again next time
            log.warning("overdue sweep failed", error=str(exc))


async def _startup(app: FastAPI) -> None:
    # The handlers hold this very dict: rule sets published later are added to it in place.
    RULE_SETS.update(await rule_set_store.load_published(app.state.db.engine))
    MODULES.update({k: m for k, (_v, m) in (await rule_set_store.load_modules(app.state.db.engine)).items()})
    app.state.rule_sets, app.state.modules = RULE_SETS, MODULES
    app.state.refresh_rules = asyncio.create_task(rule_set_store.keep_current(app.state.db.engine, RULE_SETS, MODULES))
    app.state.sweep_overdue = asyncio.create_task(
        _sweep_overdue_forever(app.state.db, app.state.settings.overdue_sweep_seconds))
    app.state.simulations = asyncio.create_task(simulation_jobs.work_forever(app.state.db.engine, app.state.settings))


async def _shutdown(app: FastAPI) -> None:
    # Before the database goes: a running simulation is put back in the queue for the next start.
    for task in (app.state.simulations, app.state.sweep_overdue, app.state.refresh_rules):
        task.cancel()
    await asyncio.gather(app.state.simulations, return_exceptions=True)


SPEC = ServiceSpec(
    name="scoring",
    title="Points platform — scoring (rule sets, engine, explained scores)",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    api_keys=tables.api_keys,
    routers=[routes.router, rule_set_routes.router, module_routes.router, simulation_routes.router],
    consumers=[ConsumerSpec("scoring", [VERIFICATIONS, APPLICATIONS], HANDLERS)],
    publishes=["score.computed"],
    on_startup=_startup,
    on_shutdown=_shutdown,
    # The simulation report: no scripts; its charts are matplotlib's inline SVG, whose style
    # attributes no hash can allow, so inline styles (and data: images) are.
    page_policy=f"{BASE_POLICY}; style-src 'unsafe-inline'; img-src data:",
)


def build():
    return create_app(SPEC)


app = build()
