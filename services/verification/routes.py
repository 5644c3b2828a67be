"""REST for department officers: a department sees only its own results and audit chain."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from services.verification.audit import verify_chain
from services.verification.tables import results
from shared.auth import Principal, current_principal
from shared.departments import DEPARTMENTS
from shared.problems import Problem

router = APIRouter(prefix="/v1/departments/{department}", tags=["department officers"])


def own_department(department: str, principal: Principal) -> None:
    if department not in DEPARTMENTS:
        raise Problem(404, f"No department {department!r}.")
    if not principal.has("admin") and department not in principal.scoped_values("department"):
        raise Problem(403, f"This key does not act for the {department} department.")


@router.get("/verifications/{application_id}", summary="A department's verification result for an application")
async def read_result(department: str, application_id: str, request: Request,
                      principal: Principal = Depends(current_principal)) -> dict:
    own_department(department, principal)
    async with request.app.state.db.engine.connect() as conn:
        row = (await conn.execute(select(results).where(results.c.application_id == application_id,
                                                        results.c.department == department))).first()
    if row is None:
        raise Problem(404, f"The {department} department has no result for {application_id} yet.")
    return {"application_id": row.application_id, "department": row.department, "items": row.items,
            "facts": row.facts, "verified_at": row.verified_at.isoformat()}


@router.get("/audit/verify", summary="Recompute the department's audit hash chain and hold it against its anchor")
async def verify_audit(department: str, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    own_department(department, principal)
    async with request.app.state.db.engine.connect() as conn:
        check = await verify_chain(conn, department)
    return {"department": department, **check.as_dict()}
