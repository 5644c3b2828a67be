"""After a broker lost its log: queue the events of the last hours again, from every outbox.

    python -m shared.bus.republish --hours 24 [--schema intake ...]

Run as the migration owner (its DATABASE_URL reaches every schema). Each service's relay then
publishes them again in order; consumers' inboxes drop what they had already handled, so only
what the broker lost has an effect. Outbox rows are kept `OUTBOX_RETENTION_HOURS` (a week by
default): that is how far back a refill can reach.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import typer
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import create_async_engine

from shared.bus.outbox import mark_for_republish
from shared.bus.tables import outbox_table
from shared.migrate import SERVICES
from shared.settings import get_settings

app = typer.Typer(add_completion=False, help=__doc__)


async def republish(database_url: str, schemas: list[str], since: timedelta) -> dict[str, int]:
    """Events published within `since` queued again, per schema."""
    engine = create_async_engine(database_url)
    try:
        return {
            schema: await mark_for_republish(engine, outbox_table(MetaData(schema=schema)), since) for schema in schemas
        }
    finally:
        await engine.dispose()


@app.command()
def main(
    hours: float = typer.Option(..., min=0.01, help="Queue again what was published this many hours back"),
    schema: list[str] = typer.Option(list(SERVICES), help="The services' schemas (default: all four)"),
) -> None:
    queued = asyncio.run(republish(get_settings().database_url, schema, timedelta(hours=hours)))
    for name, n in queued.items():
        typer.echo(f"{name}: {n} events queued again")


if __name__ == "__main__":
    app()
