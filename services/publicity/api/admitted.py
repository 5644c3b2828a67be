"""A final list's admitted candidates, for the module's owner: what round.finalized refers to.

Not public: it names applications. Only a key acting for the module's owner (`module:<owner>`)
reads it; any other key is told, as for an unknown round, that there is no such round.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.publicity import domain
from services.publicity.api.dependencies import problem_of, reading
from services.publicity.api.schemas import AdmittedPage
from services.publicity.rounds import use_cases
from shared.auth import Principal, current_principal
from shared.ranges import INT32_MAX

router = APIRouter(prefix="/v1/rounds", tags=["rounds"])
PAGE_MAX = 1000


@router.get(
    "/{round_id}/admitted",
    response_model=AdmittedPage,
    summary="A final list's admitted candidates, a page at a time (the module's owner)",
)
async def admitted(
    round_id: str,
    request: Request,
    version: int = Query(..., ge=1, le=INT32_MAX, description="The final list's version (round.finalized's)"),
    after: int = Query(0, ge=0, le=INT32_MAX, description="The last rank of the previous page"),
    limit: int = Query(PAGE_MAX, ge=1, le=PAGE_MAX),
    principal: Principal = Depends(current_principal),
) -> Response:
    async with reading(request) as store:
        try:
            page = await use_cases.admitted_page(
                store, round_id, principal.scoped_values("module"), version, after, limit
            )
        except domain.Refused as exc:
            raise problem_of(exc) from exc
    body = {
        "round_id": round_id,
        "list_version": page.round.list_version,
        "admitted": page.round.admitted,
        "items": [
            {
                "rank": e.rank,
                "entry": e.seq,
                "application_id": e.application_id,
                "name": e.name_masked,
                "id_number": e.id_masked,
                "score": e.score,
            }
            for e in page.entries
        ],
        "next_after": page.entries[-1].rank if len(page.entries) == limit else None,
    }
    return Response(orjson.dumps(body), media_type="application/json")
