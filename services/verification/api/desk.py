"""The departments' desk over REST: a department's officers list, read, open and decide its tasks.

The paths keep their published name, `/v1/departments/{dept}/reviews...` (public API).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.verification import domain
from services.verification.api.access import not_visible, own_department, unit_of_work
from services.verification.api.schemas import Decision, ReviewQueue, ReviewTask
from services.verification.use_cases import desk
from services.verification.use_cases.errors import (
    AlreadyDecided,
    FactsRefused,
    MaterialAltered,
    MaterialRefused,
    MaterialUnreachable,
    NoEarlierAnswer,
    NotVisible,
)
from shared import clock, openapi
from shared.auth import Principal, current_principal
from shared.outages import Unavailable
from shared.problems import Problem
from shared.ranges import INT32_MAX, PathId

router = APIRouter(prefix="/v1/departments/{department}/reviews", tags=["review desk"])


def _task_view(row) -> dict:
    base = f"/v1/departments/{row.department}/reviews/{row.id}"
    return {
        "id": row.id,
        "department": row.department,
        "application_id": row.application_id,
        "indicator": row.indicator,
        "state": row.state,
        "material": row.material,
        "deadline": row.deadline.isoformat() if row.deadline else None,
        "overdue": domain.overdue(row.state, row.deadline, clock.today()),
        "decision": row.decision,
        "decided_by": row.decided_by,
        "created_at": row.created_at.isoformat(),
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "links": {"self": base, "material": f"{base}/material", "decision": f"{base}/decision"},
    }


@router.get("", response_model=ReviewQueue, summary="The department's review queue, oldest first")
async def list_tasks(
    department: str,
    request: Request,
    principal: Principal = Depends(current_principal),
    state: Literal["pending", "decided"] = "pending",
    limit: int = Query(50, ge=1, le=200),
    after: int = Query(0, ge=0, le=INT32_MAX, description="The `next` of the previous page"),
) -> dict:
    own_department(department, principal, request.app.state.owners)
    async with unit_of_work(request) as uow:
        tasks, following = await desk.desk_queue(uow, department, domain.DeskTaskState(state), after, limit)
    return {"items": [_task_view(t) for t in tasks], "next": following}


async def _task_view_of(request: Request, department: str, task_id: int) -> dict:
    async with unit_of_work(request) as uow:
        try:
            return _task_view(await desk.desk_task(uow, department, task_id))
        except NotVisible:
            raise not_visible() from None


@router.get("/{task_id}", response_model=ReviewTask, summary="One review task")
async def read_task(
    department: str, task_id: PathId, request: Request, principal: Principal = Depends(current_principal)
) -> dict:
    own_department(department, principal, request.app.state.owners)
    return await _task_view_of(request, department, task_id)


@router.get(
    "/{task_id}/material",
    summary="Open the task's material (fetched from intake, checked, audited)",
    response_class=Response,
    responses=openapi.MATERIAL_CONTENT,
)
async def open_material(
    department: str, task_id: PathId, request: Request, principal: Principal = Depends(current_principal)
) -> Response:
    own_department(department, principal, request.app.state.owners)
    try:
        opened = await desk.open_material(
            lambda: unit_of_work(request), request.app.state.materials, department, task_id, principal.principal
        )
    except NotVisible:
        raise not_visible() from None
    except MaterialUnreachable as exc:
        raise Problem(503, str(exc)) from None
    except (MaterialRefused, MaterialAltered) as exc:
        raise Problem(502, str(exc)) from None
    return Response(
        opened.content,
        media_type=opened.media_type,
        headers={"X-Content-SHA256": opened.sha256, "X-Content-Type-Options": "nosniff"},
    )


async def _owner_facts(request: Request, department: str, task_id: int) -> list | None:
    """A module owner's desk: the facts (and types) of the task's module, from scoring's catalogue."""
    if department not in request.app.state.owners:
        return None
    async with unit_of_work(request) as uow:
        try:
            task = await desk.desk_task(uow, department, task_id)
        except NotVisible:
            raise not_visible() from None
    try:
        module = await request.app.state.catalogue.module(task.indicator.partition("/")[0])
    except Unavailable as exc:
        raise Problem(
            503, f"The module's declaration cannot be read now: {exc}", headers={"Retry-After": "5"}
        ) from None
    return list(module.facts) if module is not None else []


@router.post(
    "/{task_id}/decision",
    response_model=ReviewTask,
    summary="Decide a task: confirm (with facts), return (with a reason), or flag forged",
)
async def decide(
    department: str,
    task_id: PathId,
    body: Decision,
    request: Request,
    principal: Principal = Depends(current_principal),
) -> dict:
    own_department(department, principal, request.app.state.owners)
    decision = desk.DeskDecision(domain.DeskVerdict(body.decision), body.reason, body.facts)
    owner_facts = await _owner_facts(request, department, task_id)
    async with unit_of_work(request) as uow:
        try:
            await desk.decide(uow, department, task_id, decision, principal.principal, owner_facts=owner_facts)
        except NotVisible:
            raise not_visible() from None
        except AlreadyDecided as exc:
            raise Problem(409, str(exc), type_="/problems/already-decided") from None
        except NoEarlierAnswer as exc:
            raise Problem(409, str(exc)) from None
        except FactsRefused as exc:
            raise Problem.at("facts", exc.message, detail=exc.detail) from None
        await uow.commit()
    return await _task_view_of(request, department, task_id)
