"""A module owner's registry over HTTP: the endpoint and credential the owner registered.

The registry's contract: `POST <url>` with `Authorization: Bearer <credential>` and
`{"id_number", "cut_off", "facts": [names]}`; it answers `{"facts": {name: value}}`, leaving out
(or null) what it has no record of. One round trip per applicant, for all the owner's facts
the application needs. The client is the departments' HTTP adapter (registries_http.py):
timeouts, retries with backoff on a timeout or 5xx, a circuit breaker per owner; a registry
that is down raises `Unavailable`, so the owner's consumer replays its batch later.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from services.verification.registries_http import HttpRegistries


class OwnerRegistries:
    """One client (and circuit breaker) per owner, renewed when the owner registers its source again."""

    def __init__(self, timeout: float = 3.0, attempts: int = 3, backoff: float = 0.2) -> None:
        self.timeout, self.attempts, self.backoff = timeout, attempts, backoff
        self.clients: dict[str, tuple[tuple[str, str], HttpRegistries]] = {}

    def client(self, owner: str, url: str, credential: str) -> HttpRegistries:
        kept = self.clients.get(owner)
        if kept is not None and kept[0] == (url, credential):
            return kept[1]
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout, connect=1.0), headers={"Authorization": f"Bearer {credential}"}
        )
        client = HttpRegistries(url, attempts=self.attempts, backoff=self.backoff, client=http)
        self.clients[owner] = ((url, credential), client)
        return client

    async def facts(self, owner: str, source: Any, id_number: str, cut_off: date, names: list[str]) -> Any:
        """The registry's answer (JSON) for the holder's facts `names`; `source` is the owner's row."""
        client = self.client(owner, source.url, source.credential)
        return await client.ask(source.url, {"id_number": id_number, "cut_off": cut_off.isoformat(), "facts": names})

    async def aclose(self) -> None:
        for _key, client in self.clients.values():
            await client.client.aclose()
