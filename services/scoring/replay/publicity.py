"""Scoring's adapter to publicity's list of a round's candidates (`GET /v1/rounds/{id}/candidates`,
with the key `PUBLICITY_CANDIDATES_KEY`, scope rounds:candidates). No service imports another:
the round and its list come over HTTP, as publicity serves them."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from services.scoring.replay.use_cases import ReplayRefused


async def round_candidates(base_url: str, key: str | None, round_id: str) -> dict[str, Any]:
    """{"round": the round, "candidates": its list with applications}; refused 404 for no such round."""
    if not key:
        raise ReplayRefused(503, "Replaying a round needs PUBLICITY_CANDIDATES_KEY, which is not set.")
    url = f"{base_url}/v1/rounds/{quote(round_id, safe='')}/candidates"
    try:
        async with httpx.AsyncClient(timeout=30.0) as client:
            response = await client.get(url, headers={"Authorization": f"Bearer {key}"})
    except httpx.HTTPError as exc:
        raise ReplayRefused(503, f"Publicity cannot be reached for the round's list: {exc!r}") from exc
    if response.status_code == 404:
        raise ReplayRefused(404, f"No round {round_id}.")
    if response.status_code != 200:
        raise ReplayRefused(503, f"Publicity answered {response.status_code} for the round's list.")
    doc: dict[str, Any] = response.json()
    return doc
