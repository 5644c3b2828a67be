"""Issue and revoke partner API keys (`python -m shared.keys --help`).

Every service keeps its own partners' keys in `<service>.api_keys`; the key is printed
once and only its hash is stored.
"""

from __future__ import annotations

import asyncio

import typer
from sqlalchemy import MetaData

from shared.auth import ApiKeys, api_keys_table
from shared.db import make_engine
from shared.identity import credit_code_problem
from shared.settings import get_settings

SERVICES = ("intake", "verification", "scoring", "publicity")
cli = typer.Typer(help=__doc__, no_args_is_help=True)


def _keys(service: str) -> ApiKeys:
    if service not in SERVICES:
        raise typer.BadParameter(f"service must be one of {', '.join(SERVICES)}")
    return ApiKeys(make_engine(get_settings().database_url, 2), api_keys_table(MetaData(schema=service)))


@cli.command()
def issue(
    service: str = typer.Option(..., help="Service whose API the key opens"),
    principal: str = typer.Option(..., help="Who holds the key, e.g. 'hr-system-91330100MA27XXXXXX'"),
    scope: list[str] = typer.Option(
        ...,
        help="Scopes: window, online, guardian, admin, employer:<credit code>, "
        "materials:read, department:<name>, scores:read, scores:holder",
    ),
) -> None:
    """Issue a key and print it (it cannot be shown again)."""
    for sc in scope:
        if sc.startswith("employer:") and (problem := credit_code_problem(sc.split(":", 1)[1])):
            raise typer.BadParameter(f"{sc}: the unified social credit code {problem}")

    async def run() -> str:
        keys = _keys(service)
        try:
            return await keys.issue(principal, scope)
        finally:
            await keys.engine.dispose()

    typer.echo(asyncio.run(run()))


@cli.command()
def revoke(
    service: str = typer.Option(...), key_id: str = typer.Option(..., help="The part between 'pk_' and the next '_'")
) -> None:
    """Revoke a key; every replica of the service refuses it within a second."""

    async def run() -> bool:
        keys = _keys(service)
        try:
            return await keys.revoke(key_id)
        finally:
            await keys.engine.dispose()

    typer.echo("revoked" if asyncio.run(run()) else "no such active key")


if __name__ == "__main__":
    cli()
