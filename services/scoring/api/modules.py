"""X-modules over REST: owners register their own modules and rank their own rounds."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from services.scoring import use_cases
from services.scoring.api.schemas import ModuleDocument, ModuleSummary, ModuleVersion, Ranking, RankRequest
from services.scoring.api.sources import source_document
from services.scoring.api.uploads import YAML_BODY, read_yaml_upload
from services.scoring.engine.modules import Module, module_faults, parse_module
from services.scoring.engine.rules import RuleSetError
from shared import clock
from shared.auth import Principal, current_principal
from shared.calendar import cut_off_date
from shared.problems import Problem

router = APIRouter(prefix="/v1/modules", tags=["X-modules"])


def _summary(m: Module) -> dict:
    return {
        "id": m.id,
        "owner": m.owner,
        "name": m.name.model_dump(),
        "candidate": m.candidate,
        "effective_from": m.effective_from.isoformat(),
        "indicators": [i.id for i in m.indicators],
        "rounds": [r.model_dump(mode="json", by_alias=True) for r in m.rounds],
        "tie_breakers": [t.key for t in m.tie_breakers],
        "content_hash": m.content_hash,
    }


def _require_owner(principal: Principal, owner: str) -> None:
    if not use_cases.may_manage(principal.scopes, principal.has("admin"), owner):
        raise Problem(403, f"This key does not act for {owner}; a module is managed only by its owner.")


@router.get(
    "", response_model=list[ModuleSummary], response_model_exclude_unset=True, summary="X-modules in use (public)"
)
async def list_modules(request: Request) -> list[dict]:
    return [_summary(m) for m in request.app.state.modules.values()]


@router.get(
    "/{module_id}",
    response_model=ModuleDocument,
    response_model_exclude_unset=True,
    summary="One X-module in full (public)",
)
async def read_module(module_id: str, request: Request) -> dict:
    module = request.app.state.modules.get(module_id)
    if module is None:
        raise Problem(404, f"No module {module_id!r}.")
    return module.model_dump(mode="json", by_alias=True)


@router.get(
    "/{module_id}/source",
    summary="The exact text of a module version, whose sha256 is its content hash (public)",
    response_class=PlainTextResponse,
    responses={200: {"content": {"application/yaml": {}}, "description": "The YAML, byte for byte"}},
)
async def module_source(
    module_id: str,
    request: Request,
    content_hash: str | None = Query(
        None, alias="hash", pattern="^[0-9a-f]{64}$", description="An earlier version's content hash"
    ),
) -> PlainTextResponse:
    return await source_document(request, "module", module_id, request.app.state.modules.get(module_id), content_hash)


@router.put(
    "/{module_id}",
    summary="Register a module, or a new version of one's own",
    openapi_extra=YAML_BODY,
    status_code=201,
    response_model=ModuleVersion,
    response_description="Stored as a new version",
)
async def put_module(
    module_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> JSONResponse:
    # Authorise before the body is even read: a key that owns no module never gets its YAML parsed.
    if not (principal.has("admin") or any(s.startswith("module:") for s in principal.scopes)):
        raise Problem(403, "This key acts for no module owner; a module is managed only by its owner.")
    current = request.app.state.modules.get(module_id)
    if current is not None:
        _require_owner(principal, current.owner)  # nobody takes over another owner's module
    text, module = await read_yaml_upload(request, module_id, parse_module)
    _require_owner(principal, module.owner)
    faults = module_faults(module, request.app.state.rule_sets)
    if faults:
        raise Problem(
            422,
            "; ".join(f"{field}: {message}" for field, message in faults),
            errors=[{"field": field, "message": message} for field, message in faults],
        )
    async with request.app.state.db.unit_of_work() as uow:
        version = await use_cases.register_module(uow.store, module, text, principal.principal)
        await uow.commit()
    request.app.state.modules[module_id] = module
    return JSONResponse({**_summary(module), "version": version}, status_code=201)


@router.post(
    "/{module_id}/rank",
    response_model=Ranking,
    response_model_exclude_unset=True,
    summary="Score and rank a round's candidates under a module (nothing stored)",
)
async def rank(
    module_id: str, body: RankRequest, request: Request, principal: Principal = Depends(current_principal)
) -> dict:
    module: Module | None = request.app.state.modules.get(module_id)
    if module is None:
        raise Problem(404, f"No module {module_id!r}.")
    _require_owner(principal, module.owner)
    cut_off = cut_off_date(body.application_date or clock.today(), body.acceptance_opens)
    try:
        module, result, ranking = use_cases.rank_candidates(
            module, request.app.state.rule_sets, body.candidates, cut_off, body.threshold, body.quota
        )
    except RuleSetError as exc:
        raise Problem(422, str(exc), errors=[{"field": "application_date", "message": str(exc)}]) from exc
    except (ValueError, TypeError, KeyError) as exc:
        raise Problem(
            422, f"The facts cannot be read: {exc}", errors=[{"field": "candidates", "message": str(exc)}]
        ) from exc
    rnd = result.round
    return {
        "module": module_id,
        "cut_off_date": cut_off.isoformat(),
        "rule_set_id": result.base.rule_set.id,
        "threshold": rnd.threshold if rnd else None,
        "quota": rnd.quota if rnd else None,
        "ranking": ranking,
    }
