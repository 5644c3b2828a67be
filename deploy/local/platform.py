"""The whole local platform: infrastructure, schema, demo data and the four services.

Used by `make run` (supervised, in the foreground), `make test` (tests start their own
services on other ports, another database and their own topic prefix) and `make bench`.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field

import httpx

from deploy.local import broker, postgres
from deploy.local.processes import alive, free_port, read_pid, spawn, wait_for_port
from deploy.local.processes import stop as stop_process

# The demo keys live in shared.demo, so that the services can refuse them outside the embedded
# platform (shared.secrets_check); imported here for `seed_demo_keys` and the tests.
from shared.demo import DEMO_BINJIANG_REGISTRY_CREDENTIAL, DEMO_EMPLOYER, DEMO_KEYS, EMBEDDED, demo_key  # noqa: F401
from shared.migrate import OWNER_ROLE, SERVICE_ROLES

SERVICES = ["intake", "verification", "scoring", "publicity"]
BINJIANG = "district:binjiang"  # the module owner whose registry the embedded platform stands in for
# A service's operations port is its own + 50 (make run: 8051-8054); other platforms of the tests sit
# 70, 500 and 600 above theirs.
OPS_PORT_OFFSET = 50


@dataclass
class Platform:
    port_base: int = 8000
    database: str = "points"
    topic_prefix: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: dict = field(default_factory=dict)

    def port(self, service: str) -> int:
        return self.port_base + 1 + SERVICES.index(service)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port(service)}"

    def ops_port(self, service: str) -> int:
        """Where the service serves /healthz, /readyz and /metrics (OPS_PORT, shared/ops.py)."""
        return self.port(service) + OPS_PORT_OFFSET

    def ops_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ops_port(service)}"

    def proc_name(self, service: str) -> str:
        return f"{service}-{self.port(service)}"

    @property
    def database_url(self) -> str:
        return postgres.url(self.database)

    def env(self, service: str) -> dict[str, str]:
        return {
            "SERVICE_NAME": service,
            # Demo secrets are allowed here, and refused anywhere else (shared.secrets_check).
            "POINTS_ENVIRONMENT": EMBEDDED,
            # Each service as its own role: its own schema's tables, nothing else (shared/migrate.py).
            "DATABASE_URL": postgres.url(self.database, SERVICE_ROLES[service]),
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap(),
            "KAFKA_TOPIC_PREFIX": self.topic_prefix,
            "SCORING_BASE_URL": self.url("scoring"),
            "INTAKE_BASE_URL": self.url("intake"),
            "PUBLICITY_BASE_URL": self.url("publicity"),
            "VERIFICATION_BASE_URL": self.url("verification"),
            "PYTHONUNBUFFERED": "1",
            "KAFKA_GROUP_INSTANCE_ID": self.proc_name(service),
            "OPS_PORT": str(self.ops_port(service)),
            "OPS_HOST": "127.0.0.1",
            **self.extra_env,
        }

    # -- infrastructure -------------------------------------------------------------
    def infra_up(self, fresh_database: bool = False) -> None:
        postgres.start()
        postgres.create_database(self.database, fresh=fresh_database)
        postgres.ensure_roles(self.database)
        broker.start()

    def migrate_and_seed(self, holders: int = 20000) -> None:
        from services.verification.seed import seed

        self.migrate()
        asyncio.run(seed(self.database_url, holders))  # also lets verification's role read the registries
        asyncio.run(self.seed_demo_keys())

    def migrate(self, services: list[str] | None = None) -> None:
        """The schemas, migrated as their owner; then each service's role its rights."""
        from shared.migrate import upgrade_all

        upgrade_all(postgres.url(self.database, OWNER_ROLE), services)

    async def seed_demo_keys(self) -> None:
        from sqlalchemy.ext.asyncio import create_async_engine

        from shared.auth import ApiKeys

        engine = create_async_engine(self.database_url)
        tables = _key_tables()
        for service, keys in DEMO_KEYS.items():
            for kid, secret, principal, scopes in keys:
                await ApiKeys(engine, tables[service]).issue(principal, scopes, key_id=kid, secret=secret)
        await engine.dispose()

    # -- services -------------------------------------------------------------------
    def start_service(self, service: str, env: dict[str, str] | None = None) -> None:
        name = self.proc_name(service)
        stop_process(name)
        free_port(self.port(service), f"services.{service}.app")
        free_port(self.ops_port(service), f"services.{service}.app")
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            f"services.{service}.app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port(service)),
            "--no-access-log",
            "--timeout-graceful-shutdown",
            "10",
            # The services read X-Forwarded-For themselves, from TRUSTED_PROXIES only (shared.client_address).
            "--no-proxy-headers",
        ]
        self.procs[service] = spawn(name, argv, env={**self.env(service), **(env or {})})

    def start_services(self, only: list[str] | None = None) -> None:
        for s in only or SERVICES:
            self.start_service(s)
        self.wait_ready(only or SERVICES)
        if only is None and BINJIANG in self.env("verification").get("VERIFICATION_OWNERS", BINJIANG):
            self.start_owner_registry()

    # -- Binjiang's registry (a module owner's data platform, stood in for) ---------------
    @property
    def owner_registry_port(self) -> int:
        return self.port_base + 9

    @property
    def owner_registry_url(self) -> str:
        return f"http://127.0.0.1:{self.owner_registry_port}/v1/facts"

    def start_owner_registry(self) -> None:
        """Start the stand-in for Binjiang's data platform and register it as the district's source,
        through the API with the district's key, as the district would."""
        name = f"binjiang-registry-{self.owner_registry_port}"
        stop_process(name)
        free_port(self.owner_registry_port, "services.verification.owner_registry_server")
        argv = [sys.executable, "-m", "services.verification.owner_registry_server"]
        argv += ["--port", str(self.owner_registry_port), "--database-url", self.database_url]
        self.procs["binjiang-registry"] = spawn(name, argv, env={**self.env("verification"), "SERVICE_NAME": name})
        wait_for_port(self.owner_registry_port, 30, "Binjiang's registry stand-in", self.procs["binjiang-registry"])
        self.register_owner_source(self.owner_registry_url, DEMO_BINJIANG_REGISTRY_CREDENTIAL)

    def register_owner_source(self, url: str, credential: str) -> dict:
        r = httpx.put(
            f"{self.url('verification')}/v1/owners/{BINJIANG}/source",
            json={"url": url, "credential": credential},
            headers={"Authorization": f"Bearer {demo_key('verification', 'demobinjiang')}"},
            timeout=10,
        )
        r.raise_for_status()
        return r.json()

    def wait_ready(self, services: list[str], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for s in services:
            wait_for_port(self.port(s), max(1, deadline - time.monotonic()), f"the {s} service", self.procs.get(s))
            while True:
                try:
                    r = httpx.get(self.ops_url(s) + "/readyz", timeout=3)
                    # "accepting" is not enough here: its consumers have not joined yet.
                    if r.status_code == 200 and r.json().get("status") == "ready":
                        break
                    last = r.text
                except httpx.HTTPError as exc:
                    last = str(exc)
                if time.monotonic() > deadline:
                    raise SystemExit(f"the {s} service is not ready after {timeout:.0f}s: {last}")
                time.sleep(0.2)

    def stop_service(self, service: str) -> None:
        stop_process(self.proc_name(service))
        self.procs.pop(service, None)

    def stop_services(self) -> None:
        for s in SERVICES:
            self.stop_service(s)
        stop_process(f"binjiang-registry-{self.owner_registry_port}")
        self.procs.pop("binjiang-registry", None)

    def service_alive(self, service: str) -> bool:
        pid = read_pid(self.proc_name(service))
        return bool(pid and alive(pid))

    async def recover_broker(self) -> int:
        """After the local broker restarted empty (it keeps messages in memory): create the topics
        again and re-queue the last hour of events; the services reconnect on their own, and
        their inboxes drop whatever they had already handled. Returns the events re-queued."""
        from shared.bus.kafka import ensure_topics
        from shared.settings import Settings

        await ensure_topics(Settings(kafka_bootstrap_servers=broker.bootstrap(), kafka_topic_prefix=self.topic_prefix))
        return await self.republish_recent()

    async def republish_recent(self, seconds: int = 3600) -> int:
        """After a broker restart lost its log: queue recent events again (inboxes drop repeats)."""
        from datetime import timedelta

        from sqlalchemy.ext.asyncio import create_async_engine

        from shared.bus.outbox import mark_for_republish

        engine = create_async_engine(self.database_url)
        n = 0
        for table in _outbox_tables():
            n += await mark_for_republish(engine, table, timedelta(seconds=seconds))
        await engine.dispose()
        return n


def _key_tables():
    from services.intake.tables import api_keys as intake_keys
    from services.publicity.tables import api_keys as publicity_keys
    from services.scoring.tables import api_keys as scoring_keys
    from services.verification.tables import api_keys as verification_keys

    return {
        "intake": intake_keys,
        "verification": verification_keys,
        "scoring": scoring_keys,
        "publicity": publicity_keys,
    }


def _outbox_tables():
    from services.intake.tables import outbox as a
    from services.publicity.tables import outbox as d
    from services.scoring.tables import outbox as c
    from services.verification.tables import outbox as b

    return [a, b, c, d]
