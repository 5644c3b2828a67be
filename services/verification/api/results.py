"""REST for department officers: a department sees only its own results and audit chain."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from services.verification.api.access import not_visible, own_department, unit_of_work
from services.verification.api.schemas import AuditCheck, DepartmentResult
from services.verification.use_cases import results
from services.verification.use_cases.errors import NotVisible
from shared.auth import Principal, current_principal

router = APIRouter(prefix="/v1/departments/{department}", tags=["department officers"])


@router.get(
    "/verifications/{application_id}",
    response_model=DepartmentResult,
    response_model_exclude_unset=True,
    summary="A department's verification result for an application",
)
async def read_result(
    department: str, application_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> dict:
    own_department(department, principal, request.app.state.owners)
    async with unit_of_work(request) as uow:
        try:
            return await results.department_result(uow, department, application_id)
        except NotVisible:
            raise not_visible() from None


@router.get(
    "/audit/verify",
    response_model=AuditCheck,
    summary="Recompute the department's audit hash chain and hold it against its anchor",
)
async def verify_audit(department: str, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    own_department(department, principal, request.app.state.owners)
    async with unit_of_work(request) as uow:
        check = await results.check_audit_chain(uow, department)
    return {"department": department, **check.as_dict()}
