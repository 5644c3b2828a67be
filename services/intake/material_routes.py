"""Materials: upload per item, list, read back (the departments' review desk reads them too).

An upload for an item a department returned (or could not find) is a supplement: before the
deadline it puts the item back in review and tells the department; after it, the item stays
at 0 points and the rest of the application goes on.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlalchemy import and_, bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.intake import domain, materials
from services.intake.routes import ADD_TIMELINE, IDEMPOTENCY, _can_apply, _notice, load_view
from services.intake.schemas import Material
from services.intake.tables import application_items, applications, rate_limits
from services.intake.tables import materials as materials_table
from shared.auth import Principal, current_principal
from shared.events import Envelope
from shared.events.catalogue import MaterialAdded, MaterialRef
from shared.problems import Problem
from shared.ratelimit import rate_limited

router = APIRouter(prefix="/v1", tags=["materials"])
# A refused application (its delegation unproven) stays open to a supplement of that proof.
OPEN = {"submitted", "verifying", "scored", "refused"}
READ_SCOPE = "materials:read"

ADD_MATERIAL = insert(materials_table)
ITEM_FOR_UPDATE = (select(application_items)
                   .where(application_items.c.application_id == bindparam("app"),
                          application_items.c.indicator == bindparam("indicator")).with_for_update())
BACK_IN_REVIEW = pg_insert(application_items)
BACK_IN_REVIEW = BACK_IN_REVIEW.on_conflict_do_update(
    index_elements=[application_items.c.application_id, application_items.c.indicator],
    set_={"state": BACK_IN_REVIEW.excluded.state, "reason": BACK_IN_REVIEW.excluded.reason,
          "updated_at": BACK_IN_REVIEW.excluded.updated_at})
_LISTED = [c for c in materials_table.c if c.name != "content"]


def _material_view(row: Mapping[str, Any]) -> dict:
    base = f"/v1/applications/{row['application_id']}/materials/{row['id']}"
    fields = {k: row[k] for k in Material.model_fields if k != "links"}
    return Material(**fields, links={"self": base, "content": f"{base}/content"}).model_dump(mode="json")


async def _indicators(request: Request, view) -> dict[str, str]:
    """Indicators an upload may be for, with their departments: the application's own items and
    every indicator of the rule set it was told about."""
    notice = await _notice(request, view.applied_on, view.cut_off_date)
    known = {i["id"]: i["department"] for i in notice.get("indicators", [])}
    return {**known, **{i.indicator: i.department for i in view.items}}


@router.post("/applications/{application_id}/materials", status_code=201, response_model=Material,
             summary="Upload a material for one item (PDF, JPEG or PNG)",
             responses={409: {"description": "The item is closed, the application is closed, or the deadline passed"},
                        413: {"description": "The file is over the size limit"},
                        415: {"description": "The content is not a PDF, JPEG or PNG"},
                        429: {"description": "Over the hourly limit of this key or address; see Retry-After"}},
             dependencies=[Depends(rate_limited(rate_limits, "upload", "material_uploads_per_principal_hour",
                                                "material_uploads_per_client_hour", "material uploads"))])
async def upload_material(application_id: str, request: Request,
                          indicator: str = Form(..., max_length=60, description="The indicator the material is for"),
                          file: UploadFile = File(..., description="The material; its type is read from its content"),
                          principal: Principal = Depends(current_principal)) -> JSONResponse:
    _can_apply(principal)
    view = await load_view(request, application_id, principal)  # 404 unless it is this partner's
    settings = request.app.state.settings
    content = await file.read(settings.material_max_bytes + 1)
    try:
        found = materials.inspect(content, settings.material_max_bytes)
    except materials.MaterialRejected as exc:
        raise Problem.at("file", str(exc), exc.status)
    departments = await _indicators(request, view)
    if indicator not in departments:
        raise Problem.at("indicator", f"one of {', '.join(sorted(departments))}",
                         detail=f"indicator: {indicator!r} is not an indicator of this application")
    if view.status not in OPEN:
        raise Problem(409, f"Application {application_id} is {view.status}: it takes no more materials.",
                      type_="/problems/application-closed")
    today = date.today()
    now = datetime.now(timezone.utc)
    async with request.app.state.db.unit_of_work() as uow:
        same_upload = hashlib.sha256(f"{indicator}:{found.sha256}".encode()).hexdigest()
        replay = await IDEMPOTENCY.claim(uow.conn, request, principal.principal, same_upload)
        if replay is not None:
            return replay
        item = (await uow.conn.execute(ITEM_FOR_UPDATE, {"app": application_id, "indicator": indicator})).first()
        state = item.state if item else "pending"
        if state in materials.CLOSED:
            raise Problem.at("indicator", f"item is {state}", 409, type_="/problems/item-closed",
                             detail=f"Item {indicator} is {state}: there is nothing to supplement.")
        supplement = state in materials.SUPPLEMENTABLE
        deadline = None
        if supplement:
            deadline = materials.supplement_deadline(view.applied_on, item.updated_at.date(),
                                                     settings.supplement_min_working_days)
            if today > deadline:
                raise Problem(409, f"Item {indicator} was returned and could be supplemented until "
                                   f"{deadline.isoformat()}; it scores 0 and the rest of the application goes on.",
                              type_="/problems/supplement-deadline-passed", deadline=deadline.isoformat())
        row = {"id": materials.new_material_id(), "application_id": application_id, "indicator": indicator,
               "purpose": "supplement" if supplement else "evidence", "media_type": found.media_type,
               "size": found.size, "sha256": found.sha256, "filename": (file.filename or "")[:200] or None,
               "principal": principal.principal, "content": content, "uploaded_at": now}
        await uow.conn.execute(ADD_MATERIAL, row)
        department = departments[indicator]
        event = Envelope.new(MaterialAdded(
            application_id=application_id, indicator=indicator, department=department,
            material=MaterialRef(id=row["id"], media_type=found.media_type, size=found.size, sha256=found.sha256,
                                 url=f"/v1/applications/{application_id}/materials/{row['id']}/content"),
            supplement=supplement, supplement_deadline=deadline, added_at=now), source="intake", subject=application_id)
        if supplement:
            await uow.conn.execute(BACK_IN_REVIEW, {
                "application_id": application_id, "indicator": indicator, "department": department,
                "state": "in_review", "reason": f"supplemented on {today.isoformat()}", "updated_at": now})
        await uow.conn.execute(ADD_TIMELINE, dict(
            application_id=application_id, at=now, event_type=event.type, source="intake",
            summary={"indicator": indicator, "material_id": row["id"], "supplement": supplement}))
        uow.emit(event)
        body = _material_view(row)
        await IDEMPOTENCY.remember(uow.conn, request, principal.principal, 201, body)
        await uow.commit()
    return JSONResponse(body, status_code=201, headers={"Location": body["links"]["self"]})


async def _readable(request: Request, application_id: str, principal: Principal) -> None:
    """The partner that applied, an admin, or a department's review desk (materials:read)."""
    if principal.has(READ_SCOPE):
        async with request.app.state.db.engine.connect() as conn:
            if await conn.scalar(select(applications.c.id).where(applications.c.id == application_id)) is None:
                raise Problem(404, f"No application {application_id} is visible to this key.")
        return
    await load_view(request, application_id, principal)


@router.get("/applications/{application_id}/materials", summary="The materials of an application (without content)")
async def list_materials(application_id: str, request: Request,
                         principal: Principal = Depends(current_principal)) -> dict:
    await _readable(request, application_id, principal)
    async with request.app.state.db.engine.connect() as conn:
        rows = (await conn.execute(select(*_LISTED).where(materials_table.c.application_id == application_id)
                                   .order_by(materials_table.c.uploaded_at, materials_table.c.id))).all()
    return {"items": [_material_view(r._mapping) for r in rows]}


def _one(application_id: str, material_id: str, *columns):
    return select(*columns).where(and_(materials_table.c.application_id == application_id,
                                       materials_table.c.id == material_id))


@router.get("/applications/{application_id}/materials/{material_id}", response_model=Material,
            summary="One material's record")
async def read_material(application_id: str, material_id: str, request: Request,
                        principal: Principal = Depends(current_principal)) -> dict:
    await _readable(request, application_id, principal)
    async with request.app.state.db.engine.connect() as conn:
        row = (await conn.execute(_one(application_id, material_id, *_LISTED))).first()
    if row is None:
        raise Problem(404, f"No material {material_id} in application {application_id}.")
    return _material_view(row._mapping)


@router.get("/applications/{application_id}/materials/{material_id}/content",
            summary="One material's bytes, as uploaded", response_class=Response,
            responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}})
async def read_material_content(application_id: str, material_id: str, request: Request,
                                principal: Principal = Depends(current_principal)) -> Response:
    await _readable(request, application_id, principal)
    m = materials_table.c
    async with request.app.state.db.engine.connect() as conn:
        row = (await conn.execute(_one(application_id, material_id, m.content, m.media_type, m.sha256))).first()
    if row is None:
        raise Problem(404, f"No material {material_id} in application {application_id}.")
    return Response(row.content, media_type=row.media_type,
                    headers={"ETag": f'"{row.sha256}"', "X-Content-SHA256": row.sha256,
                             "Content-Disposition": "attachment", "X-Content-Type-Options": "nosniff"})
