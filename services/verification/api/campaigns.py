"""`POST /v1/campaign-draws`: scoring's campaign asks for its sample from the permit register.

Only scoring's service key (scope `campaigns:draw`) may: the answer is counts per stratum, never
who was drawn (the drawn are kept here by pseudonymous key, and invited by SMS through publicity).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from services.verification import campaigns
from services.verification.api.access import unit_of_work
from shared.auth import Principal, current_principal, require_any
from shared.problems import Problem

router = APIRouter(prefix="/v1/campaign-draws", tags=["campaigns"])
SCOPE = "campaigns:draw"


class DrawRequest(BaseModel):
    campaign_id: str = Field(max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    title_zh: str = Field(max_length=200)
    strata: list[dict[str, Any]] = Field(min_length=1, max_length=500)
    cut_off_date: date
    closes_on: date
    seed: int = Field(ge=0, lt=2**63)
    keep_until: datetime


class Drawn(BaseModel):
    holders: int = Field(description="Valid permits on the register on the cut-off date")
    sizes: list[int] = Field(description="Per stratum (the plan's order), its holders on the register")
    invited: list[int] = Field(description="Per stratum, the holders drawn and invited")


@router.post("", response_model=Drawn, status_code=201, summary="Draw a campaign's sample from the permit register")
async def draw(body: DrawRequest, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    require_any(principal, {SCOPE})
    registries = request.app.state.registries
    police = registries.get("police") or next(iter(registries.values()))
    try:
        async with unit_of_work(request) as uow:
            drawn = await campaigns.draw_campaign(
                uow,
                police,
                body.model_dump(mode="json"),
                request.app.state.settings.candidate_key_salt,
                body.keep_until,
            )
            await uow.commit()
    except campaigns.CampaignRefused as exc:
        if exc.field:
            raise Problem.at(exc.field, exc.message, exc.status) from exc
        raise Problem(exc.status, exc.message) from exc
    return drawn
