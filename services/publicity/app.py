"""Publicity's app factory (`uvicorn services.publicity.app:app`)."""
from __future__ import annotations

import asyncio
import zlib
from datetime import date

from fastapi import FastAPI
from sqlalchemy import func, select

from services.publicity import notifier, objection_routes, pages, round_routes, rounds, routes, tables
from services.publicity.handlers import make_handlers
from shared.events.catalogue import APPLICATIONS, SCORES
from shared.logging import get_logger
from shared.security_headers import BASE_POLICY, style_hashes
from shared.service import ConsumerSpec, ServiceSpec, create_app
from shared.settings import get_settings

settings = get_settings()
log = get_logger("publicity")
SWEEP_LOCK = select(func.pg_try_advisory_xact_lock(zlib.crc32(b"publicity:rounds")))


async def sweep(db, today: date) -> dict[str, list[str]]:
    """Close rounds whose acceptance ended, and make final the lists whose notice ended with nothing open."""
    async with db.unit_of_work() as uow:
        if not await uow.conn.scalar(SWEEP_LOCK):
            return {}
        closed = await rounds.close_due(uow, today)
        final = await rounds.finalize_due(uow, today)
        await uow.commit()
    return {"closed": closed, "final": final}


async def _keep_sweeping(app: FastAPI, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            done = await sweep(app.state.db, date.today())
            if any(done.values()):
                log.info("rounds moved on", **done)
            await notifier.deliver_due(app.state.db.engine, app.state.notifier)
        except Exception as exc:  # the database away for a moment: try again next time
            log.warning("publicity sweep failed", error=str(exc))


async def _startup(app: FastAPI) -> None:
    app.state.notifier = notifier.make_notifier(app.state.settings)
    app.state.sweeper = asyncio.create_task(_keep_sweeping(app, app.state.settings.publicity_sweep_seconds))


SPEC = ServiceSpec(
    name="publicity",
    title="Points platform — publicity (notices, rounds, objections, reviews)",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    api_keys=tables.api_keys,
    routers=[routes.router, round_routes.router, objection_routes.router, pages.router],
    consumers=[ConsumerSpec("publicity", [SCORES, APPLICATIONS], make_handlers(settings))],
    publishes=["notice.published", "reverification.requested", "round.finalized"],
    on_startup=_startup,
    # The public pages: no scripts; the one <style> of base.html, by its hash.
    page_policy=f"{BASE_POLICY}; style-src {style_hashes(pages.TEMPLATES / 'base.html')}",
)


def build():
    app = create_app(SPEC, settings)
    pages.install_error_pages(app)
    return app


app = build()
