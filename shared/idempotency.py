"""`Idempotency-Key` for POST requests: the same key and body answer with the first response;
the same key with another body is a 409.

The key is claimed inside the request's own transaction, so the effect and the stored
response commit together: a retry after a timeout or a crash either finds the response
or finds nothing done. A concurrent duplicate waits on the key's row until the first commits.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.problems import Problem

HEADER = "idempotency-key"


def idempotency_table(metadata: MetaData) -> Table:
    return Table(
        "idempotency_keys",
        metadata,
        Column("principal", String(200), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("body_sha256", String(64), nullable=False),
        Column("status_code", Integer),
        Column("response", JSONB),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class Idempotency:
    def __init__(self, table: Table) -> None:
        self.table = table

    async def claim(
        self, conn: AsyncConnection, request: Request, principal: str, body_digest: str | None = None
    ) -> JSONResponse | None:
        """Claim the request's key in this transaction; the stored response if it was answered before.

        `body_digest` stands for the body when the route has already consumed it (multipart uploads)."""
        key = request.headers.get(HEADER)
        if key is None:
            return None
        if not 1 <= len(key) <= 200:
            raise Problem(
                400,
                "Idempotency-Key must be 1 to 200 characters.",
                errors=[{"field": "Idempotency-Key", "message": "1 to 200 characters"}],
            )
        body = body_digest or hashlib.sha256(await request.body()).hexdigest()
        # The same key on another route or resource (withdrawing another application) is another request.
        digest = hashlib.sha256(f"{request.method} {request.url.path} {body}".encode()).hexdigest()
        t = self.table
        mine = (
            await conn.execute(
                pg_insert(t)
                .values(principal=principal, key=key, body_sha256=digest)
                .on_conflict_do_nothing()
                .returning(t.c.key)
            )
        ).first()
        if mine is not None:
            return None
        row = (await conn.execute(select(t).where(t.c.principal == principal, t.c.key == key))).one()
        if row.body_sha256 != digest:
            raise Problem(
                409,
                "This Idempotency-Key was used with a different request body.",
                type_="/problems/idempotency-key-reused",
                errors=[{"field": "Idempotency-Key", "message": "already used with another body"}],
            )
        if row.status_code is None:  # claimed by a request that did not finish: it changed nothing
            raise Problem(409, "A request with this Idempotency-Key is still being processed; retry shortly.")
        return JSONResponse(row.response, status_code=row.status_code, headers={"Idempotent-Replayed": "true"})

    async def remember(
        self, conn: AsyncConnection, request: Request, principal: str, status_code: int, response: Any
    ) -> None:
        key = request.headers.get(HEADER)
        if key is None:
            return
        t = self.table
        await conn.execute(
            update(t)
            .where(t.c.principal == principal, t.c.key == key)
            .values(status_code=status_code, response=response)
        )
