"""Publicity's app factory (`uvicorn services.publicity.app:app`) and its wiring: the settings, the
notifier and the handlers' dependencies are built here, once, and handed to what needs them."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from fastapi import FastAPI

from services.publicity import tables, use_cases
from services.publicity.api import ROUTERS, pages
from services.publicity.handlers import Deps, handlers
from services.publicity.notifier import make_notifier
from services.publicity.settings import PublicitySettings, get_settings
from services.publicity.store import Store
from shared import clock
from shared.events.catalogue import APPLICATIONS, CAMPAIGNS, SCORES
from shared.logging import get_logger
from shared.security_headers import BASE_POLICY, style_hashes
from shared.service import ConsumerSpec, ServiceSpec, create_app

settings = get_settings()
log = get_logger("publicity")


def deps_of(settings: PublicitySettings) -> Deps:
    return Deps(
        candidate_key_salt=settings.candidate_key_salt,
        notice_period_working_days=settings.notice_period_working_days,
        publicity_base_url=settings.publicity_base_url,
    )


DELIVERY_BATCH = 500


async def sweep_once(app: FastAPI) -> None:
    """Rounds move on (one replica at a time), then due notifications are delivered."""
    db = app.state.db
    async with db.unit_of_work() as uow:
        swept = await use_cases.sweep(uow, clock.today(), app.state.settings.publicity_base_url)
        await uow.commit()
    if swept and (swept.closed or swept.final):
        log.info("rounds moved on", closed=swept.closed, final=swept.final)
    # Published lists' candidates told, a page at a time (one replica: the sweep's lock) ...
    until = time.monotonic() + app.state.settings.publicity_sweep_seconds / 2
    while time.monotonic() < until:
        async with db.unit_of_work() as uow:
            told = await use_cases.tell_candidates(uow, DELIVERY_BATCH * 4)
            await uow.commit()
        if not told:
            break
    # ... and due notifications in batches until none is left (a round's list tells a whole city at once),
    # for at most half the sweep's period, so rounds still move on in time.
    until = time.monotonic() + app.state.settings.publicity_sweep_seconds / 2
    while True:
        async with db.unit_of_work() as uow:
            tried = await use_cases.deliver_notifications(uow, app.state.notifier, datetime.now(UTC), DELIVERY_BATCH)
            await uow.commit()
        if tried < DELIVERY_BATCH or time.monotonic() > until:
            break


async def keep_sweeping(app: FastAPI, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await sweep_once(app)
        except Exception as exc:  # the database away for a moment: try again next time
            log.warning("publicity sweep failed", error=str(exc))


async def start_sweeping(app: FastAPI) -> None:
    app.state.notifier = make_notifier(app.state.settings)
    app.state.sweeper = asyncio.create_task(keep_sweeping(app, app.state.settings.publicity_sweep_seconds))


SPEC = ServiceSpec(
    name="publicity",
    title="Points platform — publicity (notices, rounds, objections, reviews)",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    api_keys=tables.api_keys,
    routers=ROUTERS,
    consumers=[ConsumerSpec("publicity", [SCORES, APPLICATIONS, CAMPAIGNS], handlers(deps_of(settings)))],
    publishes=["notice.published", "reverification.requested", "round.finalized", "round.closing"],
    on_startup=start_sweeping,
    store=Store,
    # The public pages: no scripts; the one <style> of base.html, by its hash.
    page_policy=f"{BASE_POLICY}; style-src {style_hashes(pages.TEMPLATES / 'base.html')}",
)


def build():
    app = create_app(SPEC, settings)
    pages.install_error_pages(app)
    return app


app = build()
