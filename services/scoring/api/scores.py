"""Scores with their explanation: for whom access.py allows, and the same 404 for everyone else."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Request

from services.scoring import access, use_cases
from services.scoring.api.schemas import Score
from shared.auth import Principal, current_principal
from shared.problems import Problem
from shared.ranges import PathId

router = APIRouter(prefix="/v1", tags=["scores"])


def _not_visible(application_id: str, version: int | None = None) -> Problem:
    # One answer for an unknown application, one not yet scored and one this key may not see.
    what = f"score version {version}" if version is not None else "score"
    return Problem(404, f"No {what} of application {application_id} is visible to this key.")


async def _read(
    request: Request,
    application_id: str,
    principal: Principal,
    holder_id_number: str | None,
    version: int | None = None,
) -> dict:
    access.require_reader(principal, holder_id_number)
    async with request.app.state.db.unit_of_work() as uow:
        sight = await access.sight_of(
            uow.store, application_id, principal, holder_id_number, request.app.state.settings.candidate_key_salt
        )
        try:
            return await use_cases.read_score(uow.store, application_id, sight, version)
        except use_cases.NotVisible:
            raise _not_visible(application_id, version) from None


@router.get(
    "/scores/{application_id}",
    response_model=Score,
    response_model_exclude_unset=True,
    summary="The latest score of an application, with its explanation",
    description=f"For the partner that submitted it, a department that answered it (its own lines), an app "
    f"acting for the holder (header `{access.HOLDER_HEADER}`), and administrators.",
)
async def read_score(
    application_id: str,
    request: Request,
    principal: Principal = Depends(current_principal),
    holder_id_number: str | None = Header(None, alias=access.HOLDER_HEADER, max_length=18),
) -> dict:
    return await _read(request, application_id, principal, holder_id_number)


@router.get(
    "/scores/{application_id}/versions/{version}",
    response_model=Score,
    response_model_exclude_unset=True,
    summary="One version of an application's score (kept forever)",
)
async def read_score_version(
    application_id: str,
    version: PathId,
    request: Request,
    principal: Principal = Depends(current_principal),
    holder_id_number: str | None = Header(None, alias=access.HOLDER_HEADER, max_length=18),
) -> dict:
    return await _read(request, application_id, principal, holder_id_number, version)
