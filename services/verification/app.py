"""Verification's app factory: one process hosts every department, each its own consumer group."""
from __future__ import annotations

from fastapi import FastAPI

from services.verification import review, routes, tables
from services.verification.handlers import make_handlers
from services.verification.registries import SqlRegistries
from services.verification.registries_http import HttpRegistries
from shared.db import make_engine
from shared.departments import DEPARTMENTS
from shared.events.catalogue import APPLICATIONS, NOTICES
from shared.service import ConsumerSpec, ServiceSpec, create_app
from shared.settings import get_settings

settings = get_settings()
if settings.registry_base_url:
    registries: SqlRegistries | HttpRegistries = HttpRegistries(settings.registry_base_url)
else:
    registries = SqlRegistries(make_engine(settings.registry_database_url, pool_size=10)
                               if settings.registry_database_url else None)


async def _startup(app: FastAPI) -> None:
    app.state.registries = registries


SPEC = ServiceSpec(
    name="verification",
    title="Points platform — verification (department verifiers)",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    api_keys=tables.api_keys,
    routers=[routes.router, review.router],
    consumers=[ConsumerSpec(f"verification-{d}", [APPLICATIONS, NOTICES], make_handlers(d, registries)) for d in DEPARTMENTS],
    publishes=["verification.completed"],
    on_startup=_startup,
)


def build():
    return create_app(SPEC, settings)


app = build()
