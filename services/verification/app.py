"""Verification's app factory: one process hosts every department, each its own consumer group."""
from __future__ import annotations

import asyncio

from fastapi import FastAPI

from services.verification import review, routes, tables
from services.verification.anchors import anchor_forever
from services.verification.handlers import make_handlers
from services.verification.registries import SqlRegistries
from services.verification.registries_http import HttpRegistries
from shared.db import make_engine
from shared.departments import DEPARTMENTS
from shared.events.catalogue import APPLICATIONS, NOTICES
from shared.service import ConsumerSpec, ServiceSpec, create_app
from shared.settings import get_settings

settings = get_settings()
# Each department is a consumer group of its own: a process may answer for all, or one deployment per department.
ANSWERING = [d.strip() for d in settings.verification_departments.split(",") if d.strip()] or list(DEPARTMENTS)
if unknown := set(ANSWERING) - set(DEPARTMENTS):
    raise SystemExit(f"VERIFICATION_DEPARTMENTS names unknown departments: {', '.join(sorted(unknown))}")
def _registries() -> dict[str, SqlRegistries | HttpRegistries]:
    if settings.registry_base_url:
        # One client and circuit breaker per department: one registry down stalls only its department.
        return {d: HttpRegistries(settings.registry_base_url) for d in ANSWERING}
    sql = SqlRegistries(make_engine(settings.registry_database_url, pool_size=10)
                        if settings.registry_database_url else None)
    return {d: sql for d in ANSWERING}


registries = _registries()

async def _startup(app: FastAPI) -> None:
    app.state.registries = registries
    app.state.anchoring = asyncio.create_task(
        anchor_forever(app.state.db, ANSWERING, app.state.settings.audit_anchor_seconds))


async def _shutdown(app: FastAPI) -> None:
    app.state.anchoring.cancel()
    await asyncio.gather(app.state.anchoring, return_exceptions=True)


SPEC = ServiceSpec(
    name="verification",
    title="Points platform — verification (department verifiers)",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    api_keys=tables.api_keys,
    routers=[routes.router, review.router],
    consumers=[ConsumerSpec(f"verification-{d}", [APPLICATIONS, NOTICES], make_handlers(d, registries[d]))
               for d in ANSWERING],
    publishes=["verification.completed", "audit.chain_anchored"],
    on_startup=_startup,
    on_shutdown=_shutdown,
)


def build():
    return create_app(SPEC, settings)


app = build()
