"""The desk's adapter to intake's materials API (a `materials:read` key, scope given at deployment)."""

from __future__ import annotations

import httpx

from services.verification.use_cases.errors import MaterialRefused, MaterialUnreachable


class IntakeMaterials:
    def __init__(self, base_url: str, key: str | None) -> None:
        self.base_url, self.key = base_url, key
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        # Made at first use, inside the running loop (an officer opens materials rarely).
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.base_url, timeout=10.0, headers={"Authorization": f"Bearer {self.key}"}
            )
        return self._client

    async def fetch(self, url: str) -> bytes:
        try:
            r = await self.client.get(url)
        except httpx.HTTPError as exc:
            raise MaterialUnreachable(f"Intake could not be reached for the material: {exc}") from exc
        if r.status_code != 200:
            raise MaterialRefused(r.status_code)
        return r.content

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
