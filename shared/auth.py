"""Partner authentication: API keys, stored hashed, bound to a principal and scopes.

Each service keeps the keys of its own partners in its own schema (partners of intake,
officers of verification, districts of scoring). A key looks like `pk_<key id>_<secret>`;
only the SHA-256 of the secret is stored (the secret is 32 random bytes, so a slow hash
adds nothing). Lookups are cached briefly, so a revocation takes effect on every replica within
`cache_ttl` (half a second: one indexed read per key and replica at most twice a second), in a
cache of bounded size (an LRU), so a flood of made-up key ids cannot grow it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from sqlalchemy import Column, DateTime, MetaData, String, Table, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.problems import Problem


def api_keys_table(metadata: MetaData) -> Table:
    return Table(
        "api_keys",
        metadata,
        Column("key_id", String(32), primary_key=True),
        Column("secret_sha256", String(64), nullable=False),
        Column("principal", String(200), nullable=False),
        Column("scopes", ARRAY(String(100)), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("revoked_at", DateTime(timezone=True)),
    )


@dataclass(frozen=True)
class Principal:
    key_id: str
    principal: str
    scopes: frozenset[str] = field(default_factory=frozenset)

    def has(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes

    def scoped_values(self, prefix: str) -> set[str]:
        """Values of parameterised scopes, e.g. {'police'} for 'department:police'."""
        return {s.split(":", 1)[1] for s in self.scopes if s.startswith(prefix + ":")}


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Revocation must reach every replica within a second; the TTL leaves room for the request in flight.
CACHE_TTL = 0.5
# Far more than the active keys of any service; unknown key ids only ever evict each other's entries
# and the least recently used keys, which then cost one read each.
CACHE_SIZE = 4096


_MISSING = object()


class KeyCache:
    """Key lookups of the last `ttl` seconds, at most `size` of them (least recently used go first).

    A value is (secret hash, principal), or None for an unknown or revoked key id: caching those too
    keeps a client retrying a bad key off the database, and the bound keeps made-up ids from growing it.
    """

    def __init__(self, ttl: float, size: int) -> None:
        self.ttl, self.size = ttl, size
        self._entries: OrderedDict[str, tuple[float, tuple[str, Principal] | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key_id: str, now: float) -> Any:
        """The cached value, or _MISSING when there is none younger than the TTL."""
        entry = self._entries.get(key_id)
        if entry is None or now - entry[0] >= self.ttl:
            return _MISSING
        self._entries.move_to_end(key_id)
        return entry[1]

    def put(self, key_id: str, value: tuple[str, Principal] | None, now: float) -> None:
        self._entries[key_id] = (now, value)
        self._entries.move_to_end(key_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def drop(self, key_id: str) -> None:
        self._entries.pop(key_id, None)


class ApiKeys:
    def __init__(
        self, engine: AsyncEngine, table: Table, cache_ttl: float = CACHE_TTL, cache_size: int = CACHE_SIZE
    ) -> None:
        self.engine = engine
        self.table = table
        self._cache = KeyCache(cache_ttl, cache_size)

    async def issue(
        self, principal: str, scopes: list[str], *, key_id: str | None = None, secret: str | None = None
    ) -> str:
        """Issue a key; `key_id`/`secret` are only given for the local demo keys."""
        key_id = key_id or secrets.token_hex(8)
        secret = secret or secrets.token_urlsafe(32)
        async with self.engine.begin() as conn:
            stmt = pg_insert(self.table).values(
                key_id=key_id, secret_sha256=_sha256(secret), principal=principal, scopes=scopes
            )
            # Re-seeding a demo key brings its scopes up to date; a random key id never collides.
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[self.table.c.key_id], set_={"scopes": stmt.excluded.scopes, "revoked_at": None}
                )
            )
        return f"pk_{key_id}_{secret}"

    async def revoke(self, key_id: str) -> bool:
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(self.table)
                .where(self.table.c.key_id == key_id, self.table.c.revoked_at.is_(None))
                .values(revoked_at=func.now())
            )
        self._cache.drop(key_id)
        return bool(res.rowcount)

    async def authenticate(self, raw: str) -> Principal | None:
        try:
            prefix, key_id, secret = raw.split("_", 2)
        except ValueError:
            return None
        if prefix != "pk" or not key_id or not secret:
            return None
        row = await self._lookup(key_id)
        if row is None:
            return None
        digest, principal = row
        return principal if hmac.compare_digest(digest, _sha256(secret)) else None

    async def _lookup(self, key_id: str) -> tuple[str, Principal] | None:
        now = time.monotonic()
        cached = self._cache.get(key_id, now)
        if cached is not _MISSING:
            return cached  # type: ignore[no-any-return]  # what was stored: a key's row or None
        async with self.engine.connect() as conn:
            r = (await conn.execute(select(self.table).where(self.table.c.key_id == key_id))).first()
        row = None
        if r is not None and r.revoked_at is None:
            row = (r.secret_sha256, Principal(key_id, r.principal, frozenset(r.scopes)))
        self._cache.put(key_id, row, now)
        return row


async def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the authenticated partner, or a 401 problem."""
    raw = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    if not raw and auth.lower().startswith("bearer "):
        raw = auth[7:].strip()
    if not raw:
        raise Problem(401, "Send your API key as 'Authorization: Bearer <key>' or 'X-API-Key'.")
    principal: Principal | None = await request.app.state.api_keys.authenticate(raw)
    if principal is None:
        raise Problem(401, "The API key is unknown or revoked.")
    return principal


def require_any(principal: Principal, scopes: set[str]) -> None:
    if not any(principal.has(s) for s in scopes):
        raise Problem(403, f"This key lacks a scope for this operation (one of: {', '.join(sorted(scopes))}).")
