"""Re-key the pseudonymous holder keys after CANDIDATE_KEY_SALT is rotated.

    python -m shared.rekey --old-salt-env OLD_CANDIDATE_KEY_SALT --new-salt-env CANDIDATE_KEY_SALT

A key is one-way (shared.pseudonyms), so the old keys cannot be turned into new ones by
themselves: the ID numbers behind them are still in intake (each application's holder and
family), and from each number the command makes the pair (key under the old salt, key under the
new one). Each service declares where it keeps keys (`HOLDER_KEYS` in its tables.py): a column
holding one key, or a JSON document with keys anywhere in it (the outbox's events, scoring's
`holder`, verification's kept question). Every old key found there is replaced by its new one,
one transaction per service schema, so a service is either wholly re-keyed or not at all.

Idempotent: a second run finds no old keys and changes nothing; a run stopped half-way (one
schema done, the next not) is finished by running it again. Run as the owner role (DATABASE_URL,
as for the migrations: it reads intake and writes every schema), with intake stopped (no key is
made during the switch). Salts are read from environment variables, never from the command line
(which `ps` shows).
"""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import typer
from sqlalchemy import Column, Table, bindparam, column, func, select, table, text, tuple_, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from shared.pseudonyms import holder_key
from shared.settings import get_settings

SERVICES = ["intake", "verification", "scoring", "publicity"]
BATCH = 5000
# Where the ID numbers behind every key are: intake keeps each application's holder and family.
ID_NUMBERS = text(
    "SELECT holder_id_number FROM intake.applications "
    "UNION SELECT m->>'id_number' FROM intake.applications, jsonb_array_elements(family) m "
    "WHERE m ? 'id_number'"
)
MAP = table("rekey_map", column("old"), column("new"))


@dataclass(frozen=True)
class KeyColumn:
    """Where a service keeps holder keys: `column` holds one key, or (JSONB) documents with keys
    anywhere in them. `guard` names a trigger that refuses changes to the rows (a final list's
    entries): the command lifts it for its own transaction only, as the key is a pseudonym, not content."""

    column: Column[Any]
    guard: str | None = None


@dataclass
class Outcome:
    rekeyed: int = 0
    unknown: int = 0  # keys with no ID number behind them in intake: left as they are, and reported


def key_pairs(id_numbers: list[str], old_salt: str, new_salt: str) -> dict[str, str]:
    """Each holder's key under the old salt, to the one under the new salt."""
    return {holder_key(n, old_salt): holder_key(n, new_salt) for n in id_numbers if n}


def rekey_document(doc: Any, pairs: dict[str, str]) -> tuple[Any, int]:
    """`doc` with every old key (a string anywhere in it) replaced by its new one; how many were."""
    if isinstance(doc, str):
        return (pairs[doc], 1) if doc in pairs else (doc, 0)
    if isinstance(doc, list):
        items = [rekey_document(v, pairs) for v in doc]
        return [v for v, _ in items], sum(n for _, n in items)
    if isinstance(doc, dict):
        found = {k: rekey_document(v, pairs) for k, v in doc.items()}
        return {k: v for k, (v, _) in found.items()}, sum(n for _, n in found.values())
    return doc, 0


def key_columns(service: str) -> list[KeyColumn]:
    """The service's declared key locations (its tables module is named, not imported by shared)."""
    declared: list[KeyColumn] = importlib.import_module(f"services.{service}.tables").HOLDER_KEYS
    return declared


async def _rekey_column(conn: AsyncConnection, kc: KeyColumn, pairs: dict[str, str]) -> Outcome:
    col, tbl = kc.column, kc.column.table
    assert isinstance(tbl, Table)
    if isinstance(col.type, JSONB):
        return Outcome(rekeyed=await _rekey_documents(conn, col, pairs))
    target = tbl.c[col.name]
    result = await conn.execute(update(tbl).where(target == MAP.c.old).values({col.name: MAP.c.new}))
    unknown = await conn.scalar(
        select(func.count())
        .select_from(tbl)
        .where(target.isnot(None), target.not_in(select(MAP.c.new).scalar_subquery()))
    )
    return Outcome(rekeyed=result.rowcount, unknown=unknown or 0)


async def _rekey_documents(conn: AsyncConnection, col: Column[Any], pairs: dict[str, str]) -> int:
    """Walk the documents a page at a time (by primary key), writing back those that changed."""
    tbl = col.table
    pk = list(tbl.primary_key.columns)
    after: tuple[Any, ...] | None = None
    changed = 0
    while True:
        query = select(*pk, col).order_by(*pk).limit(BATCH)
        if after is not None:
            query = query.where(tuple_(*pk) > tuple_(*after))
        rows = (await conn.execute(query)).all()
        if not rows:
            return changed
        updates = []
        for row in rows:
            doc, n = rekey_document(row[-1], pairs)
            if n:
                updates.append({**{f"pk_{c.name}": row[i] for i, c in enumerate(pk)}, "doc": doc})
        if updates:
            where = [c == bindparam(f"pk_{c.name}") for c in pk]
            await conn.execute(update(tbl).where(*where).values({col.name: bindparam("doc", type_=JSONB)}), updates)
            changed += len(updates)
        after = tuple(rows[-1][: len(pk)])


def _chunks(pairs: dict[str, str]) -> Iterator[list[dict[str, str]]]:
    items = [{"old": o, "new": n} for o, n in pairs.items()]
    for i in range(0, len(items), BATCH):
        yield items[i : i + BATCH]


async def rekey_service(conn: AsyncConnection, service: str, pairs: dict[str, str]) -> dict[str, Outcome]:
    """One service's keys, in the caller's transaction."""
    await conn.execute(text("CREATE TEMP TABLE rekey_map (old text PRIMARY KEY, new text NOT NULL) ON COMMIT DROP"))
    for chunk in _chunks(pairs):
        await conn.execute(text("INSERT INTO rekey_map (old, new) VALUES (:old, :new)"), chunk)
    outcomes: dict[str, Outcome] = {}
    for kc in key_columns(service):
        name = f"{kc.column.table.fullname}.{kc.column.name}"
        if kc.guard:
            await conn.execute(text(f"ALTER TABLE {kc.column.table.fullname} DISABLE TRIGGER {kc.guard}"))
        outcomes[name] = await _rekey_column(conn, kc, pairs)
        if kc.guard:
            await conn.execute(text(f"ALTER TABLE {kc.column.table.fullname} ENABLE TRIGGER {kc.guard}"))
    return outcomes


async def rekey(url: str, old_salt: str, new_salt: str, services: list[str] | None = None) -> dict[str, Outcome]:
    """Re-key every service's stored keys from `old_salt` to `new_salt`; what was done, per column."""
    if old_salt == new_salt:
        raise ValueError("the old and the new salt are the same: nothing to re-key")
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            id_numbers = list((await conn.execute(ID_NUMBERS)).scalars())
        pairs = key_pairs(id_numbers, old_salt, new_salt)
        outcomes: dict[str, Outcome] = {}
        for service in services or SERVICES:
            async with engine.begin() as conn:  # one transaction per service schema
                outcomes.update(await rekey_service(conn, service, pairs))
        return outcomes
    finally:
        await engine.dispose()


def _salt(env: str) -> str:
    value = os.environ.get(env)
    if not value:
        raise typer.BadParameter(f"{env} is not set in the environment", param_hint=env)
    return value


def main(
    old_salt_env: str = typer.Option(..., help="The environment variable holding the salt the keys were made with"),
    new_salt_env: str = typer.Option(..., help="The environment variable holding the new salt"),
    database_url: str = typer.Option(None, help="The owner role's URL; defaults to DATABASE_URL"),
) -> None:
    """Replace every stored holder key made with the old salt by the one made with the new salt."""
    outcomes = asyncio.run(rekey(database_url or get_settings().database_url, _salt(old_salt_env), _salt(new_salt_env)))
    for name, outcome in outcomes.items():
        note = f"; {outcome.unknown} with no ID number in intake, left as they were" if outcome.unknown else ""
        typer.echo(f"{name}: {outcome.rekeyed} re-keyed{note}")


if __name__ == "__main__":
    typer.run(main)
