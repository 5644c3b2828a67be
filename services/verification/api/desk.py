"""The review desk: department officers decide the items that need a person (a supplemented item).

Officers see only their department's queue. Opening a material is a look-up into a person's
records like any registry query, so it is written to the department's audit chain. A decision
answers the application again: the department's result is updated and a new
`verification.completed` carries all its items, so scoring computes a new version.
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone
from typing import Any, Literal

import httpx
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import bindparam, select, update

from services.verification import audit
from services.verification.departments import FACTS_OF_ITEM
from services.verification.domain import completed
from services.verification.routes import not_visible, own_department
from services.verification.tables import results, review_tasks
from shared.auth import Principal, current_principal
from shared.documents import document_problem
from shared.events.catalogue import ApplicationSubmitted
from shared.problems import Problem
from shared.ranges import INT32_MAX, PathId

router = APIRouter(prefix="/v1/departments/{department}/reviews", tags=["review desk"])
TASK_FOR_UPDATE = (select(review_tasks).where(review_tasks.c.id == bindparam("task"),
                                              review_tasks.c.department == bindparam("dept")).with_for_update())
RESULT_FOR_UPDATE = (select(results).where(results.c.application_id == bindparam("app"),
                                           results.c.department == bindparam("dept")).with_for_update())
STATES = {"confirm": "passed", "return": "returned", "forged": "forged"}


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["confirm", "return", "forged"]
    reason: str | None = Field(None, max_length=500, description="Required to return or to flag forged: the "
                                                                  "applicant must be able to act on it")
    facts: dict[str, Any] = Field(default_factory=dict, description="Confirm: the facts the material proves, as "
                                                                     "the department's registry would give them")

    @model_validator(mode="after")
    def _reasoned(self) -> "Decision":
        if self.decision != "confirm" and not (self.reason or "").strip():
            raise PydanticCustomError("decision", "reason: say why, so the applicant can act on it")
        if self.decision != "confirm" and self.facts:
            raise PydanticCustomError("decision", "facts: only a confirmation vouches for facts")
        if problem := document_problem(self.facts):
            raise PydanticCustomError("decision", f"facts: the document {problem}")
        return self


def _task_view(row) -> dict:
    base = f"/v1/departments/{row.department}/reviews/{row.id}"
    return {"id": row.id, "department": row.department, "application_id": row.application_id,
            "indicator": row.indicator, "state": row.state, "material": row.material,
            "deadline": row.deadline.isoformat() if row.deadline else None,
            "overdue": row.state == "pending" and row.deadline is not None and row.deadline < date.today(),
            "decision": row.decision, "decided_by": row.decided_by,
            "created_at": row.created_at.isoformat(), "decided_at": row.decided_at.isoformat() if row.decided_at else None,
            "links": {"self": base, "material": f"{base}/material", "decision": f"{base}/decision"}}


@router.get("", summary="The department's review queue, oldest first")
async def list_tasks(department: str, request: Request, principal: Principal = Depends(current_principal),
                     state: Literal["pending", "decided"] = "pending", limit: int = Query(50, ge=1, le=200),
                     after: int = Query(0, ge=0, le=INT32_MAX, description="The `next` of the previous page")) -> dict:
    own_department(department, principal)
    t = review_tasks
    q = (select(t).where(t.c.department == department, t.c.state == state, t.c.id > after)
         .order_by(t.c.id).limit(limit + 1))
    async with request.app.state.db.engine.connect() as conn:
        rows = (await conn.execute(q)).all()
    return {"items": [_task_view(r) for r in rows[:limit]], "next": rows[limit - 1].id if len(rows) > limit else None}


async def _task(request: Request, department: str, task_id: int):
    async with request.app.state.db.engine.connect() as conn:
        row = (await conn.execute(select(review_tasks).where(review_tasks.c.id == task_id,
                                                             review_tasks.c.department == department))).first()
    if row is None:
        raise not_visible()
    return row


@router.get("/{task_id}", summary="One review task")
async def read_task(department: str, task_id: PathId, request: Request,
                    principal: Principal = Depends(current_principal)) -> dict:
    own_department(department, principal)
    return _task_view(await _task(request, department, task_id))


def _intake_client(request: Request) -> httpx.AsyncClient:
    client = getattr(request.app.state, "intake_client", None)
    if client is None:
        settings = request.app.state.settings
        client = httpx.AsyncClient(base_url=settings.intake_base_url, timeout=10.0,
                                   headers={"Authorization": f"Bearer {settings.intake_materials_key}"})
        request.app.state.intake_client = client
    return client


@router.get("/{task_id}/material", summary="Open the task's material (fetched from intake, checked, audited)",
            response_class=Response, responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}})
async def open_material(department: str, task_id: PathId, request: Request,
                        principal: Principal = Depends(current_principal)) -> Response:
    own_department(department, principal)
    task = await _task(request, department, task_id)
    try:
        r = await _intake_client(request).get(task.material["url"])
    except httpx.HTTPError as exc:
        raise Problem(503, f"Intake could not be reached for the material: {exc}")
    if r.status_code != 200:
        raise Problem(502, f"Intake answered {r.status_code} for the material.")
    digest = hashlib.sha256(r.content).hexdigest()
    if digest != task.material["sha256"]:
        raise Problem(502, "The material intake returned does not match the SHA-256 recorded at upload.")
    async with request.app.state.db.unit_of_work() as uow:
        await audit.append(uow, department, task.application_id, principal.principal,
                           [("material", {"material_id": task.material["id"], "indicator": task.indicator}, r.content)])
        await uow.commit()
    return Response(r.content, media_type=task.material["media_type"],
                    headers={"X-Content-SHA256": digest, "X-Content-Type-Options": "nosniff"})


@router.post("/{task_id}/decision", summary="Decide a task: confirm (with facts), return (with a reason), or flag forged")
async def decide(department: str, task_id: PathId, body: Decision, request: Request,
                 principal: Principal = Depends(current_principal)) -> dict:
    own_department(department, principal)
    now = datetime.now(timezone.utc)
    async with request.app.state.db.unit_of_work() as uow:
        task = (await uow.conn.execute(TASK_FOR_UPDATE, {"task": task_id, "dept": department})).first()
        if task is None:
            raise not_visible()
        if task.state != "pending":
            raise Problem(409, f"Review task {task_id} was already decided.", type_="/problems/already-decided")
        result = (await uow.conn.execute(RESULT_FOR_UPDATE, {"app": task.application_id, "dept": department})).first()
        if result is None or result.context is None:
            raise Problem(409, f"The {department} department has no earlier answer for {task.application_id} to revise.")
        owned = FACTS_OF_ITEM.get(task.indicator, ())
        if stray := sorted(set(body.facts) - set(owned)):
            raise Problem.at("facts", f"only {', '.join(owned) or 'none'}",
                             detail=f"facts: {', '.join(stray)} {'is' if len(stray) == 1 else 'are'} not facts of the "
                                    f"{task.indicator} item (it rests on: {', '.join(owned) or 'no fact'})")
        if body.decision == "confirm" and owned and not body.facts:
            raise Problem.at("facts", "required to confirm", detail=f"facts: confirming {task.indicator} means "
                                                                       f"saying what the material proves ({', '.join(owned)})")
        item = {"indicator": task.indicator, "state": STATES[body.decision],
                "reason": None if body.decision == "confirm" else body.reason}
        items = [i for i in result.items if i["indicator"] != task.indicator] + [item]
        facts = {**result.facts, **body.facts}
        decision = {**body.model_dump(), "material_sha256": task.material["sha256"]}
        await uow.conn.execute(update(results).where(results.c.application_id == task.application_id,
                                                     results.c.department == department)
                               .values(items=items, facts=facts, verified_at=now))
        await uow.conn.execute(update(review_tasks).where(review_tasks.c.id == task_id)
                               .values(state="decided", decision=decision, decided_by=principal.principal,
                                       decided_at=now))
        question = ApplicationSubmitted.model_validate(result.context)
        uow.emit(completed(question, department, question.holder.ref(), items, facts, now))
        await uow.commit()
    return _task_view((await _task(request, department, task_id)))
