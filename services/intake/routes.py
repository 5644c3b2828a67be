"""Intake's REST API for partner systems."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from services.intake import domain
from services.intake.schemas import ApplicationRequest, ApplicationView
from services.intake.tables import application_items, applications, timeline
from shared.auth import Principal, current_principal, require_any
from shared.events import Envelope
from shared.events.catalogue import ApplicationSubmitted, Holder
from shared.problems import Problem

router = APIRouter(prefix="/v1", tags=["applications"])
APPLY_SCOPES = {"window", "online", "guardian", "admin"}
# Built once: see handlers.py on statement cost.
ADD_APPLICATION = insert(applications)
ADD_ITEMS = insert(application_items)
ADD_TIMELINE = insert(timeline)


def _can_apply(principal: Principal) -> None:
    if principal.scoped_values("employer"):
        return
    require_any(principal, APPLY_SCOPES)


@router.post("/applications", status_code=201, response_model=ApplicationView,
             summary="Submit a points application", responses={409: {"description": "An application is already open"}})
async def submit_application(body: ApplicationRequest, request: Request,
                             principal: Principal = Depends(current_principal)) -> JSONResponse:
    _can_apply(principal)
    today = date.today()
    app_id = domain.new_application_id(today)
    cut_off = domain.cut_off_date(today)
    acting_as = "employer" if principal.scoped_values("employer") else next(
        (s for s in ("window", "online", "guardian", "admin") if s in principal.scopes), "holder")
    db = request.app.state.db
    try:
        async with db.unit_of_work() as uow:
            await uow.conn.execute(ADD_APPLICATION, dict(
                id=app_id, holder_id_number=body.applicant.id_number, holder_name=body.applicant.name,
                holder_phone=body.applicant.phone, permit_number=body.permit_number, intent=body.intent,
                principal=principal.principal, acting_as=acting_as, declared_facts=body.declared_facts,
                consent=body.consent, applied_on=today, cut_off_date=cut_off, status="submitted"))
            await uow.conn.execute(ADD_ITEMS, [
                {"application_id": app_id, "indicator": ind, "department": dept, "state": "pending"}
                for ind, dept in domain.VERIFIED_BY.items()])
            event = Envelope.new(ApplicationSubmitted(
                application_id=app_id,
                holder=Holder(name=body.applicant.name, id_number=body.applicant.id_number, permit_number=body.permit_number),
                intent=body.intent, applied_on=today, cut_off_date=cut_off,
                expected_departments=domain.expected_departments(),  # type: ignore[arg-type]
                declared_facts=body.declared_facts), source="intake", subject=app_id)
            await uow.conn.execute(ADD_TIMELINE, dict(
                application_id=app_id, at=event.occurred_at, event_type=event.type, source="intake",
                summary={"acting_as": acting_as, "principal": principal.principal}))
            uow.emit(event)
            await uow.commit()
    except IntegrityError as exc:
        if "uq_applications_open_per_holder" in str(exc.orig):
            raise Problem(409, "This holder already has an application in progress; wait for its score or withdraw it.",
                          type_="/problems/application-open")
        raise
    # The new application's state is exactly what was just written: answer without reading it back.
    view = {
        "id": app_id, "status": "submitted", "intent": body.intent, "applied_on": today.isoformat(),
        "cut_off_date": cut_off.isoformat(),
        "items": [{"indicator": i, "department": d, "state": "pending", "reason": None} for i, d in domain.VERIFIED_BY.items()],
        "score": None, "notice_url": None,
        "timeline": [{"at": event.occurred_at.isoformat(), "event_type": event.type, "source": "intake",
                      "summary": {"acting_as": acting_as, "principal": principal.principal}}],
        "links": {"self": f"/v1/applications/{app_id}"},
    }
    return JSONResponse(view, status_code=201, headers={"Location": view["links"]["self"]})


@router.get("/applications/{application_id}", response_model=ApplicationView, summary="Read an application's status")
async def read_application(application_id: str, request: Request,
                           principal: Principal = Depends(current_principal)) -> ApplicationView:
    view = await load_view(request, application_id, principal)
    return view


async def load_view(request: Request, application_id: str, principal: Principal | None = None) -> ApplicationView:
    db = request.app.state.db
    settings = request.app.state.settings
    async with db.engine.connect() as conn:
        app = (await conn.execute(select(applications).where(applications.c.id == application_id))).first()
        # Another partner's application answers exactly like a missing one: existence must not leak.
        if app is None or (principal is not None and not principal.has("admin") and app.principal != principal.principal):
            raise Problem(404, f"No application {application_id} is visible to this key.")
        items = (await conn.execute(select(application_items).where(application_items.c.application_id == application_id)
                                    .order_by(application_items.c.indicator))).all()
        events = (await conn.execute(select(timeline).where(timeline.c.application_id == application_id)
                                     .order_by(timeline.c.at, timeline.c.id))).all()
    score = None
    if app.score_version is not None:
        score = {"version": app.score_version, "status": app.score_status, "total": app.score_total,
                 "rule_set_id": app.rule_set_id,
                 "explanation_url": f"{settings.scoring_base_url}/v1/scores/{application_id}"}
    return ApplicationView(
        id=app.id, status=app.status, intent=app.intent, applied_on=app.applied_on, cut_off_date=app.cut_off_date,
        items=[{"indicator": i.indicator, "department": i.department, "state": i.state, "reason": i.reason} for i in items],
        score=score, notice_url=app.notice_url,
        timeline=[{"at": e.at, "event_type": e.event_type, "source": e.source, "summary": e.summary} for e in events],
        links={"self": f"/v1/applications/{application_id}"},
    )
