"""Scoring's REST API: scores with their explanation, the rule sets in use."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from services.scoring.tables import scores
from shared.auth import Principal, current_principal, require_any
from shared.problems import Problem

router = APIRouter(prefix="/v1", tags=["scores"])


def _score_doc(row) -> dict:
    return {"application_id": row.application_id, "version": row.version, "status": row.status, "total": row.total,
            "rule_set": {"id": row.rule_set_id, "hash": row.rule_set_hash}, "cut_off_date": row.cut_off_date.isoformat(),
            "computed_at": row.computed_at.isoformat(), "explanation": row.explanation}


@router.get("/scores/{application_id}", summary="The latest score of an application, with its explanation")
async def read_score(application_id: str, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    require_any(principal, {"scores:read"})
    async with request.app.state.db.engine.connect() as conn:
        rows = (await conn.execute(select(scores).where(scores.c.application_id == application_id)
                                   .order_by(scores.c.version.desc()))).all()
    if not rows:
        raise Problem(404, f"No score for application {application_id} yet.")
    doc = _score_doc(rows[0])
    doc["versions"] = [r.version for r in reversed(rows)]
    return doc


@router.get("/rule-sets", tags=["rule sets"], summary="Rule sets known to the engine (public)")
async def list_rule_sets(request: Request) -> list[dict]:
    return [{"id": rs.id, "name": rs.name.model_dump(), "effective_from": rs.effective_from.isoformat(),
             "effective_to": rs.effective_to.isoformat() if rs.effective_to else None, "content_hash": rs.content_hash,
             "indicators": len(rs.indicators)} for rs in request.app.state.rule_sets.values()]


@router.get("/rule-sets/{rule_set_id}", tags=["rule sets"], summary="One rule set, in full (public)")
async def read_rule_set(rule_set_id: str, request: Request) -> dict:
    rs = request.app.state.rule_sets.get(rule_set_id)
    if rs is None:
        raise Problem(404, f"No rule set {rule_set_id!r}.")
    return rs.model_dump(mode="json")
