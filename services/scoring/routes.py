"""Scoring's REST API: scores with their explanation, and self-estimates."""
from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from services.scoring import access
from services.scoring.domain import score_facts
from shared.calendar import cut_off_date
from services.scoring.engine.rules import RuleSetError
from services.scoring.tables import rate_limits, scores
from shared.auth import Principal, current_principal, require_any
from shared.problems import Problem
from shared.ranges import BusinessDate, PathId
from shared.ratelimit import rate_limited

router = APIRouter(prefix="/v1", tags=["scores"])


def _score_doc(row) -> dict:
    return {"application_id": row.application_id, "version": row.version, "status": row.status, "total": row.total,
            "rule_set": {"id": row.rule_set_id, "hash": row.rule_set_hash}, "cut_off_date": row.cut_off_date.isoformat(),
            "computed_at": row.computed_at.isoformat(), "explanation": row.explanation}


def _not_visible(application_id: str, version: int | None = None) -> Problem:
    # One answer for an unknown application, one not yet scored and one this key may not see.
    what = f"score version {version}" if version is not None else "score"
    return Problem(404, f"No {what} of application {application_id} is visible to this key.")


@router.get("/scores/{application_id}", summary="The latest score of an application, with its explanation",
            description=f"For the partner that submitted it, a department that answered it (its own lines), an app "
                        f"acting for the holder (header `{access.HOLDER_HEADER}`), and administrators.")
async def read_score(application_id: str, request: Request, principal: Principal = Depends(current_principal),
                     holder_id_number: str | None = Header(None, alias=access.HOLDER_HEADER, max_length=18)) -> dict:
    access.require_reader(principal, holder_id_number)
    async with request.app.state.db.engine.connect() as conn:
        sight = await access.sight_of(conn, application_id, principal, holder_id_number,
                                      request.app.state.settings.candidate_key_salt)
        rows = [] if sight is None else (await conn.execute(
            select(scores).where(scores.c.application_id == application_id).order_by(scores.c.version.desc()))).all()
    if sight is None or not rows:
        raise _not_visible(application_id)
    doc = _score_doc(rows[0])
    doc["versions"] = [r.version for r in reversed(rows)]
    return access.shown(doc, sight)


@router.get("/scores/{application_id}/versions/{version}", summary="One version of an application's score (kept forever)")
async def read_score_version(application_id: str, version: PathId, request: Request,
                             principal: Principal = Depends(current_principal),
                             holder_id_number: str | None = Header(None, alias=access.HOLDER_HEADER,
                                                                   max_length=18)) -> dict:
    access.require_reader(principal, holder_id_number)
    async with request.app.state.db.engine.connect() as conn:
        sight = await access.sight_of(conn, application_id, principal, holder_id_number,
                                      request.app.state.settings.candidate_key_salt)
        row = None if sight is None else (await conn.execute(select(scores).where(
            scores.c.application_id == application_id, scores.c.version == version))).first()
    if sight is None or row is None:
        raise _not_visible(application_id, version)
    return access.shown(_score_doc(row), sight)


class EvaluateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    facts: dict[str, Any] = Field(description="The holder's facts, as departments report them (see the README)",
                                  examples=[{"permit_status": "valid", "birth_date": "1990-05-01", "education": ["bachelor"],
                                             "residence_spans": [{"start": "2015-03-01", "end": None}]}])
    application_date: BusinessDate | None = Field(None, description="Defaults to today; the cut-off date follows from it")
    acceptance_opens: BusinessDate | None = Field(None, description="For a yearly round: when its acceptance period opens")
    rule_set_id: str | None = Field(None, description="Defaults to the rule set in force on the cut-off date")


@router.post("/evaluate", tags=["simulation"], summary="Score facts without storing anything (模拟积分, self-estimate)",
             dependencies=[Depends(rate_limited(rate_limits, "evaluate", "evaluations_per_principal_hour",
                                                "evaluations_per_client_hour", "evaluations"))],
             responses={429: {"description": "Over the hourly limit of this key or address; see Retry-After"}})
async def evaluate_facts(body: EvaluateRequest, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    require_any(principal, {"evaluate"})
    rule_sets = request.app.state.rule_sets
    cut_off = cut_off_date(body.application_date or date.today(), body.acceptance_opens)
    if body.rule_set_id is not None and body.rule_set_id not in rule_sets:
        raise Problem(422, f"No rule set {body.rule_set_id!r}.", errors=[{"field": "rule_set_id", "message": "unknown rule set"}])
    try:
        chosen = {body.rule_set_id: rule_sets[body.rule_set_id]} if body.rule_set_id else rule_sets
        return score_facts(chosen, cut_off, body.facts, request.app.state.modules)
    except RuleSetError as exc:
        raise Problem(422, str(exc), errors=[{"field": "application_date", "message": str(exc)}])
    except (ValueError, TypeError, KeyError) as exc:
        raise Problem(422, f"The facts cannot be read: {exc}", errors=[{"field": "facts", "message": str(exc)}])
