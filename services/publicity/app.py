"""Publicity's app factory (`uvicorn services.publicity.app:app`)."""
from __future__ import annotations

from services.publicity import routes, tables
from services.publicity.handlers import make_handlers
from shared.events.catalogue import SCORES
from shared.service import ConsumerSpec, ServiceSpec, create_app
from shared.settings import get_settings

settings = get_settings()

SPEC = ServiceSpec(
    name="publicity",
    title="Points platform — publicity (public notices)",
    metadata=tables.metadata,
    outbox=tables.outbox,
    inbox=tables.inbox,
    api_keys=tables.api_keys,
    routers=[routes.router],
    consumers=[ConsumerSpec("publicity", [SCORES], make_handlers(settings))],
    publishes=["notice.published"],
)


def build():
    return create_app(SPEC, settings)


app = build()
