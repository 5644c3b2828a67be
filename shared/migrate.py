"""Alembic migrations, one history per service, each in its own schema, and each service's rights.

`python -m shared.migrate upgrade` brings every service's schema to head, then grants each
service's login role the rights on its own schema (roles that do not exist are left out);
`python -m shared.migrate revision SERVICE -m MESSAGE` autogenerates a new revision.

Least privilege: the migrations run as the owner role (`points_owner`), which owns every schema,
table and trigger; each service connects as its own role (`points_intake`, …), which may read and
write its own tables and nothing else. It owns nothing, so it can neither drop a trigger nor
switch one off, and tables kept as evidence (APPEND_ONLY) it may only read and add to.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from shared.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ["intake", "verification", "scoring", "publicity"]
OWNER_ROLE = "points_owner"
SERVICE_ROLES = {service: f"points_{service}" for service in SERVICES}
# Evidence: the service adds rows and reads them, never changes or removes one.
APPEND_ONLY = {"verification": ["audit_log", "audit_anchors"]}
cli = typer.Typer(help=__doc__, no_args_is_help=True)


def config_for(service: str, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url or get_settings().database_url)
    return cfg


def run_env(metadata: MetaData) -> None:
    """Body of each service's migrations/env.py (online mode, async engine)."""
    schema = metadata.schema
    url = context.config.get_main_option("sqlalchemy.url")

    def do_run(conn: Connection) -> None:
        context.configure(
            connection=conn,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=lambda name, type_, parent: type_ != "schema" or name == schema,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        assert url, "sqlalchemy.url is set by config_for"
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            await conn.commit()
            await conn.run_sync(do_run)
            await conn.commit()
        await engine.dispose()

    asyncio.run(run())


def upgrade_all(url: str | None = None, services: list[str] | None = None) -> None:
    for service in services or SERVICES:
        command.upgrade(config_for(service, url), "head")
    asyncio.run(grant_service_rights(url or get_settings().database_url, services or SERVICES))


def _grants(service: str, role: str) -> list[str]:
    statements = [
        f'GRANT USAGE ON SCHEMA "{service}" TO {role}',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{service}" TO {role}',
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{service}" TO {role}',
        f'REVOKE ALL ON "{service}".alembic_version FROM {role}',
    ]
    for table in APPEND_ONLY.get(service, []):
        statements += [
            f'REVOKE ALL ON "{service}".{table} FROM {role}',
            f'GRANT SELECT, INSERT ON "{service}".{table} TO {role}',
        ]
    return statements


async def grant_service_rights(url: str, services: list[str]) -> None:
    """Run as the owner after the migrations: each service's role gets its own schema's tables, no more."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            roles = set((await conn.execute(text("SELECT rolname FROM pg_roles"))).scalars())
            for service in services:
                if SERVICE_ROLES[service] in roles:
                    for statement in _grants(service, SERVICE_ROLES[service]):
                        await conn.execute(text(statement))
    finally:
        await engine.dispose()


@cli.command()
def upgrade(database_url: str = typer.Option(None, help="Defaults to DATABASE_URL")) -> None:
    """Migrate every service's schema to head."""
    upgrade_all(database_url)
    typer.echo("migrated: " + ", ".join(SERVICES))


@cli.command()
def revision(service: str, message: str = typer.Option(..., "-m")) -> None:
    """Autogenerate a revision of one service's schema from its tables module."""
    command.revision(config_for(service), message=message, autogenerate=True)


if __name__ == "__main__":
    cli()
