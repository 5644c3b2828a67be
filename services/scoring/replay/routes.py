"""`POST /v1/rounds/{round_id}/replays`: the policy office replays a final round under a draft.

The answer is computed at once and kept nowhere (a round of thousands re-scores in seconds). The
office (`rounds:replay`) sees the counts, the masked entrants and leavers and the groups; each
person's line-by-line difference is for officers (`rounds:officer`) only.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field, model_validator

from services.scoring.api.schemas import Replay
from services.scoring.replay import publicity, use_cases
from services.scoring.simulation.named_draft import draft_of, exactly_one
from services.scoring.tables import rate_limits
from shared.auth import Principal, current_principal, require_any
from shared.problems import Problem
from shared.ratelimit import rate_limited

router = APIRouter(prefix="/v1/rounds", tags=["rounds"])
SCOPE = {"rounds:replay"}
OFFICER = "rounds:officer"
MAX_DRAFT_BYTES = 1 << 20


class ReplayRequest(BaseModel):
    draft: str | None = Field(
        None, max_length=60, description="A rule set id: in use, or an uploaded draft (PUT /v1/rule-sets/drafts/{id})"
    )
    draft_document: str | None = Field(
        None,
        max_length=MAX_DRAFT_BYTES,
        description="Or the draft itself: YAML, whole or `based_on` + changed indicators",
    )

    @model_validator(mode="after")
    def _one_draft(self) -> ReplayRequest:
        exactly_one(self.draft, self.draft_document)
        return self


@router.post(
    "/{round_id}/replays",
    response_model=Replay,
    response_model_exclude_unset=True,
    # Every candidate re-scored twice, at once: counted per key and address like a simulation.
    dependencies=[
        Depends(rate_limited(rate_limits, "replay", "replays_per_principal_hour", "replays_per_client_hour", "replays"))
    ],
    summary="Replay a final round under a draft: who would enter, who would leave",
)
async def replay(
    body: ReplayRequest,
    request: Request,
    round_id: str = Path(max_length=40, pattern=r"^[A-Za-z0-9-]+$"),
    principal: Principal = Depends(current_principal),
) -> dict:
    require_any(principal, SCOPE)
    draft = await draft_of(request, body.draft, body.draft_document)
    settings = request.app.state.settings
    try:
        listed = await publicity.round_candidates(
            settings.publicity_for_services, settings.publicity_candidates_key, round_id
        )
        # A read: the unit of work is never committed, and nothing of the round is written anywhere.
        async with request.app.state.db.unit_of_work() as uow:
            report = await use_cases.replay(uow.store, listed["round"], listed["candidates"], draft)
    except use_cases.ReplayRefused as exc:
        raise Problem(exc.status, exc.message, type_=exc.type) from exc
    if not principal.has(OFFICER):
        report.pop("people")
    return report
