"""X-modules over REST: owners register their own modules and rank their own rounds."""
from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, insert, select

from services.scoring.engine.modules import Module, Round, evaluate_module, parse_module
from services.scoring.engine.population import Population
from services.scoring.engine.rules import RuleSetError
from services.scoring.rule_set_routes import YAML_BODY, read_yaml_upload
from services.scoring.tables import modules as table
from shared.auth import Principal, current_principal
from shared.calendar import cut_off_date
from shared.problems import Problem
from shared.ranges import BusinessDate

router = APIRouter(prefix="/v1/modules", tags=["X-modules"])
MAX_CANDIDATES = 100_000


def _summary(m: Module) -> dict:
    return {"id": m.id, "owner": m.owner, "name": m.name.model_dump(), "candidate": m.candidate,
            "effective_from": m.effective_from.isoformat(), "indicators": [i.id for i in m.indicators],
            "rounds": [r.model_dump(mode="json", by_alias=True) for r in m.rounds],
            "tie_breakers": [t.key for t in m.tie_breakers], "content_hash": m.content_hash}


def _require_owner(principal: Principal, owner: str) -> None:
    """A district or department manages and ranks only its own modules."""
    if not (principal.has("admin") or f"module:{owner}" in principal.scopes):
        raise Problem(403, f"This key does not act for {owner}; a module is managed only by its owner.")


@router.get("", summary="X-modules in use (public)")
async def list_modules(request: Request) -> list[dict]:
    return [_summary(m) for m in request.app.state.modules.values()]


@router.get("/{module_id}", summary="One X-module in full (public)")
async def read_module(module_id: str, request: Request) -> dict:
    module = request.app.state.modules.get(module_id)
    if module is None:
        raise Problem(404, f"No module {module_id!r}.")
    return module.model_dump(mode="json", by_alias=True)


@router.put("/{module_id}", summary="Register a module, or a new version of one's own", openapi_extra=YAML_BODY,
            responses={201: {"description": "Stored as a new version"}})
async def put_module(module_id: str, request: Request, principal: Principal = Depends(current_principal)) -> JSONResponse:
    # Authorise before the body is even read: a key that owns no module never gets its YAML parsed.
    if not (principal.has("admin") or any(s.startswith("module:") for s in principal.scopes)):
        raise Problem(403, "This key acts for no module owner; a module is managed only by its owner.")
    current = request.app.state.modules.get(module_id)
    if current is not None:
        _require_owner(principal, current.owner)  # nobody takes over another owner's module
    text, module = await read_yaml_upload(request, module_id, parse_module)
    _require_owner(principal, module.owner)
    async with request.app.state.db.engine.begin() as conn:
        # Two uploads of one module at once: one waits for the other, each gets its own version.
        await conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"module:{module_id}"))))
        version = (await conn.scalar(select(func.max(table.c.version)).where(table.c.id == module_id))) or 0
        await conn.execute(insert(table).values(id=module_id, version=version + 1, owner=module.owner, source=text,
                                                content_hash=module.content_hash, created_by=principal.principal))
    request.app.state.modules[module_id] = module
    return JSONResponse({**_summary(module), "version": version + 1}, status_code=201)


class Candidate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=100)
    facts: dict[str, Any] | None = None
    parents: list[dict[str, Any]] | None = Field(None, min_length=1, max_length=2,
                                                 description="For a child: each parent's facts")

    @model_validator(mode="after")
    def _one_kind(self) -> "Candidate":
        if (self.facts is None) == (self.parents is None):
            raise ValueError("give either facts (a holder) or parents (a child)")
        return self


class RankRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    candidates: list[Candidate] = Field(min_length=1, max_length=MAX_CANDIDATES)
    application_date: BusinessDate | None = None
    acceptance_opens: BusinessDate | None = None
    threshold: float | None = Field(None, description="This round's published line, if not the module's")
    quota: int | None = Field(None, ge=1, description="Places in this round (e.g. one school district's)")


@router.post("/{module_id}/rank", summary="Score and rank a round's candidates under a module (nothing stored)")
async def rank(module_id: str, body: RankRequest, request: Request,
               principal: Principal = Depends(current_principal)) -> dict:
    module: Module | None = request.app.state.modules.get(module_id)
    if module is None:
        raise Problem(404, f"No module {module_id!r}.")
    _require_owner(principal, module.owner)
    cut_off = cut_off_date(body.application_date or date.today(), body.acceptance_opens)
    if body.threshold is not None or body.quota is not None:
        module = module.model_copy(update={"rounds": [Round.model_validate(
            {"from": date.min, "threshold": body.threshold, "quota": body.quota})]})
    records, owner = [], []
    for c, cand in enumerate(body.candidates):
        for facts in (cand.parents if cand.parents is not None else [cand.facts]):
            records.append(facts or {})
            owner.append(c)
    try:
        result = evaluate_module(module, request.app.state.rule_sets, Population.from_records(records), cut_off,
                                 np.array(owner))
    except RuleSetError as exc:
        raise Problem(422, str(exc), errors=[{"field": "application_date", "message": str(exc)}])
    except (ValueError, TypeError, KeyError) as exc:
        raise Problem(422, f"The facts cannot be read: {exc}", errors=[{"field": "candidates", "message": str(exc)}])
    ranking = []
    for c, cand in enumerate(body.candidates):
        doc = result.candidate(c)
        row = doc.pop("counted_row")
        doc.pop("lines")
        if cand.parents is not None:
            doc["counted_parent"] = row - owner.index(c) if doc["eligible"] else None
        ranking.append({"id": cand.id, **doc})
    ranking.sort(key=lambda d: (d["rank"] is None, d["rank"] or 0))
    rnd = result.round
    return {"module": module_id, "cut_off_date": cut_off.isoformat(), "rule_set_id": result.base.rule_set.id,
            "threshold": rnd.threshold if rnd else None, "quota": rnd.quota if rnd else None, "ranking": ranking}
