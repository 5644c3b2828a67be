"""The append-only, hash-chained audit log of registry queries.

`python -m services.verification.audit verify --department police` recomputes a chain, names
its first broken link, or a tail cut off after its latest anchor (exit status 1 either way).
"""
from __future__ import annotations

import asyncio
import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
import orjson
import typer
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from services.verification.domain import GENESIS, chain_hash
from services.verification.tables import audit_anchors, audit_heads, audit_log
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


@dataclass(frozen=True)
class ChainCheck:
    intact: bool
    entries_checked: int  # intact entries, from the first
    first_broken_entry: int | None  # the id of the first entry that does not follow from the one before
    last_entry: int | None  # the id the chain ends at
    anchored_entry: int | None  # the latest anchor's entry id (anchors.py)
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


LATEST_ANCHOR = (select(audit_anchors.c.entry_id, audit_anchors.c.hash)
                 .where(audit_anchors.c.department == bindparam("dept"))
                 .order_by(audit_anchors.c.entry_id.desc()).limit(1))


async def verify_chain(conn: AsyncConnection, department: str) -> ChainCheck:
    """Recompute the chain and hold it against its latest anchor: an edited or removed entry breaks
    the chain where it was; a tail cut off leaves the chain ending before the anchored entry."""
    anchor = (await conn.execute(LATEST_ANCHOR, {"dept": department})).first()
    prev, n, last = GENESIS, 0, None
    result = await conn.stream(select(audit_log).where(audit_log.c.department == department).order_by(audit_log.c.id))
    async for row in result:
        entry = {"department": row.department, "application_id": row.application_id, "requester": row.requester,
                 "fact": row.fact, "query": row.query, "response": row.response, "at": row.at.isoformat()}
        if row.prev_hash != prev or chain_hash(prev, entry) != row.hash:
            return ChainCheck(False, n, row.id, None, anchor and anchor.entry_id,
                              f"entry {row.id} does not follow from the entry before it")
        if anchor is not None and row.id == anchor.entry_id and row.hash != anchor.hash:
            return ChainCheck(False, n, row.id, None, anchor.entry_id,
                              f"entry {row.id} is not the entry that was anchored")
        prev, last = row.hash, row.id
        n += 1
    if anchor is not None and (last or 0) < anchor.entry_id:
        ends = f"ends at entry {last}" if last is not None else "is empty"
        return ChainCheck(False, n, None, last, anchor.entry_id,
                          f"the chain {ends} but was anchored at entry {anchor.entry_id}: its tail was cut off")
    return ChainCheck(True, n, None, last, anchor and anchor.entry_id)


cli = typer.Typer(help="The verification service's audit log")


@cli.callback()
def _commands() -> None:
    """Commands on the audit log."""


@cli.command()
def verify(department: str = typer.Option(..., help="The department whose chain to check, e.g. police"),
           database_url: str = typer.Option(None, help="Defaults to DATABASE_URL")) -> None:
    """Recompute a department's hash chain and name the first broken link."""
    async def run() -> ChainCheck:
        engine = create_async_engine(database_url or get_settings().database_url)
        try:
            async with engine.connect() as conn:
                return await verify_chain(conn, department)
        finally:
            await engine.dispose()

    check = asyncio.run(run())
    if check.intact:
        anchored = f", anchored at entry {check.anchored_entry}" if check.anchored_entry is not None else ""
        typer.echo(f"{department}: intact, {check.entries_checked} entries checked{anchored}")
        return
    if check.first_broken_entry is not None:
        typer.echo(f"{department}: BROKEN at entry {check.first_broken_entry} ({check.reason}; "
                   f"the {check.entries_checked} entries before it are intact)")
    else:
        typer.echo(f"{department}: TRUNCATED: {check.reason}")
    raise typer.Exit(1)


if __name__ == "__main__":
    cli()
