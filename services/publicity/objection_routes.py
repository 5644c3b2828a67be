"""Objections (anyone, no key), reviews (the holder, through a partner app), and the officers' desk."""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic_core import PydanticCustomError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select, update

from services.publicity import domain, objections
from services.publicity.tables import applicants, rate_limits
from services.publicity.tables import objections as table
from shared.auth import Principal, current_principal, require_any
from shared.client_address import request_client
from shared.problems import Problem
from shared.ratelimit import rate_limited

router = APIRouter(tags=["objections and reviews"])


class _Challenge(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    items: list[str] = Field(min_length=1, max_length=10, description="The indicators whose facts are in doubt")
    reason: str = Field(min_length=5, max_length=500, description="What is wrong, in a few sentences")

    @field_validator("items")
    @classmethod
    def _items(cls, v: list[str]) -> list[str]:
        for item in v:
            if not (1 <= len(item) <= 60) or not all(c.islower() or c.isdigit() or c == "_" for c in item):
                raise ValueError(f"{item[:60]!r} is not an indicator id")
        return list(dict.fromkeys(v))


class ObjectionRequest(_Challenge):
    round_id: str | None = Field(None, max_length=40)
    entry: int | None = Field(None, ge=1, description="The entry number on the list (with round_id)")
    notice_id: str | None = Field(None, max_length=40, description="Or: a score's public notice")
    contact_phone: str | None = Field(None, pattern=r"^1\d{10}$", description="For the reply; never published")

    @model_validator(mode="after")
    def _one_target(self) -> "ObjectionRequest":
        if (self.round_id is None) != (self.entry is None):
            raise PydanticCustomError("target", "entry: a list entry is named by round_id and entry together")
        if (self.round_id is None) == (self.notice_id is None):
            raise PydanticCustomError("target", "round_id: name either a list entry (round_id and entry) or a notice (notice_id)")
        return self


class ReviewRequest(_Challenge):
    application_id: str = Field(min_length=1, max_length=40)
    id_number: str = Field(min_length=15, max_length=18, description="The holder's, to show the score is their own")


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    outcome: str = Field(min_length=2, max_length=1000)


def client_of(request: Request) -> str:
    """Who is objecting, for the rate limit only: a hash of the address (behind our trusted
    proxies, the forwarded one), not the address."""
    host = request_client(request)
    return hashlib.sha256(f"{request.app.state.settings.candidate_key_salt}:{host}".encode()).hexdigest()


async def lodge_or_problem(request: Request, **kwargs) -> dict:
    settings = request.app.state.settings
    async with request.app.state.db.unit_of_work() as uow:
        try:
            receipt = await objections.lodge(uow, client=client_of(request), today=date.today(),
                                             per_hour=settings.objections_per_client_hour, **kwargs)
        except domain.ObjectionRefused as exc:
            if exc.field:
                raise Problem.at(exc.field, exc.message, exc.status)
            raise Problem(exc.status, exc.message, type_=exc.type)
        except objections.RateLimited as exc:
            raise Problem(429, f"Too many objections from this address: at most {settings.objections_per_client_hour} "
                               f"an hour. Try again in {exc.retry_after} s.", type_="/problems/rate-limited",
                          headers={"Retry-After": str(exc.retry_after)})
        await uow.commit()
    request.app.state.db.outbox.wake()
    return receipt


@router.post("/v1/objections", status_code=201, summary="Object to a list entry or a score notice (anyone)")
async def object_to(body: ObjectionRequest, request: Request) -> JSONResponse:
    receipt = await lodge_or_problem(request, kind="objection", items=body.items, reason=body.reason,
                                     round_id=body.round_id, seq=body.entry, notice_id=body.notice_id,
                                     contact_phone=body.contact_phone)
    return JSONResponse(receipt, status_code=201, headers={"Location": f"/v1/objections/{receipt['id']}"})


@router.post("/v1/reviews", status_code=201, summary="The holder asks for a review (复核) of their own score",
             responses={429: {"description": "Over the hourly limit of this key or address; see Retry-After"}},
             # Counted before the holder is checked, so guessing ID numbers is limited too.
             dependencies=[Depends(rate_limited(rate_limits, "review", "reviews_per_principal_hour",
                                                "reviews_per_client_hour", "reviews"))])
async def ask_review(body: ReviewRequest, request: Request, principal: Principal = Depends(current_principal)) -> JSONResponse:
    require_any(principal, {"review:request"})
    key = domain.candidate_key(body.id_number, request.app.state.settings.candidate_key_salt)
    async with request.app.state.db.engine.connect() as conn:
        holder = await conn.scalar(select(applicants.c.holder_key).where(applicants.c.application_id == body.application_id))
    if holder != key:  # someone else's application answers like a missing one
        raise Problem(404, f"No score of this holder under {body.application_id}.")
    receipt = await lodge_or_problem(request, kind="review", items=body.items, reason=body.reason,
                                     application_id=body.application_id, requested_by=principal.principal)
    return JSONResponse(receipt, status_code=201, headers={"Location": f"/v1/objections/{receipt['id']}"})


@router.get("/v1/objections/{objection_id}", summary="An objection's or review's receipt and outcome (public)")
async def receipt(objection_id: str, request: Request) -> dict:
    async with request.app.state.db.engine.connect() as conn:
        row = (await conn.execute(select(table).where(table.c.id == objection_id))).first()
    if row is None:
        raise Problem(404, f"No objection {objection_id}.")
    return objections.public_view(row)


@router.get("/v1/objections", summary="The officers' desk: objections and reviews, oldest due first")
async def desk(request: Request, status: str = Query("open", pattern="^(open|resolved|answered)$"),
               limit: int = Query(50, ge=1, le=200), principal: Principal = Depends(current_principal)) -> list[dict]:
    require_any(principal, {"publicity:officer"})
    today = date.today()
    async with request.app.state.db.engine.connect() as conn:
        rows = (await conn.execute(select(table).where(table.c.status == status)
                                   .order_by(table.c.due_by, table.c.lodged_at).limit(limit))).all()
    return [{**objections.public_view(r), "application_id": r.application_id, "reason": r.reason,
             "pending_departments": r.pending_departments, "overdue": r.status == "open" and r.due_by < today}
            for r in rows]


@router.post("/v1/objections/{objection_id}/answer", summary="An officer answers an objection or review")
async def answer(objection_id: str, body: Answer, request: Request,
                 principal: Principal = Depends(current_principal)) -> dict:
    require_any(principal, {"publicity:officer"})
    async with request.app.state.db.engine.begin() as conn:
        row = (await conn.execute(update(table).where(table.c.id == objection_id, table.c.status == "open").values(
            status="answered", outcome=body.outcome, answered_by=principal.principal,
            resolved_at=datetime.now(timezone.utc)).returning(table))).first()
        if row is None:
            exists = await conn.scalar(select(table.c.status).where(table.c.id == objection_id))
            raise Problem(404 if exists is None else 409,
                          f"No objection {objection_id}." if exists is None else f"Objection {objection_id} is {exists}.")
    return objections.public_view(row)
