"""The one app factory every service uses, so a reader who knows one service knows all.

A service declares a `ServiceSpec` (its schema's tables, routers, consumers and the
events it publishes); `create_app` wires the database, producer, outbox relay,
consumers, health and metrics endpoints, problem details and tracing around it.
"""

from __future__ import annotations

import gc
import platform
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import MetaData, Table

from shared import calendar, clock, gauges, openapi, retention, tracing
from shared.auth import ApiKeys
from shared.bus.consumer import EventConsumer, Handler
from shared.bus.kafka import broker_reachable
from shared.bus.link import BrokerLink
from shared.bus.outbox import Outbox, OutboxRelay
from shared.db import Database
from shared.events.catalogue import asyncapi_document
from shared.logging import configure_logging, get_logger
from shared.metrics import BUILD_INFO, READINESS_CHANGES, READY
from shared.middleware import BodyLimitMiddleware, TraceAndMetricsMiddleware
from shared.ops import OpsServer, ops_app
from shared.outages import describe
from shared.problems import install_problem_handlers, problem_response
from shared.secrets_check import check_demo_keys_at_startup, refuse_unsafe_secrets
from shared.security_headers import BASE_POLICY, SecurityHeadersMiddleware
from shared.settings import Settings, get_settings


@dataclass
class ConsumerSpec:
    name: str
    topics: list[str]
    handlers: dict[str, Handler]


@dataclass
class ServiceSpec:
    name: str
    title: str
    metadata: MetaData
    outbox: Table
    inbox: Table
    api_keys: Table
    routers: list[APIRouter]
    consumers: list[ConsumerSpec] = field(default_factory=list)
    publishes: list[str] = field(default_factory=list)
    # Builds per-process state (caches, rule sets) once the database is up.
    on_startup: Callable[[FastAPI], Any] | None = None
    on_shutdown: Callable[[FastAPI], Any] | None = None  # runs first, while the database is still there
    # Builds the service's store (store.py: its SQL, by intent) on a unit of work: `uow.store`.
    store: Callable[[Any], Any] | None = None
    # The Content-Security-Policy of the service's HTML pages (shared.security_headers).
    page_policy: str = BASE_POLICY
    # Sets the service's own gauges that are read at scrape time (scoring: the simulation queue).
    on_scrape: Callable[[FastAPI], Awaitable[None]] | None = None
    # The service's own rows kept for a period (a campaign's participants): pruned by the same sweep.
    retention: list[retention.Rule] = field(default_factory=list)


# Start-up warns when the working-day calendar ends sooner than this (a new year's schedule is
# published each autumn; the package follows within weeks).
CALENDAR_WARN_DAYS = 90


def operation_id(route: APIRoute) -> str:
    return route.name


def create_app(spec: ServiceSpec, settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(spec.name, settings.log_level, settings.log_json)
    tracing.configure_tracing(spec.name)
    log = get_logger(spec.name)
    # No demo or missing secrets outside the embedded platform: refused before serving anything.
    refuse_unsafe_secrets(settings, spec.name)
    spec = check_demo_keys_at_startup(spec, settings)
    BUILD_INFO.info(
        {
            "service": spec.name,
            "version": version("points-platform"),
            "revision": settings.build_revision,
            "python": platform.python_version(),
        }
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        outbox = Outbox(spec.outbox, settings)
        db = Database(settings.database_url, settings.database_pool_size, outbox, spec.store)
        relay = OutboxRelay(db.engine, outbox, None, settings)
        consumers = [
            EventConsumer(
                name=c.name,
                topics=c.topics,
                handlers=c.handlers,
                db=db,
                inbox=spec.inbox,
                producer=None,
                settings=settings,
            )
            for c in spec.consumers
        ]
        link = BrokerLink(settings, relay, consumers)
        # Sent outbox rows, inbox ids and (intake) idempotency keys go after their periods.
        idempotency = spec.metadata.tables.get(f"{spec.outbox.schema}.idempotency_keys")
        rules = retention.rules_for(spec.outbox, spec.inbox, idempotency, settings) + spec.retention
        sweep = retention.RetentionSweep(db.engine, rules, settings.retention_sweep_seconds)
        app.state.settings, app.state.db, app.state.broker = settings, db, link
        app.state.api_keys = ApiKeys(db.engine, spec.api_keys)
        app.state.consumers = consumers
        app.state.ready = None  # as /readyz last found it
        if spec.on_startup:
            await spec.on_startup(app)
        ops_server = OpsServer(ops, settings.ops_host, settings.ops_port) if settings.ops_port else None
        if ops_server:
            await ops_server.start()
        # The broker is not a precondition of serving: the link connects whenever it is there.
        link.start()
        sweep.start()
        log.info("service started", consumers=[c.name for c in consumers])
        # What the working-day calendar built into this image knows: deadlines past it cannot be counted.
        known = calendar.coverage(clock.today())
        (log.warning if known["days_left"] < CALENDAR_WARN_DAYS else log.info)("working-day calendar", **known)
        # What start-up built (modules, rule sets, the OpenAPI models: some 150,000 objects) lives as
        # long as the process; left to the collector, every full collection walks it again, a pause
        # of about 50 ms that a request arriving meanwhile waits out (the estimate's p99, measured).
        gc.freeze()
        try:
            yield
        finally:
            if spec.on_shutdown:
                await spec.on_shutdown(app)
            await sweep.stop()
            if ops_server:
                await ops_server.stop()
            await link.stop()
            await db.dispose()
            tracing.shutdown()
            log.info("service stopped")

    # /docs and /redoc from the package's own Swagger UI and ReDoc files: they work on an intranet
    # with no way out to a CDN. Operation ids are the route functions' names (`submit_application`),
    # unique in each service: stable under a change of path, and what a generated client calls them.
    app = FastAPIOffline(
        title=spec.title,
        version="1.0",
        lifespan=lifespan,
        static_url="/docs/assets",
        generate_unique_id_function=operation_id,
        # The request spans are the OpenTelemetry instrumentation's (shared.tracing) and the request
        # metrics Prometheus's (shared.middleware): FastAPI's own would make each a second time.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_problem_handlers(app)
    # Uploads: materials, and an application carrying an employer's authorisation letter (base64, so 4/3 larger).
    app.add_middleware(
        BodyLimitMiddleware,
        default=settings.request_max_bytes,
        uploads=settings.material_max_bytes * 4 // 3 + 64 * 1024,
        upload_paths=r"/materials$|^/v1/applications$",
        large={r"^/v1/simulations$": settings.simulation_upload_max_bytes},
    )
    app.add_middleware(SecurityHeadersMiddleware, policy=spec.page_policy)
    app.add_middleware(TraceAndMetricsMiddleware)

    # Operators' endpoints, on their own port when OPS_PORT is set (shared/ops.py); never in the
    # partners' OpenAPI document.
    ops = ops_app(app) if settings.ops_port else app

    @ops.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": spec.name}

    # Readiness: 200 while the service can accept work (its database is up), 503 when it cannot.
    @ops.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> Any:
        # Two questions, kept apart: can it accept work (the database), and can it publish and
        # consume yet (the broker, the consumers)? Only the first takes it out of a load balancer:
        # while the broker is away intake still accepts, and the outbox keeps the events.
        checks: dict[str, str] = {}
        try:
            await request.app.state.db.ping()
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"down: {describe(exc)}"
        link = request.app.state.broker
        if link.producer is None:
            checks["broker"] = f"waiting: {link.waiting_for}"
        else:
            try:
                await broker_reachable(link.producer)
                checks["broker"] = "ok"
            except Exception as exc:
                checks["broker"] = f"down: {describe(exc)}"
        for c in request.app.state.consumers:
            checks[f"consumer:{c.name}"] = (
                "ok" if c.running and not c.waiting_for else f"waiting: {c.waiting_for}" if c.running else "not started"
            )
        publishing = all(v == "ok" for k, v in checks.items() if k != "database")
        ready = checks["database"] == "ok"
        if request.app.state.ready != ready:  # counted, so that an alert sees flapping between scrapes
            if request.app.state.ready is not None:
                READINESS_CHANGES.inc()
            request.app.state.ready = ready
            READY.set(ready)
        if ready:
            return {
                "status": "ready" if publishing else "accepting",
                "accepting": True,
                "publishing": publishing,
                "checks": checks,
                "calendar": calendar.coverage(clock.today()),
            }
        return problem_response(
            request,
            503,
            "Not ready: " + ", ".join(f"{k} {v}" for k, v in checks.items() if v != "ok"),
            checks=checks,
            accepting=False,
            publishing=publishing,
        )

    @ops.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        # Served on the operations port: the service's own state is the main app's.
        state = app.state
        await gauges.refresh(state.db, spec.outbox, state.consumers)
        if spec.on_scrape:
            await spec.on_scrape(app)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    subscribes = sorted({t for c in spec.consumers for t in c.handlers})

    @app.get("/asyncapi.json", tags=["operations"], summary="The events this service sends and receives (AsyncAPI 3)")
    async def asyncapi() -> dict[str, Any]:
        return asyncapi_document(spec.name, spec.publishes, subscribes)

    for router in spec.routers:
        app.include_router(router)
    openapi.install(app)
    tracing.instrument_app(app)
    return app
