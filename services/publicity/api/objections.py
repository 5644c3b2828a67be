"""Objections (anyone, no key), reviews (the holder, through a partner app), and the officers' desk."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from services.publicity import domain
from services.publicity.api.dependencies import problem_of, reading, settings_of
from services.publicity.api.lodging import client_of, lodge_objection, lodged_or_problem
from services.publicity.api.schemas import (
    Answer,
    DeskObjection,
    ObjectionReceipt,
    ObjectionRequest,
    ReviewRequest,
    objection_doc,
)
from services.publicity.domain import ObjectionStatus
from services.publicity.objections import use_cases
from services.publicity.tables import rate_limits
from shared import clock
from shared.auth import Principal, current_principal, require_any
from shared.problems import Problem
from shared.ratelimit import rate_limited

router = APIRouter(tags=["objections and reviews"])


@router.post(
    "/v1/objections",
    status_code=201,
    response_model=ObjectionReceipt,
    summary="Object to a list entry or a score notice (anyone)",
)
async def object_to(body: ObjectionRequest, request: Request) -> JSONResponse:
    receipt = await lodge_objection(request, body)
    return JSONResponse(receipt, status_code=201, headers={"Location": f"/v1/objections/{receipt['id']}"})


@router.post(
    "/v1/reviews",
    status_code=201,
    response_model=ObjectionReceipt,
    summary="The holder asks for a review (复核) of their own score",
    responses={429: {"description": "Over the hourly limit of this key or address; see Retry-After"}},
    # Counted before the holder is checked, so guessing ID numbers is limited too.
    dependencies=[
        Depends(rate_limited(rate_limits, "review", "reviews_per_principal_hour", "reviews_per_client_hour", "reviews"))
    ],
)
async def ask_review(
    body: ReviewRequest, request: Request, principal: Principal = Depends(current_principal)
) -> JSONResponse:
    require_any(principal, {"review:request"})
    salt = settings_of(request).candidate_key_salt
    receipt = await lodged_or_problem(
        request,
        lambda uow, today, per_hour: use_cases.request_review(
            uow,
            application_id=body.application_id,
            id_number=body.id_number,
            salt=salt,
            items=body.items,
            reason=body.reason,
            client=client_of(request),
            requested_by=principal.principal,
            today=today,
            per_hour=per_hour,
        ),
    )
    return JSONResponse(receipt, status_code=201, headers={"Location": f"/v1/objections/{receipt['id']}"})


@router.get(
    "/v1/objections/{objection_id}",
    response_model=ObjectionReceipt,
    summary="An objection's or review's receipt and outcome (public)",
)
async def receipt(objection_id: str, request: Request) -> dict:
    async with reading(request) as store:
        row = await store.objection(objection_id)
    if row is None:
        raise Problem(404, f"No objection {objection_id}.")
    return objection_doc(row)


@router.get(
    "/v1/objections",
    response_model=list[DeskObjection],
    summary="The officers' desk: objections and reviews, oldest due first",
)
async def desk(
    request: Request,
    status: str = Query("open", pattern="^(open|resolved|answered)$"),
    limit: int = Query(50, ge=1, le=200),
    principal: Principal = Depends(current_principal),
) -> list[dict]:
    require_any(principal, {"publicity:officer"})
    today = clock.today()
    async with reading(request) as store:
        rows = await store.objections_at_desk(status, limit)
    return [
        {
            **objection_doc(r),
            "application_id": r.application_id,
            "reason": r.reason,
            "pending_departments": r.pending_departments,
            "overdue": r.status == ObjectionStatus.OPEN and r.due_by < today,
        }
        for r in rows
    ]


@router.post(
    "/v1/objections/{objection_id}/answer",
    response_model=ObjectionReceipt,
    summary="An officer answers an objection or review",
)
async def answer(
    objection_id: str, body: Answer, request: Request, principal: Principal = Depends(current_principal)
) -> dict:
    require_any(principal, {"publicity:officer"})
    async with request.app.state.db.unit_of_work() as uow:
        try:
            row = await use_cases.answer(uow, objection_id, body.outcome, principal.principal)
        except domain.Refused as exc:
            raise problem_of(exc) from exc
        await uow.commit()
    return objection_doc(row)
