"""Scoring's app factory (`uvicorn services.scoring.app:app`) and its wiring: the rule sets and
X-modules (shipped, then those published), the handlers with their dependencies bound, the store,
and the background work (the overdue sweep, keeping every replica's rules current, simulations)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import FastAPI

from services.scoring import tables, use_cases
from services.scoring.api import ROUTERS
from services.scoring.engine.modules import load_shipped_modules, parse_module
from services.scoring.engine.rules import load_shipped, parse_rule_set
from services.scoring.handlers import handlers
from services.scoring.settings import ScoringSettings
from services.scoring.simulation import jobs as simulation_jobs
from services.scoring.store import Store
from shared import clock
from shared.events.catalogue import APPLICATIONS, CAMPAIGNS, NOTICES, VERIFICATIONS
from shared.logging import get_logger
from shared.metrics import SIMULATION_JOBS
from shared.retention import Rule
from shared.security_headers import BASE_POLICY
from shared.service import ConsumerSpec, ServiceSpec, create_app

# Loaded at import: a bad shipped rule file stops the service before it takes traffic.
RULE_SETS = load_shipped()
MODULES = load_shipped_modules()
# The handlers, the routes (app.state) and the refresh below share these very dicts.
SETTINGS = ScoringSettings()
DEPS = use_cases.Deps(RULE_SETS, MODULES, SETTINGS.candidate_key_salt)
HANDLERS = handlers(DEPS)
REFRESH_SECONDS = 30
log = get_logger("scoring")


async def _sweep_overdue_forever(db, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            async with db.unit_of_work() as uow:
                scored = await use_cases.sweep_overdue(uow, DEPS, clock.today())
                await uow.commit()
            if scored:
                log.info("scored applications past their review deadline", applications=scored)
        except Exception as exc:  # the database away for a moment: try again next time
            log.warning("overdue sweep failed", error=str(exc))


async def _load_stored(db) -> tuple[dict, dict]:
    async with db.unit_of_work() as uow:
        return await use_cases.load_rule_sets_and_modules(uow.store, parse_rule_set, parse_module)


async def _keep_current(db) -> None:
    """Pick up what other replicas accepted. Publication requires a future effective date, so a
    replica that learns of a rule set a few seconds late has scored nothing under the wrong rules."""
    while True:
        await asyncio.sleep(REFRESH_SECONDS)
        try:
            rule_sets, modules = await _load_stored(db)
            for rule_set_id, rs in rule_sets.items():
                RULE_SETS.setdefault(rule_set_id, rs)
            for module_id, (_version, module) in modules.items():
                MODULES[module_id] = module
        except Exception as exc:  # the database is away: keep what we have
            log.warning("could not refresh rule sets and modules", error=str(exc))


async def _startup(app: FastAPI) -> None:
    # The handlers hold these very dicts: rule sets published later are added to them in place.
    rule_sets, modules = await _load_stored(app.state.db)
    RULE_SETS.update(rule_sets)
    MODULES.update({k: m for k, (_v, m) in modules.items()})
    app.state.rule_sets, app.state.modules = RULE_SETS, MODULES
    # Every text a score may name stays readable by its hash, whatever later changes the file.
    async with app.state.db.unit_of_work() as uow:
        await uow.store.record_texts(use_cases.texts_of(RULE_SETS.values(), MODULES.values()))
        await uow.commit()
    app.state.refresh_rules = asyncio.create_task(_keep_current(app.state.db))
    app.state.sweep_overdue = asyncio.create_task(
        _sweep_overdue_forever(app.state.db, app.state.settings.overdue_sweep_seconds)
    )
    app.state.simulations = asyncio.create_task(simulation_jobs.work_forever(app.state.db.engine, app.state.settings))


async def _shutdown(app: FastAPI) -> None:
    # Before the database goes: a running simulation is put back in the queue for the next start.
    for task in (app.state.simulations, app.state.sweep_overdue, app.state.refresh_rules):
        task.cancel()
    await asyncio.gather(app.state.simulations, return_exceptions=True)


async def _scrape(app: FastAPI) -> None:
    try:
        counts = await asyncio.wait_for(simulation_jobs.unfinished(app.state.db.engine), 2.0)
    except Exception as exc:  # the database is away: readiness says so; /metrics still answers
        log.warning("could not count simulation jobs", error=repr(exc))
        return
    for state, n in counts.items():
        SIMULATION_JOBS.labels(state).set(n)


SPEC = ServiceSpec(
    name="scoring",
    title="Points platform — scoring (rule sets, engine, explained scores)",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    api_keys=tables.api_keys,
    routers=ROUTERS,
    consumers=[ConsumerSpec("scoring", [VERIFICATIONS, APPLICATIONS, NOTICES, CAMPAIGNS], HANDLERS)],
    publishes=["score.computed", "round.scored", "campaign.opened", "campaign.joined", "campaign.withdrawn"],
    on_startup=_startup,
    on_shutdown=_shutdown,
    on_scrape=_scrape,
    store=Store,
    # A campaign's participants are kept for its retention period only (campaigns/use_cases.py).
    retention=[Rule(tables.campaign_participants, "keep_until", timedelta(0))],
    # The simulation report: no scripts; its charts are matplotlib's inline SVG, whose style
    # attributes no hash can allow, so inline styles (and data: images) are.
    page_policy=f"{BASE_POLICY}; style-src 'unsafe-inline'; img-src data:",
)


def build():
    return create_app(SPEC, SETTINGS)


app = build()
