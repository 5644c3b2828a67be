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
    """A key without any department is refused; another department's records (or an unknown
    department) answer exactly like a record that does not exist."""
    if not principal.has("admin") and not principal.scoped_values("department"):
        raise Problem(403, "This key does not act for a department (scope department:<name>).")
    if department not in DEPARTMENTS or not (principal.has("admin") or department in principal.scoped_values("department")):
        raise not_visible()


def not_visible() -> Problem:
    return Problem(404, "Nothing at this address is visible to this key.")


@router.get("/verifications/{application_id}", summary="A department's verification result for an application")
async def read_result(department: str, application_id: str, request: Request,
                      principal: Principal = Depends(current_principal)) -> dict:
    own_department(department, principal)
    async with request.app.state.db.engine.connect() as conn:
        row = (await conn.execute(select(results).where(results.c.application_id == application_id,
                                                        results.c.department == department))).first()
    if row is None:
        raise not_visible()
    return {"application_id": row.application_id, "department": row.department, "items": row.items,
            "facts": row.facts, "verified_at": row.verified_at.isoformat()}


@router.get("/audit/verify", summary="Recompute the department's audit hash chain and hold it against its anchor")
async def verify_audit(department: str, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    own_department(department, principal)
    async with request.app.state.db.engine.connect() as conn:
        check = await verify_chain(conn, department)
    return {"department": department, **check.as_dict()}
