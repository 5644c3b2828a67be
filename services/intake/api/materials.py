"""Materials: upload per item, list, read back (the departments' review desk reads them too).

An upload for an item a department returned (or could not find) is a supplement: before the
deadline it puts the item back in review and tells the department; after it, the item stays
at 0 points and the rest of the application goes on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from services.intake import materials, use_cases
from services.intake.api.access import require_applicant, settings_of
from services.intake.api.applications import load_view
from services.intake.api.schemas import Material, MaterialList
from services.intake.store import RATE_LIMITS, Store
from shared import clock, openapi
from shared.auth import Principal, current_principal
from shared.problems import Problem
from shared.ratelimit import rate_limited

router = APIRouter(prefix="/v1", tags=["materials"])


def material_view(row: Mapping[str, Any]) -> dict:
    base = f"/v1/applications/{row['application_id']}/materials/{row['id']}"
    fields = {k: row[k] for k in Material.model_fields if k != "links"}
    return Material(**fields, links={"self": base, "content": f"{base}/content"}).model_dump(mode="json")


@router.post(
    "/applications/{application_id}/materials",
    status_code=201,
    response_model=Material,
    summary="Upload a material for one item (PDF, JPEG or PNG)",
    responses={
        409: {"description": "The item is closed, the application is closed, or the deadline passed"},
        413: {"description": "The file is over the size limit"},
        415: {"description": "The content is not a PDF, JPEG or PNG"},
        429: {"description": "Over the hourly limit of this key or address; see Retry-After"},
    },
    dependencies=[
        Depends(
            rate_limited(
                RATE_LIMITS,
                "upload",
                "material_uploads_per_principal_hour",
                "material_uploads_per_client_hour",
                "material uploads",
            )
        )
    ],
)
async def upload_material(
    application_id: str,
    request: Request,
    indicator: str = Form(..., max_length=60, description="The indicator the material is for"),
    file: UploadFile = File(..., description="The material; its type is read from its content"),
    principal: Principal = Depends(current_principal),
) -> JSONResponse:
    require_applicant(principal)
    view = await load_view(request, application_id, principal)  # 404 unless it is this partner's
    settings = settings_of(request)
    content = await file.read(settings.material_max_bytes + 1)
    try:
        found = materials.inspect(content, settings.material_max_bytes)
    except materials.MaterialRejected as exc:
        raise Problem.at("file", str(exc), exc.status) from exc
    notice = await request.app.state.notices.of(view.applied_on, view.cut_off_date)
    targets = use_cases.upload_targets(notice, [i.model_dump() for i in view.items])
    department = use_cases.check_upload(application_id, view.status, indicator, targets)
    upload = use_cases.Upload(
        application_id,
        view.applied_on,
        indicator,
        department,
        content,
        found,
        (file.filename or "")[:200] or None,
        principal.principal,
    )
    async with request.app.state.db.unit_of_work() as uow:
        same_upload = hashlib.sha256(f"{indicator}:{found.sha256}".encode()).hexdigest()
        replay = await uow.store.claim_request(request, principal.principal, same_upload)
        if replay is not None:
            return replay
        row = await use_cases.add_material(
            uow,
            upload,
            min_working_days=settings.supplement_min_working_days,
            today=clock.today(),
            now=datetime.now(UTC),
        )
        body = material_view(row)
        await uow.store.remember_response(request, principal.principal, 201, body)
        await uow.commit()
    return JSONResponse(body, status_code=201, headers={"Location": body["links"]["self"]})


async def _readable(request: Request, application_id: str, principal: Principal) -> Store:
    """The store to read materials from, once `principal` may read this application's."""
    settings = settings_of(request)
    store = Store.outside(request.app.state.db.engine)
    await use_cases.check_materials_readable(
        store,
        application_id,
        principal,
        scoring_base_url=settings.scoring_base_url,
        min_working_days=settings.supplement_min_working_days,
    )
    return store


@router.get(
    "/applications/{application_id}/materials",
    response_model=MaterialList,
    summary="The materials of an application (without content)",
)
async def list_materials(
    application_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> dict:
    store = await _readable(request, application_id, principal)
    return {"items": [material_view(r) for r in await use_cases.materials_of(store, application_id)]}


@router.get(
    "/applications/{application_id}/materials/{material_id}", response_model=Material, summary="One material's record"
)
async def read_material(
    application_id: str, material_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> dict:
    store = await _readable(request, application_id, principal)
    return material_view(await use_cases.material(store, application_id, material_id))


@router.get(
    "/applications/{application_id}/materials/{material_id}/content",
    summary="One material's bytes, as uploaded",
    response_class=Response,
    responses=openapi.MATERIAL_CONTENT,
)
async def read_material_content(
    application_id: str, material_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> Response:
    store = await _readable(request, application_id, principal)
    row = await use_cases.material_content(store, application_id, material_id)
    return Response(
        row.content,
        media_type=row.media_type,
        headers={
            "ETag": f'"{row.sha256}"',
            "X-Content-SHA256": row.sha256,
            "Content-Disposition": "attachment",
            "X-Content-Type-Options": "nosniff",
        },
    )
