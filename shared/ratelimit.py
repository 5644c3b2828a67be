"""Abuse limits that hold across replicas: requests per hour, per client address and per API key.

Each service counts in a small table of its own schema (`rate_limits`): one row per bucket (say
`evaluate:client:203.0.113.9`) and fixed hour window, bumped by one atomic upsert that refuses to go
past the limit, so replicas never race each other past it. A window allows its limit; at a window's
edge a client may get up to twice the limit within a short time, which is acceptable for abuse
limits. Client addresses come from shared.client_address (X-Forwarded-For only from trusted
proxies); rows are removed two hours after their window starts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import Depends, Request
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    bindparam,
    delete,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.auth import Principal, current_principal
from shared.client_address import request_client
from shared.problems import Problem

WINDOW_SECONDS = 3600
# Expired windows are deleted at most this often per process (one cheap indexed delete).
PURGE_EVERY_SECONDS = 300


def rate_limits_table(metadata: MetaData) -> Table:
    return Table(
        "rate_limits",
        metadata,
        Column("bucket", String(200), nullable=False),
        Column("window_start", DateTime(timezone=True), nullable=False),
        Column("hits", Integer, nullable=False),
        PrimaryKeyConstraint("bucket", "window_start"),
    )


class RateLimited(Exception):
    def __init__(self, bucket: str, limit: int, retry_after: int) -> None:
        super().__init__(f"{bucket}: over {limit} an hour")
        self.bucket, self.limit, self.retry_after = bucket, limit, retry_after

    def problem(self, what: str, whose: str = "this address") -> Problem:
        """The 429 a caller reads: what was limited, whose counter, when to try again."""
        return Problem(
            429,
            f"Too many {what} from {whose}: at most {self.limit} an hour. Try again in {self.retry_after} s.",
            type_="/problems/rate-limited",
            headers={"Retry-After": str(self.retry_after)},
        )


def window_of(now: float, window: int = WINDOW_SECONDS) -> tuple[datetime, int]:
    """The window `now` falls in, and the seconds until the next one starts (at least 1)."""
    start = math.floor(now / window) * window
    return datetime.fromtimestamp(start, UTC), max(1, math.ceil(start + window - now))


class Counter:
    """Hits per bucket and window in one service's `rate_limits` table."""

    def __init__(self, table: Table, window: int = WINDOW_SECONDS) -> None:
        self.table, self.window = table, window
        self._purged_at = 0.0
        # Built once: the statement is the same for every bucket, only its parameters change.
        self._bump = (
            pg_insert(table)
            .values(bucket=bindparam("bucket"), window_start=bindparam("start"), hits=1)
            .on_conflict_do_update(
                index_elements=[table.c.bucket, table.c.window_start],
                set_={"hits": table.c.hits + 1},
                where=table.c.hits < bindparam("limit"),
            )
            .returning(table.c.hits)
        )
        # Many buckets, each bumped by its count, in one statement; a bucket whose count would go
        # past the limit is left as it was (and not returned).
        self._bump_many = text(
            f"""
            INSERT INTO {table.fullname} AS r (bucket, window_start, hits)
            SELECT b, CAST(:start AS timestamptz), k
            FROM unnest(CAST(:buckets AS text[]), CAST(:ks AS int[])) AS t(b, k)
            WHERE k <= CAST(:limit AS int)
            ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + EXCLUDED.hits
            WHERE r.hits + EXCLUDED.hits <= CAST(:limit AS int)
            RETURNING bucket
            """
        )

    async def hit(self, engine: AsyncEngine, buckets: list[tuple[str, int]], now: float | None = None) -> None:
        """Count one request in every bucket, or in none: RateLimited names the first one that is full."""
        now = time.time() if now is None else now
        start, retry_after = window_of(now, self.window)
        if len(buckets) == 1:
            # One bucket is one atomic statement: run it in autocommit, a single round trip instead
            # of three (BEGIN, the upsert, COMMIT); it matters on a public endpoint hit hundreds of
            # times a second.
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await self._bump_one(conn, *buckets[0], start, retry_after)
        else:
            async with engine.begin() as conn:  # a refusal rolls back the buckets already counted
                for bucket, limit in buckets:
                    await self._bump_one(conn, bucket, limit, start, retry_after)
        await self._purge(engine, now)

    async def _purge(self, engine: AsyncEngine, now: float) -> None:
        if now - self._purged_at > PURGE_EVERY_SECONDS:
            self._purged_at = now
            async with engine.begin() as conn:
                await conn.execute(
                    delete(self.table).where(
                        self.table.c.window_start < datetime.fromtimestamp(now - 2 * self.window, UTC)
                    )
                )

    async def hit_each(
        self, engine: AsyncEngine, buckets: list[str], limit: int, now: float | None = None
    ) -> tuple[list[bool], int]:
        """Count one request per entry of `buckets` (a bucket may repeat), all in one statement;
        returns whether each is within `limit`, and the seconds to the next window. A bucket that
        cannot take all its requests at once is counted one by one, so exactly as many as fit go
        through, as with `hit`. For a batch of requests answered together (模拟积分)."""
        now = time.time() if now is None else now
        start, retry_after = window_of(now, self.window)
        wanted: dict[str, int] = {}
        for bucket in buckets:
            wanted[bucket] = wanted.get(bucket, 0) + 1
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            params = {"buckets": list(wanted), "ks": list(wanted.values()), "start": start, "limit": limit}
            took = set((await conn.execute(self._bump_many, params)).scalars())
            granted = {b: (n if b in took else 0) for b, n in wanted.items()}
            for bucket, n in wanted.items():
                while bucket not in took and granted[bucket] < n:
                    try:
                        await self._bump_one(conn, bucket, limit, start, retry_after)
                    except RateLimited:
                        break
                    granted[bucket] += 1
        await self._purge(engine, now)
        admitted = []
        for bucket in buckets:
            admitted.append(granted[bucket] > 0)
            granted[bucket] -= 1
        return admitted, retry_after

    async def _bump_one(
        self, conn: AsyncConnection, bucket: str, limit: int, start: datetime, retry_after: int
    ) -> None:
        params = {"bucket": bucket, "start": start, "limit": limit}
        if limit < 1 or (await conn.execute(self._bump, params)).first() is None:
            raise RateLimited(bucket, limit, retry_after)


def rate_limited(table: Table, action: str, per_principal: str, per_client: str, what: str) -> Callable[..., object]:
    """A FastAPI dependency: count this request against the caller's key and address, or answer 429.

    `per_principal` and `per_client` name the settings holding the hourly limits; `what` says in
    the problem's detail what is limited ("evaluations").
    """
    counter = Counter(table)

    async def dependency(request: Request, principal: Principal = Depends(current_principal)) -> None:
        settings = request.app.state.settings
        by_key, by_client = getattr(settings, per_principal), getattr(settings, per_client)
        buckets = [
            (f"{action}:key:{principal.key_id}", by_key),
            (f"{action}:client:{request_client(request)}", by_client),
        ]
        try:
            await counter.hit(request.app.state.db.engine, buckets)
        except RateLimited as exc:
            raise exc.problem(what, "this API key" if exc.bucket == buckets[0][0] else "this address") from None

    return dependency


def client_rate_limited(table: Table, action: str, per_client: str, what: str) -> Callable[..., object]:
    """A FastAPI dependency for a public endpoint (no key): count this request against the caller's
    address, or answer 429. `per_client` names the setting holding the hourly limit."""
    counter = Counter(table)

    async def dependency(request: Request) -> None:
        limit = getattr(request.app.state.settings, per_client)
        try:
            await counter.hit(request.app.state.db.engine, [(f"{action}:client:{request_client(request)}", limit)])
        except RateLimited as exc:
            raise exc.problem(what) from None

    return dependency
