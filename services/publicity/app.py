"""Publicity's app factory (`uvicorn services.publicity.app:app`) and its wiring: the settings, the
notifier and the handlers' dependencies are built here, once, and handed to what needs them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

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


# Applications told of a published list a transaction, and notifications delivered a transaction.
TELLING_PAGE, DELIVERY_BATCH = 2_000, 500


async def _while_more(db: Any, step: Callable[[Any], Awaitable[bool]], seconds: float) -> None:
    """Run `step` a transaction at a time while it says there is more, for at most `seconds` (a
    round's list tells a whole city at once; the sweep must still come round to the rounds)."""
    until = time.monotonic() + seconds
    more = True
    while more and time.monotonic() <= until:
        async with db.unit_of_work() as uow:
            more = await step(uow)
            await uow.commit()


async def sweep_once(app: FastAPI) -> None:
    """Rounds move on (one replica at a time); then published lists' candidates are told and due
    notifications delivered, each for at most half the sweep's period."""
    db, notifier, budget = app.state.db, app.state.notifier, app.state.settings.publicity_sweep_seconds / 2
    async with db.unit_of_work() as uow:
        swept = await use_cases.sweep(uow, clock.today(), app.state.settings.publicity_base_url)
        await uow.commit()
    if swept and (swept.closed or swept.final):
        log.info("rounds moved on", closed=swept.closed, final=swept.final)

    async def tell(uow: Any) -> bool:
        return await use_cases.tell_candidates(uow, TELLING_PAGE) > 0

    async def deliver(uow: Any) -> bool:
        return await use_cases.deliver_notifications(uow, notifier, datetime.now(UTC), DELIVERY_BATCH) == DELIVERY_BATCH

    await _while_more(db, tell, budget)
    await _while_more(db, deliver, budget)


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
