"""The X-modules as scoring publishes them (`GET /v1/modules/{id}`, public): which are an owner's,
and which facts its registry answers. Verification never reads scoring's tables or files: it asks,
and keeps an answer for a short while (a new module version is picked up within `ttl` seconds).
"""

from __future__ import annotations

import time

import httpx

from services.verification.owners import OwnerModule, owner_module
from shared.outages import Unavailable


class ModuleCatalogue:
    def __init__(self, scoring_base_url: str, ttl: float = 30.0, client: httpx.AsyncClient | None = None) -> None:
        self.client = client or httpx.AsyncClient(base_url=scoring_base_url, timeout=httpx.Timeout(3.0, connect=1.0))
        self.ttl = ttl
        self.known: dict[str, tuple[float, OwnerModule | None]] = {}

    async def module(self, module_id: str) -> OwnerModule | None:
        """The module, or None if scoring knows no such module. Scoring unreachable: `Unavailable`
        (the consumer waits and tries again, as for a registry that is down)."""
        now = time.monotonic()
        kept = self.known.get(module_id)
        if kept is not None and now - kept[0] < self.ttl:
            return kept[1]
        try:
            r = await self.client.get(f"/v1/modules/{module_id}")
        except httpx.TransportError as exc:
            raise Unavailable(f"scoring's module catalogue: {type(exc).__name__}") from exc
        if r.status_code == 404:
            found = None
        elif r.status_code != 200:
            raise Unavailable(f"scoring's module catalogue answered {r.status_code}")
        else:
            found = owner_module(r.json())
        self.known[module_id] = (now, found)
        return found

    async def owners_modules(self, owner: str, named: list[str]) -> list[OwnerModule]:
        """Of the modules an application names, the owner's with facts its registry answers."""
        found = [await self.module(m) for m in named]
        return [m for m in found if m is not None and m.owner == owner and m.facts]

    async def aclose(self) -> None:
        await self.client.aclose()
