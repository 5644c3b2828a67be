"""What a department officer reads: the department's answer to an application, its audit chain's check."""

from __future__ import annotations

from typing import Any

from services.verification.audit.chain import ChainCheck, verify_chain
from services.verification.use_cases.errors import NotVisible


async def department_result(uow: Any, department: str, application_id: str) -> dict[str, Any]:
    row = await uow.store.result(application_id, department)
    if row is None:
        raise NotVisible()
    return {
        "application_id": row.application_id,
        "department": row.department,
        "items": row.items,
        "facts": row.facts,
        "verified_at": row.verified_at.isoformat(),
    }


async def check_audit_chain(uow: Any, department: str) -> ChainCheck:
    return await verify_chain(uow, department)
