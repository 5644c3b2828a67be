"""Intake's REST API for partner systems: applications (submit, read, list, withdraw, the rules notice)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.intake import domain, use_cases
from services.intake.api.access import require_applicant, settings_of
from services.intake.api.schemas import ApplicationPage, ApplicationRequest, ApplicationView, RulesNotice, TimelineEntry
from services.intake.store import Store
from services.intake.use_cases import Submission
from shared import clock
from shared.auth import Principal, current_principal
from shared.idempotency import HEADER as IDEMPOTENCY_HEADER
from shared.problems import Problem
from shared.ranges import BusinessDate

router = APIRouter(prefix="/v1", tags=["applications"])


def submission_of(body: ApplicationRequest) -> use_cases.SubmitApplication:
    d = body.delegation
    delegation = None
    if d is not None:
        letter = None
        if d.authorisation is not None:
            letter = use_cases.AuthorisationLetter(
                d.authorisation.signed_on, d.authorisation.document, d.authorisation.filename
            )
        delegation = use_cases.DelegationClaim(
            d.relation, d.grounds, d.representative.model_dump() if d.representative else None, letter
        )
    return use_cases.SubmitApplication(
        holder_name=body.applicant.name,
        holder_id_number=body.applicant.id_number,
        holder_phone=body.applicant.phone,
        permit_number=body.permit_number,
        intent=body.intent,
        declared_facts=body.declared_facts,
        family=[m.model_dump() for m in body.family],
        consent=body.consent,
        modules=body.chosen_modules(),
        delegation=delegation,
    )


@router.post(
    "/applications",
    status_code=201,
    response_model=ApplicationView,
    summary="Submit a points application",
    responses={409: {"description": "An application is already open"}},
)
async def submit_application(
    body: ApplicationRequest, request: Request, principal: Principal = Depends(current_principal)
) -> Response:
    require_applicant(principal)
    settings = settings_of(request)
    submission = use_cases.prepare_submission(
        submission_of(body),
        principal,
        today=clock.today(),
        salt=settings.candidate_key_salt,
        material_max_bytes=settings.material_max_bytes,
    )
    notice = await request.app.state.notices.of(submission.applied_on, submission.cut_off_date)  # it may ask scoring
    # A module owner's items too, pending (the owner's verifier answers them): from the cached module directory.
    owner_items = await request.app.state.notices.owner_items(submission.application["modules"])
    view = _new_view(submission, principal, owner_items)
    view["rules_notice"] = notice
    db = request.app.state.db
    event_row = db.outbox.row(submission.event)  # the one statement writes the outbox row itself
    if submission.authorisation is None and IDEMPOTENCY_HEADER not in request.headers:
        # The whole effect is one statement, so it needs no transaction of its own: one round trip.
        await use_cases.submit_application(Store.outside(db.engine), submission, event_row)
    else:
        async with db.unit_of_work() as uow:
            replay = await uow.store.claim_request(request, principal.principal)
            if replay is not None:
                return replay
            await use_cases.submit_application(uow.store, submission, event_row)
            await uow.store.remember_response(request, principal.principal, 201, view)
            await uow.commit()
    db.outbox.wake()
    return Response(
        orjson.dumps(view), status_code=201, media_type="application/json", headers={"Location": view["links"]["self"]}
    )


def _new_view(s: Submission, principal: Principal, owner_items: dict[str, str] | None = None) -> dict:
    """The new application's state is exactly what was just written: answer without reading it back."""
    a = s.application
    return {
        "id": s.application_id,
        "status": a["status"],
        "intent": a["intent"],
        "modules": a["modules"],
        "family": a["family"],
        "delegation": s.delegation,
        "applied_on": s.applied_on.isoformat(),
        "cut_off_date": s.cut_off_date.isoformat(),
        "items": [
            {"indicator": i, "department": d, "state": "pending", "reason": None, "supplement_by": None}
            for i, d in sorted({**domain.items_of(s.delegation), **(owner_items or {})}.items())
        ],
        "score": None,
        "notice_url": None,
        "timeline": [
            {
                "at": s.event.occurred_at.isoformat(),
                "event_type": s.event.type,
                "source": "intake",
                "summary": {"acting_as": s.acting_as, "principal": principal.principal},
            }
        ],
        "links": links(s.application_id),
    }


def links(application_id: str) -> dict[str, str]:
    base = f"/v1/applications/{application_id}"
    return {"self": base, "materials": f"{base}/materials", "rules_notice": f"{base}/rules-notice"}


async def load_view(request: Request, application_id: str, principal: Principal | None = None) -> ApplicationView:
    """The application as `principal` may see it (None: the service itself); NotVisible otherwise."""
    settings = settings_of(request)
    state = await use_cases.application_state(
        Store.outside(request.app.state.db.engine),
        application_id,
        principal,
        scoring_base_url=settings.scoring_base_url,
        min_working_days=settings.supplement_min_working_days,
        owner_items=request.app.state.notices.owner_items,
    )
    return ApplicationView(**state, links=links(application_id))


@router.post(
    "/applications/{application_id}/withdraw",
    response_model=ApplicationView,
    summary="Withdraw an application before it is scored",
    responses={409: {"description": "Already scored: it can no longer be withdrawn"}},
)
async def withdraw_application(
    application_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> ApplicationView:
    require_applicant(principal)
    view = await load_view(request, application_id, principal)  # 404 unless it is this partner's
    if view.status == "withdrawn":
        return view  # withdrawing twice is withdrawing once
    async with request.app.state.db.unit_of_work() as uow:
        replay = await uow.store.claim_request(request, principal.principal)
        if replay is not None:
            return replay  # type: ignore[return-value]
        entry = await use_cases.withdraw_application(uow, application_id, view.status, principal.principal)
        withdrawn = view.model_copy(
            update={"status": "withdrawn", "timeline": [*view.timeline, TimelineEntry(**entry)]}
        )
        await uow.store.remember_response(request, principal.principal, 200, withdrawn.model_dump(mode="json"))
        await uow.commit()
    return withdrawn


@router.get(
    "/applications/{application_id}/rules-notice",
    response_model=RulesNotice,
    response_model_exclude_unset=True,
    summary="What the applicant was told on acceptance (告知)",
)
async def read_rules_notice(
    application_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> dict:
    view = await load_view(request, application_id, principal)
    return await request.app.state.notices.of(view.applied_on, view.cut_off_date)


@router.get("/applications/{application_id}", response_model=ApplicationView, summary="Read an application's status")
async def read_application(
    application_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> ApplicationView:
    view = await load_view(request, application_id, principal)
    return view


def _cursor(created_at: datetime, application_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{application_id}".encode()).decode().rstrip("=")


def _uncursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, application_id = raw.split("|", 1)
        return datetime.fromisoformat(at), application_id
    except (ValueError, UnicodeDecodeError):
        raise Problem(
            400, "The cursor is not one this API gave out.", errors=[{"field": "after", "message": "invalid cursor"}]
        ) from None


@router.get(
    "/applications",
    response_model=ApplicationPage,
    summary="The applications this key submitted, newest first (keyset pagination)",
)
async def list_applications(
    request: Request,
    principal: Principal = Depends(current_principal),
    status: Literal["submitted", "verifying", "scored", "void", "paused", "vetoed", "refused", "withdrawn"]
    | None = None,
    intent: Literal["general", "settlement", "school_enrolment"] | None = None,
    applied_from: BusinessDate | None = None,
    applied_to: BusinessDate | None = None,
    limit: int = Query(50, ge=1, le=200),
    after: str | None = Query(None, max_length=200, description="The `next` cursor of the previous page"),
) -> dict:
    page, more = await use_cases.list_applications(
        Store.outside(request.app.state.db.engine),
        principal,
        use_cases.ApplicationFilter(status, intent, applied_from, applied_to),
        _uncursor(after) if after else None,
        limit,
    )
    return {
        "items": [
            {
                "id": r.id,
                "status": r.status,
                "intent": r.intent,
                "applied_on": r.applied_on.isoformat(),
                "score_total": r.score_total,
                "score_version": r.score_version,
                "links": {"self": f"/v1/applications/{r.id}"},
            }
            for r in page
        ],
        "next": _cursor(page[-1].created_at, page[-1].id) if more else None,
    }
