"""A round's candidates with their applications, for scoring to replay the round under a draft.

Not public: the list the public reads is masked and names no application; this one names them, so
only a key with the scope `rounds:candidates` (scoring's, given at deployment) reads it.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from services.publicity.api.dependencies import reading
from services.publicity.api.reads import find_round
from services.publicity.api.schemas import RoundCandidates, round_doc
from shared.auth import Principal, current_principal, require_any

router = APIRouter(prefix="/v1/rounds", tags=["rounds"])
SCOPE = {"rounds:candidates"}


@router.get(
    "/{round_id}/candidates",
    response_model=RoundCandidates,
    summary="A round's list with each entry's application (scope rounds:candidates)",
)
async def candidates(round_id: str, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    require_any(principal, SCOPE)
    async with reading(request) as store:
        r = await find_round(store, round_id)
        rows = await store.round_candidates(round_id)
    return {
        "round": round_doc(r),
        "candidates": [
            {
                "entry": e.seq,
                "rank": e.rank,
                "application_id": e.application_id,
                "name": e.name_masked,
                "id_number": e.id_masked,
                "score": e.score,
                "admitted": e.admitted,
            }
            for e in rows
        ],
    }
