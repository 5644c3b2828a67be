"""`python -m services.verification.audit verify --department police` recomputes a chain, names
its first broken link, or a tail cut off after its latest anchor (exit status 1 either way)."""

from __future__ import annotations

import asyncio

import typer

from services.verification.audit.chain import ChainCheck, verify_chain
from services.verification.settings import get_settings
from services.verification.store import Store
from shared.db import Database

cli = typer.Typer(help="The verification service's audit log")


@cli.callback()
def _commands() -> None:
    """Commands on the audit log."""


@cli.command()
def verify(
    department: str = typer.Option(..., help="The department whose chain to check, e.g. police"),
    database_url: str = typer.Option(None, help="Defaults to DATABASE_URL"),
) -> None:
    """Recompute a department's hash chain and name the first broken link."""

    async def run() -> ChainCheck:
        db = Database(database_url or get_settings().database_url, pool_size=1, store_factory=Store)
        try:
            async with db.unit_of_work() as uow:
                return await verify_chain(uow, department)
        finally:
            await db.dispose()

    check = asyncio.run(run())
    if check.intact:
        anchored = f", anchored at entry {check.anchored_entry}" if check.anchored_entry is not None else ""
        typer.echo(f"{department}: intact, {check.entries_checked} entries checked{anchored}")
        return
    if check.first_broken_entry is not None:
        typer.echo(
            f"{department}: BROKEN at entry {check.first_broken_entry} ({check.reason}; "
            f"the {check.entries_checked} entries before it are intact)"
        )
    else:
        typer.echo(f"{department}: TRUNCATED: {check.reason}")
    raise typer.Exit(1)


if __name__ == "__main__":
    cli()
