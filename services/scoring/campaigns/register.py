"""Scoring's adapter to verification's draw from the permit register (`POST /v1/campaign-draws`,
with the key `CAMPAIGN_DRAWS_KEY`, scope campaigns:draw). No service imports another: the register
stays in verification, and only counts per stratum come back."""

from __future__ import annotations

from typing import Any

import httpx

from shared.problems import Problem


async def draw(base_url: str, key: str | None, request: dict[str, Any]) -> dict[str, Any]:
    """{"holders", "sizes": per stratum, "invited": per stratum}; verification's 422 (a plan that
    does not cover the register) comes back as ours, naming the same field."""
    if not key:
        raise Problem(503, "Opening a campaign needs CAMPAIGN_DRAWS_KEY, which is not set.")
    try:
        async with httpx.AsyncClient(timeout=120.0) as client:
            response = await client.post(
                f"{base_url}/v1/campaign-draws", json=request, headers={"Authorization": f"Bearer {key}"}
            )
    except httpx.HTTPError as exc:
        raise Problem(503, f"Verification cannot be reached for the permit register: {exc!r}") from exc
    if response.status_code == 422:
        problem = response.json()
        raise Problem(422, problem.get("detail", "the sampling plan was refused"), errors=problem.get("errors"))
    if response.status_code != 201:
        raise Problem(503, f"Verification answered {response.status_code} to the draw.")
    doc: dict[str, Any] = response.json()
    return doc
