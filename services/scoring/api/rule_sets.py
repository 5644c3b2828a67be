"""Rule sets over REST: public reading, validated drafts, publication by an administrator."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from services.scoring import use_cases
from services.scoring.api.schemas import RuleSetDocument, RuleSetSummary
from services.scoring.api.sources import source_document
from services.scoring.api.uploads import YAML_BODY, read_yaml_upload, refused
from services.scoring.domain import RuleSetState
from services.scoring.engine.rules import RuleSet, parse_rule_set
from shared import clock
from shared.auth import Principal, current_principal, require_any
from shared.problems import Problem

router = APIRouter(prefix="/v1/rule-sets", tags=["rule sets"])


def _summary(rs: RuleSet, state: str) -> dict:
    return {
        "id": rs.id,
        "state": state,
        "name": rs.name.model_dump(),
        "effective_from": rs.effective_from.isoformat(),
        "effective_to": rs.effective_to.isoformat() if rs.effective_to else None,
        "content_hash": rs.content_hash,
        "indicators": len(rs.indicators),
    }


@router.get(
    "",
    response_model=list[RuleSetSummary],
    response_model_exclude_unset=True,
    summary="Rule sets in use: shipped and published (public)",
)
async def list_rule_sets(request: Request) -> list[dict]:
    in_use = sorted(request.app.state.rule_sets.values(), key=lambda r: r.effective_from)
    return [_summary(rs, RuleSetState.PUBLISHED.value) for rs in in_use]


@router.get("/drafts", response_model=list[RuleSetSummary], summary="Drafts awaiting publication")
async def list_drafts(request: Request, principal: Principal = Depends(current_principal)) -> list[dict]:
    require_any(principal, {"rules:draft"})
    async with request.app.state.db.unit_of_work() as uow:
        rows = await uow.store.drafts()
    return [
        {
            **_summary(parse_rule_set(r.source, r.id), RuleSetState.DRAFT.value),
            "uploaded_by": r.uploaded_by,
            "uploaded_at": r.uploaded_at.isoformat(),
        }
        for r in rows
    ]


@router.get(
    "/{rule_set_id}",
    response_model=RuleSetDocument,
    response_model_exclude_unset=True,
    summary="One rule set in full, with its content hash (public)",
)
async def read_rule_set(rule_set_id: str, request: Request) -> dict:
    rs = request.app.state.rule_sets.get(rule_set_id)
    if rs is None:
        raise Problem(404, f"No rule set {rule_set_id!r} in use.")
    return rs.model_dump(mode="json")


@router.get(
    "/{rule_set_id}/source",
    summary="The exact text of a rule set, whose sha256 is its content hash (public)",
    response_class=PlainTextResponse,
    responses={200: {"content": {"application/yaml": {}}, "description": "The YAML, byte for byte"}},
)
async def rule_set_source(
    rule_set_id: str,
    request: Request,
    content_hash: str | None = Query(
        None, alias="hash", pattern="^[0-9a-f]{64}$", description="An earlier version's content hash"
    ),
) -> PlainTextResponse:
    """The text in use, or (with `hash`) any text a score was ever computed with."""
    return await source_document(
        request, "rule_set", rule_set_id, request.app.state.rule_sets.get(rule_set_id), content_hash
    )


@router.put(
    "/drafts/{rule_set_id}",
    summary="Upload (or replace) a draft rule set, validated whole",
    openapi_extra=YAML_BODY,
    response_model=RuleSetSummary,
    responses={
        201: {"description": "Draft stored", "model": RuleSetSummary},
        409: {"description": "Already published"},
    },
)
async def put_draft(
    rule_set_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> JSONResponse:
    require_any(principal, {"rules:draft"})
    text, rs = await read_yaml_upload(request, rule_set_id, parse_rule_set)
    async with request.app.state.db.unit_of_work() as uow:
        try:
            await use_cases.upload_draft(uow.store, request.app.state.rule_sets, rs, text, principal.principal)
        except use_cases.Refused as exc:
            raise refused(exc) from None
        await uow.commit()
    return JSONResponse(_summary(rs, RuleSetState.DRAFT.value), status_code=201)


@router.post(
    "/{rule_set_id}/publish",
    response_model=RuleSetSummary,
    response_model_exclude_unset=True,
    summary="Publish a draft (administrators only); it takes effect on its date",
)
async def publish(rule_set_id: str, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    if not principal.has("admin"):
        raise Problem(403, "Only an administrator may publish a rule set.")
    async with request.app.state.db.unit_of_work() as uow:
        try:
            rs = await use_cases.publish_rule_set(
                uow.store, request.app.state.rule_sets, rule_set_id, principal.principal, clock.today(), parse_rule_set
            )
        except use_cases.NotVisible:
            raise Problem(404, f"No draft {rule_set_id!r}.") from None
        except use_cases.Refused as exc:
            raise refused(exc) from None
        await uow.commit()
    request.app.state.rule_sets[rs.id] = rs
    return _summary(rs, RuleSetState.PUBLISHED.value)
