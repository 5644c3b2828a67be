"""Alembic migrations, one history per service, each in its own schema.

`python -m shared.migrate upgrade` brings every service's schema to head;
`python -m shared.migrate revision SERVICE -m MESSAGE` autogenerates a new revision.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from shared.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ["intake", "verification", "scoring", "publicity"]
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

    def do_run(conn) -> None:
        context.configure(
            connection=conn, target_metadata=metadata, version_table_schema=schema, include_schemas=True,
            include_name=lambda name, type_, parent: type_ != "schema" or name == schema,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            await conn.commit()
            await conn.run_sync(do_run)
            await conn.commit()
        await engine.dispose()

    asyncio.run(run())


def upgrade_all(url: str | None = None) -> None:
    for service in SERVICES:
        command.upgrade(config_for(service, url), "head")


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
