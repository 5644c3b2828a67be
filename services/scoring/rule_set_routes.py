"""Rule sets over REST: public reading, validated drafts, publication by an administrator."""
from __future__ import annotations

import asyncio
from datetime import date
from typing import Any, Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.scoring.engine.rules import RuleSet, RuleSetError, parse_rule_set
from services.scoring.tables import rule_sets as table
from shared.auth import Principal, current_principal, require_any
from shared.problems import Problem

router = APIRouter(prefix="/v1/rule-sets", tags=["rule sets"])
MAX_BYTES = 1 << 20
YAML_BODY = {"requestBody": {"required": True, "content": {"application/yaml": {"schema": {"type": "string"}}}}}


async def read_yaml_upload(request: Request, doc_id: str, parse: Callable[[str, str], Any]) -> tuple[str, Any]:
    """The uploaded YAML and what it parses to; a 413 or a 422 naming the fault otherwise.

    Call it only once the key is known to be allowed: the body is read and parsed here. Parsing
    runs in a thread, so even a document at the limits (see bounded_yaml) leaves the event loop free.
    """
    raw = await request.body()
    if len(raw) > MAX_BYTES:
        raise Problem(413, f"The file may be at most {MAX_BYTES} bytes.")
    try:
        text = raw.decode("utf-8")
        doc = await asyncio.to_thread(parse, text, f"{doc_id}.yaml")
    except UnicodeDecodeError:
        raise Problem(422, "The file must be UTF-8 text.", errors=[{"field": "body", "message": "not UTF-8"}])
    except RuleSetError as exc:
        raise Problem(422, str(exc), errors=[{"field": _field_of(m), "message": m} for m in str(exc).split("; ")])
    if doc.id != doc_id:
        raise Problem(422, f"The file's id {doc.id!r} differs from {doc_id!r} in the path.",
                      errors=[{"field": "id", "message": "must equal the id in the path"}])
    return text, doc


def _field_of(message: str) -> str:
    """The field a rule-file fault names ("file: indicator 'x', field 'y': why"); the body otherwise."""
    parts = message.split(": ", 2)
    return parts[1] if len(parts) == 3 and parts[1].startswith(("indicator ", "field ")) else "body"


def _summary(rs: RuleSet, state: str) -> dict:
    return {"id": rs.id, "state": state, "name": rs.name.model_dump(), "effective_from": rs.effective_from.isoformat(),
            "effective_to": rs.effective_to.isoformat() if rs.effective_to else None, "content_hash": rs.content_hash,
            "indicators": len(rs.indicators)}


@router.get("", summary="Rule sets in use: shipped and published (public)")
async def list_rule_sets(request: Request) -> list[dict]:
    return [_summary(rs, "published") for rs in sorted(request.app.state.rule_sets.values(), key=lambda r: r.effective_from)]


@router.get("/drafts", summary="Drafts awaiting publication")
async def list_drafts(request: Request, principal: Principal = Depends(current_principal)) -> list[dict]:
    require_any(principal, {"rules:draft"})
    async with request.app.state.db.engine.connect() as conn:
        rows = (await conn.execute(select(table).where(table.c.state == "draft").order_by(table.c.uploaded_at))).all()
    return [{**_summary(parse_rule_set(r.source, r.id), "draft"), "uploaded_by": r.uploaded_by,
             "uploaded_at": r.uploaded_at.isoformat()} for r in rows]


@router.get("/{rule_set_id}", summary="One rule set in full, with its content hash (public)")
async def read_rule_set(rule_set_id: str, request: Request) -> dict:
    rs = request.app.state.rule_sets.get(rule_set_id)
    if rs is None:
        raise Problem(404, f"No rule set {rule_set_id!r} in use.")
    return rs.model_dump(mode="json")


@router.put("/drafts/{rule_set_id}", summary="Upload (or replace) a draft rule set, validated whole",
            openapi_extra=YAML_BODY, responses={201: {"description": "Draft stored"}, 409: {"description": "Already published"}})
async def put_draft(rule_set_id: str, request: Request, principal: Principal = Depends(current_principal)) -> JSONResponse:
    require_any(principal, {"rules:draft"})
    text, rs = await read_yaml_upload(request, rule_set_id, parse_rule_set)
    if rule_set_id in request.app.state.rule_sets:
        raise Problem(409, f"Rule set {rule_set_id!r} is published and can never change; upload a new id.")
    async with request.app.state.db.engine.begin() as conn:
        stmt = pg_insert(table).values(id=rs.id, state="draft", source=text, content_hash=rs.content_hash,
                                       effective_from=rs.effective_from, uploaded_by=principal.principal)
        result = await conn.execute(stmt.on_conflict_do_update(
            index_elements=[table.c.id], where=table.c.state == "draft",
            set_={"source": stmt.excluded.source, "content_hash": stmt.excluded.content_hash,
                  "effective_from": stmt.excluded.effective_from, "uploaded_by": stmt.excluded.uploaded_by,
                  "uploaded_at": stmt.excluded.uploaded_at}))
        if result.rowcount == 0:
            raise Problem(409, f"Rule set {rule_set_id!r} is published and can never change; upload a new id.")
    return JSONResponse(_summary(rs, "draft"), status_code=201)


@router.post("/{rule_set_id}/publish", summary="Publish a draft (administrators only); it takes effect on its date")
async def publish(rule_set_id: str, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    if not principal.has("admin"):
        raise Problem(403, "Only an administrator may publish a rule set.")
    async with request.app.state.db.engine.begin() as conn:
        row = (await conn.execute(select(table).where(table.c.id == rule_set_id).with_for_update())).first()
        if row is None:
            raise Problem(404, f"No draft {rule_set_id!r}.")
        if row.state == "published":
            raise Problem(409, f"Rule set {rule_set_id!r} is already published.")
        rs = parse_rule_set(row.source, f"{rule_set_id}.yaml")
        if rs.effective_from <= date.today():
            raise Problem(422, f"A rule set cannot take effect in the past or today ({rs.effective_from.isoformat()}): "
                               "scores already computed must stay reproducible.",
                          errors=[{"field": "effective_from", "message": "must be after today"}])
        await conn.execute(update(table).where(table.c.id == rule_set_id)
                           .values(state="published", published_by=principal.principal, published_at=func.now()))
    request.app.state.rule_sets[rs.id] = rs
    return _summary(rs, "published")
