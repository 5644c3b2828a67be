"""The append-only, hash-chained audit log of registry queries.

`python -m services.verification.audit verify --department police` recomputes a chain and
names its first broken link (exit status 1 when broken).
"""
from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
import orjson
import typer
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from services.verification.domain import GENESIS, chain_hash
from services.verification.tables import audit_heads, audit_log
from shared.db import UnitOfWork
from shared.settings import get_settings

# Built once: see the intake handlers on statement cost.
LOCK_HEAD = select(audit_heads.c.last_hash).where(audit_heads.c.department == bindparam("dept")).with_for_update()
START_CHAIN = pg_insert(audit_heads).on_conflict_do_nothing()
APPEND = insert(audit_log)
MOVE_HEAD = update(audit_heads).where(audit_heads.c.department == bindparam("dept"))


async def append(uow: UnitOfWork, department: str, application_id: str, requester: str,
                 entries: list[tuple[str, dict[str, Any], Any]]) -> None:
    """Append (fact, query, response) entries to the department's chain, in this transaction.

    The log keeps a digest of what came back, not the personal data itself: enough to prove
    later what a department saw (the department's result holds the facts), without a second
    copy of everyone's records in a table nobody may ever delete from. The chain head is locked once per transaction and then carried in memory, so a batch
    of events extends the chain with one read and two batched writes at commit.
    """
    key = f"audit_head:{department}"
    prev = uow.memo.get(key)
    if prev is None:
        prev = await uow.conn.scalar(LOCK_HEAD, {"dept": department})
        if prev is None:  # the department's first query ever: start its chain
            await uow.conn.execute(START_CHAIN, {"department": department, "last_hash": GENESIS})
            prev = await uow.conn.scalar(LOCK_HEAD, {"dept": department})
    for fact, query, response in entries:
        at = datetime.now(timezone.utc)
        entry = {"department": department, "application_id": application_id, "requester": requester, "fact": fact,
                 "query": query, "response": response_digest(response), "at": at.isoformat()}
        h = chain_hash(prev, entry)
        uow.later(APPEND, {**entry, "at": at, "prev_hash": prev, "hash": h})
        prev = h
    uow.memo[key] = prev
    uow.later(MOVE_HEAD, {"dept": department, "last_hash": prev})


def response_digest(response: Any) -> dict[str, Any]:
    """What came back, as a SHA-256 of its canonical JSON, or of the bytes (and how many records, when a list)."""
    canonical = response if isinstance(response, bytes) else orjson.dumps(response, option=orjson.OPT_SORT_KEYS,
                                                                           default=str)
    digest: dict[str, Any] = {"sha256": hashlib.sha256(canonical).hexdigest()}
    if isinstance(response, list):
        digest["records"] = len(response)
    return digest


async def verify_chain(conn: AsyncConnection, department: str) -> tuple[bool, int, int | None]:
    """Recompute the chain: (intact, entries checked, id of the first broken entry)."""
    prev = GENESIS
    n = 0
    result = await conn.stream(select(audit_log).where(audit_log.c.department == department).order_by(audit_log.c.id))
    async for row in result:
        entry = {"department": row.department, "application_id": row.application_id, "requester": row.requester,
                 "fact": row.fact, "query": row.query, "response": row.response, "at": row.at.isoformat()}
        if row.prev_hash != prev or chain_hash(prev, entry) != row.hash:
            return False, n, row.id
        prev = row.hash
        n += 1
    return True, n, None


cli = typer.Typer(help="The verification service's audit log")


@cli.callback()
def _commands() -> None:
    """Commands on the audit log."""


@cli.command()
def verify(department: str = typer.Option(..., help="The department whose chain to check, e.g. police"),
           database_url: str = typer.Option(None, help="Defaults to DATABASE_URL")) -> None:
    """Recompute a department's hash chain and name the first broken link."""
    async def run() -> tuple[bool, int, int | None]:
        engine = create_async_engine(database_url or get_settings().database_url)
        try:
            async with engine.connect() as conn:
                return await verify_chain(conn, department)
        finally:
            await engine.dispose()

    intact, checked, broken = asyncio.run(run())
    if intact:
        typer.echo(f"{department}: intact, {checked} entries checked")
        return
    typer.echo(f"{department}: BROKEN at entry {broken} (the {checked} entries before it are intact)")
    raise typer.Exit(1)


if __name__ == "__main__":
    cli()
