"""Intake's REST API for partner systems."""
from __future__ import annotations

import base64
from datetime import date, datetime, timezone
from typing import Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import bindparam, exists, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from services.intake import disclosure, domain, materials
from services.intake.schemas import ApplicationRequest, ApplicationView, TimelineEntry
from services.intake.tables import application_items, applications, holder_bars, idempotency_keys, outbox, timeline
from services.intake.tables import materials as materials_table
from shared.calendar import CalendarYearUnknown
from shared.auth import Principal, current_principal, require_any
from shared.db import OneStatement
from shared.events import Envelope
from shared.events.catalogue import ApplicationSubmitted, ApplicationWithdrawn
from shared.idempotency import HEADER as IDEMPOTENCY_HEADER
from shared.idempotency import Idempotency
from shared.problems import Problem
from shared.ranges import BusinessDate

router = APIRouter(prefix="/v1", tags=["applications"])
APPLY_SCOPES = {"window", "online", "guardian", "admin"}
# Built once: see handlers.py on statement cost.
_COLUMNS = ["id", "holder_id_number", "holder_name", "holder_phone", "permit_number", "intent", "principal",
            "acting_as", "declared_facts", "family", "delegation", "modules", "consent", "applied_on", "cut_off_date", "status"]
# One statement: the application is added unless the holder is barred. Its items start
# "pending" and its first timeline entry is the row itself, so nothing else is written.
ADD_APPLICATION = insert(applications).from_select(
    _COLUMNS,
    select(*[bindparam(c, type_=applications.c[c].type) for c in _COLUMNS]).where(~exists().where(
        holder_bars.c.holder_id_number == bindparam("holder_id_number"), holder_bars.c.barred_until > bindparam("today"))),
).returning(applications.c.id)
ADD_TIMELINE = insert(timeline)
ADD_MATERIAL = insert(materials_table)
_EVENT_COLUMNS = ["event_id", "topic", "key", "event_type", "payload"]
# ... and its application.submitted event goes into the outbox in the same statement, so the
# application and the promise to announce it are written together or not at all.
ADD_APPLICATION_AND_EVENT = insert(outbox).from_select(
    _EVENT_COLUMNS,
    select(*[bindparam(f"event_{c}", type_=outbox.c[c].type) for c in _EVENT_COLUMNS])
    .select_from(ADD_APPLICATION.cte("added")),
).returning(outbox.c.event_id)
SUBMIT = OneStatement(ADD_APPLICATION_AND_EVENT)
IDEMPOTENCY = Idempotency(idempotency_keys)
BARRED = select(holder_bars).where(holder_bars.c.holder_id_number == bindparam("holder"),
                                   holder_bars.c.barred_until > bindparam("today"))


def _can_apply(principal: Principal) -> None:
    if principal.scoped_values("employer"):
        return
    require_any(principal, APPLY_SCOPES)


def _check_delegation(body: ApplicationRequest, principal: Principal) -> str | None:
    """The key decides who may act: an employer's key only as employer, a guardian's only with a representative.
    Returns the employer's credit code for an employer's application."""
    employers = principal.scoped_values("employer")
    d = body.delegation
    if employers:
        if d is None or d.relation != "employer":
            raise Problem.at("delegation", "an employer's key applies for its staff: give relation \"employer\" and "
                                         "the holder's written authorisation")
        return next(iter(employers))
    if d is not None and d.relation == "employer":
        raise Problem.at("delegation.relation", "only an employer's key applies as employer")
    if "guardian" in principal.scopes and d is None:
        raise Problem.at("delegation", "a guardian's key names the representative, the relation and the grounds")
    return None


def _delegation_record(body: ApplicationRequest, principal: Principal, employer: str | None,
                       material: dict | None) -> dict | None:
    """Who acted for whom and on what authority: kept with the application and sent to the departments."""
    d = body.delegation
    if d is None:
        return None
    if material is not None:
        authority = {"kind": "written_authorisation", "material_id": material["id"], "sha256": material["sha256"],
                     "signed_on": d.authorisation.signed_on.isoformat()}  # type: ignore[union-attr]
    else:
        authority = {"kind": "household_relation"}
    return {"relation": d.relation, "grounds": d.grounds,
            "representative": d.representative.model_dump() if d.representative else None,
            "employer_credit_code": employer, "authority": authority, "channel": principal.principal}


def _authorisation_material(body: ApplicationRequest, app_id: str, principal: Principal, max_bytes: int) -> dict | None:
    d = body.delegation
    if d is None or d.authorisation is None:
        return None
    try:
        found = materials.inspect(d.authorisation.document, max_bytes)
    except materials.MaterialRejected as exc:
        raise Problem.at("delegation.authorisation.document", str(exc), exc.status)
    return {"id": materials.new_material_id(), "application_id": app_id, "indicator": "delegation",
            "purpose": "authorisation", "media_type": found.media_type, "size": found.size, "sha256": found.sha256,
            "filename": d.authorisation.filename, "principal": principal.principal, "content": d.authorisation.document}


@router.post("/applications", status_code=201, response_model=ApplicationView,
             summary="Submit a points application", responses={409: {"description": "An application is already open"}})
async def submit_application(body: ApplicationRequest, request: Request,
                             principal: Principal = Depends(current_principal)) -> Response:
    _can_apply(principal)
    employer = _check_delegation(body, principal)
    today = date.today()
    app_id = domain.new_application_id(today)
    cut_off = domain.cut_off_date(today)
    acting_as = domain.acting_as(body.delegation.relation if body.delegation else None, principal.scopes,
                                 employer is not None)
    db = request.app.state.db
    authorisation = _authorisation_material(body, app_id, principal, request.app.state.settings.material_max_bytes)
    delegation = _delegation_record(body, principal, employer, authorisation)
    notice = await _notice(request, today, cut_off)  # before the transaction: it may ask scoring
    family = [m.model_dump() for m in body.family]
    salt = request.app.state.settings.candidate_key_salt
    event = Envelope.new(ApplicationSubmitted(
        application_id=app_id,
        holder=disclosure.holder(body.applicant.name, body.applicant.id_number, body.permit_number, salt),
        intent=body.intent, applied_on=today, cut_off_date=cut_off,
        expected_departments=domain.expected_departments(),  # type: ignore[arg-type]
        declared_facts=body.declared_facts, family=disclosure.family(family, salt),
        delegation=disclosure.delegation(delegation), modules=body.chosen_modules(),
        contact_phone=body.applicant.phone, principal=principal.principal), source="intake", subject=app_id)
    params = dict(
        id=app_id, holder_id_number=body.applicant.id_number, holder_name=body.applicant.name,
        holder_phone=body.applicant.phone, permit_number=body.permit_number, intent=body.intent,
        principal=principal.principal, acting_as=acting_as, declared_facts=body.declared_facts, family=family,
        delegation=delegation, modules=body.chosen_modules(), consent=body.consent, applied_on=today, cut_off_date=cut_off, status="submitted", today=today,
        **{f"event_{k}": v for k, v in db.outbox.row(event).items()})
    view = _new_view(app_id, body, today, cut_off, event, acting_as, principal, delegation)
    view["rules_notice"] = notice
    try:
        if authorisation is None and IDEMPOTENCY_HEADER not in request.headers:
            # The whole effect is one statement, so it needs no transaction of its own: one round trip.
            if await SUBMIT.fetchrow(db.engine, params) is None:
                async with db.engine.connect() as conn:
                    await _refuse_barred(conn, body.applicant.id_number, today)
        else:
            async with db.unit_of_work() as uow:
                replay = await IDEMPOTENCY.claim(uow.conn, request, principal.principal)
                if replay is not None:
                    return replay
                if (await uow.conn.execute(ADD_APPLICATION_AND_EVENT, params)).first() is None:
                    await _refuse_barred(uow.conn, body.applicant.id_number, today)
                if authorisation is not None:
                    await uow.conn.execute(ADD_MATERIAL, authorisation)
                await IDEMPOTENCY.remember(uow.conn, request, principal.principal, 201, view)
                await uow.commit()
    except IntegrityError as exc:
        if "uq_applications_open_per_holder" in str(exc.orig):
            raise Problem(409, "This holder already has an application in progress; wait for its score or withdraw it.",
                          type_="/problems/application-open")
        raise
    db.outbox.wake()
    return Response(orjson.dumps(view), status_code=201, media_type="application/json",
                    headers={"Location": view["links"]["self"]})


async def _refuse_barred(conn, holder_id_number: str, today: date) -> None:
    """The statement's guard found a bar: say until when."""
    bar = (await conn.execute(BARRED, {"holder": holder_id_number, "today": today})).first()
    if bar is None:  # the bar ended between the two statements
        raise Problem(409, "The holder's bar has just ended; send the application again.", type_="/problems/retry")
    raise Problem(403, f"This holder may not apply before {bar.barred_until.isoformat()} ({bar.reason}).",
                  type_="/problems/holder-barred", barred_until=bar.barred_until.isoformat())


def _new_view(app_id: str, body: ApplicationRequest, today: date, cut_off: date, event: Envelope, acting_as: str,
              principal: Principal, delegation: dict | None) -> dict:
    """The new application's state is exactly what was just written: answer without reading it back."""
    return {
        "id": app_id, "status": "submitted", "intent": body.intent, "modules": body.chosen_modules(),
        "family": [m.model_dump() for m in body.family],
        "delegation": delegation,
        "applied_on": today.isoformat(),
        "cut_off_date": cut_off.isoformat(),
        "items": [{"indicator": i, "department": d, "state": "pending", "reason": None, "supplement_by": None}
                  for i, d in sorted(domain.items_of(delegation).items())],
        "score": None, "notice_url": None,
        "timeline": [{"at": event.occurred_at.isoformat(), "event_type": event.type, "source": "intake",
                      "summary": {"acting_as": acting_as, "principal": principal.principal}}],
        "links": _links(app_id),
    }


def _links(app_id: str) -> dict[str, str]:
    base = f"/v1/applications/{app_id}"
    return {"self": base, "materials": f"{base}/materials", "rules_notice": f"{base}/rules-notice"}


WITHDRAW = (update(applications)
            .where(applications.c.id == bindparam("app"), applications.c.status.in_(["submitted", "verifying"]))
            .values(status="withdrawn", updated_at=func.now()).returning(applications.c.id))


@router.post("/applications/{application_id}/withdraw", response_model=ApplicationView,
             summary="Withdraw an application before it is scored",
             responses={409: {"description": "Already scored: it can no longer be withdrawn"}})
async def withdraw_application(application_id: str, request: Request,
                               principal: Principal = Depends(current_principal)) -> ApplicationView:
    _can_apply(principal)
    view = await load_view(request, application_id, principal)  # 404 unless it is this partner's
    if view.status == "withdrawn":
        return view  # withdrawing twice is withdrawing once
    async with request.app.state.db.unit_of_work() as uow:
        replay = await IDEMPOTENCY.claim(uow.conn, request, principal.principal)
        if replay is not None:
            return replay  # type: ignore[return-value]
        if (await uow.conn.execute(WITHDRAW, {"app": application_id})).first() is None:
            raise Problem(409, f"Application {application_id} is already {view.status}: only an application not yet "
                               "scored can be withdrawn.", type_="/problems/too-late-to-withdraw")
        event = Envelope.new(ApplicationWithdrawn(application_id=application_id, withdrawn_at=datetime.now(timezone.utc),
                                                  principal=principal.principal), source="intake", subject=application_id)
        await uow.conn.execute(ADD_TIMELINE, dict(application_id=application_id, at=event.occurred_at,
                                                  event_type=event.type, source="intake",
                                                  summary={"principal": principal.principal}))
        uow.emit(event)
        withdrawn = view.model_copy(update={"status": "withdrawn", "timeline": [*view.timeline, TimelineEntry(
            at=event.occurred_at, event_type=event.type, source="intake", summary={"principal": principal.principal})]})
        await IDEMPOTENCY.remember(uow.conn, request, principal.principal, 200, withdrawn.model_dump(mode="json"))
        await uow.commit()
    return withdrawn


async def _notice(request: Request, applied_on: date, cut_off: date) -> dict:
    settings = request.app.state.settings
    shared = {d.strip() for d in settings.shared_data_departments.split(",") if d.strip()}
    return await request.app.state.rule_set_directory.notice(applied_on, cut_off, shared)


@router.get("/applications/{application_id}/rules-notice", summary="What the applicant was told on acceptance (告知)")
async def read_rules_notice(application_id: str, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    view = await load_view(request, application_id, principal)
    return await _notice(request, view.applied_on, view.cut_off_date)


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
    answered = {i.indicator: _item(i, app.applied_on, settings.supplement_min_working_days) for i in items}
    submitted = {"at": app.created_at, "event_type": "application.submitted", "source": "intake",
                 "summary": {"acting_as": app.acting_as, "principal": app.principal}}
    return ApplicationView(
        id=app.id, status=app.status, intent=app.intent, modules=app.modules, family=app.family, delegation=app.delegation,
        applied_on=app.applied_on, cut_off_date=app.cut_off_date,
        items=[answered.get(ind, {"indicator": ind, "department": dept, "state": "pending", "reason": None})
               for ind, dept in sorted(domain.items_of(app.delegation).items())],
        score=score, notice_url=app.notice_url,
        timeline=[submitted, *({"at": e.at, "event_type": e.event_type, "source": e.source, "summary": e.summary}
                               for e in events)],
        links=_links(application_id),
    )


def _item(row, applied_on: date, min_working_days: int) -> dict:
    item = {"indicator": row.indicator, "department": row.department, "state": row.state, "reason": row.reason}
    if row.state in materials.SUPPLEMENTABLE:
        try:
            item["supplement_by"] = materials.supplement_deadline(applied_on, row.updated_at.date(), min_working_days)
        except CalendarYearUnknown:
            item["supplement_by"] = None  # not guessed; an upload is then refused with the reason (503)
    return item


def _cursor(created_at: datetime, app_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{app_id}".encode()).decode().rstrip("=")


def _uncursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, app_id = raw.split("|", 1)
        return datetime.fromisoformat(at), app_id
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, "The cursor is not one this API gave out.", errors=[{"field": "after", "message": "invalid cursor"}])


@router.get("/applications", summary="The applications this key submitted, newest first (keyset pagination)")
async def list_applications(
    request: Request,
    principal: Principal = Depends(current_principal),
    status: Literal["submitted", "verifying", "scored", "void", "paused", "vetoed", "refused", "withdrawn"] | None = None,
    intent: Literal["general", "settlement", "school_enrolment"] | None = None,
    applied_from: BusinessDate | None = None,
    applied_to: BusinessDate | None = None,
    limit: int = Query(50, ge=1, le=200),
    after: str | None = Query(None, max_length=200, description="The `next` cursor of the previous page"),
) -> dict:
    a = applications
    q = select(a.c.id, a.c.status, a.c.intent, a.c.applied_on, a.c.score_total, a.c.score_version, a.c.created_at)
    if not principal.has("admin"):
        q = q.where(a.c.principal == principal.principal)
    if status:
        q = q.where(a.c.status == status)
    if intent:
        q = q.where(a.c.intent == intent)
    if applied_from:
        q = q.where(a.c.applied_on >= applied_from)
    if applied_to:
        q = q.where(a.c.applied_on <= applied_to)
    if after:
        at, app_id = _uncursor(after)
        q = q.where(tuple_(a.c.created_at, a.c.id) < tuple_(at, app_id))
    q = q.order_by(a.c.created_at.desc(), a.c.id.desc()).limit(limit + 1)
    async with request.app.state.db.engine.connect() as conn:
        rows = (await conn.execute(q)).all()
    page = rows[:limit]
    return {
        "items": [{"id": r.id, "status": r.status, "intent": r.intent, "applied_on": r.applied_on.isoformat(),
                   "score_total": r.score_total, "score_version": r.score_version,
                   "links": {"self": f"/v1/applications/{r.id}"}} for r in page],
        "next": _cursor(page[-1].created_at, page[-1].id) if len(rows) > limit else None,
    }
