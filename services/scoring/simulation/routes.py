"""Simulations over REST: start one on a generated or uploaded population, follow it, fetch its report."""

from __future__ import annotations

import asyncio
import shutil
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field, ValidationError, model_validator

from services.scoring.api.schemas import Simulation, SimulationSummary
from services.scoring.engine.modules import Module
from services.scoring.simulation import jobs
from services.scoring.simulation.files import POPULATION_FILE
from services.scoring.simulation.named_draft import draft_of, exactly_one
from services.scoring.simulation.population import schema_faults
from services.scoring.simulation.spec import describe, make_spec
from services.scoring.simulation.store import JobStore
from services.scoring.simulation.upload_limits import UploadLimits, limit_faults
from services.scoring.tables import rate_limits
from shared.auth import Principal, current_principal, require_any
from shared.problems import Problem
from shared.ranges import BusinessDate
from shared.ratelimit import rate_limited
from shared.synthetic.holders import DEFAULT_AS_OF, DEFAULT_SEED
from shared.synthetic.holders import SCHEMA as POPULATION_SCHEMA
from shared.synthetic.parquet import population_info

router = APIRouter(prefix="/v1/simulations", tags=["simulation"])
SCOPE = {"simulation"}
MAX_DRAFT_BYTES = 1 << 20


class GeneratedPopulation(BaseModel):
    holders: int = Field(ge=1, description="How many synthetic holders (see README, 'The synthetic population')")
    seed: int = Field(DEFAULT_SEED, ge=0, lt=1 << 32)
    as_of: BusinessDate = Field(DEFAULT_AS_OF, description="The registries' reference date")


class SimulationRequest(BaseModel):
    population: GeneratedPopulation | None = Field(
        None, description="Generate one (JSON); or upload a Parquet file (multipart)"
    )
    baseline: str = Field("hangzhou-2021", description="A rule set in use")
    draft: str | None = Field(
        None, description="A rule set id: in use, or an uploaded draft (PUT /v1/rule-sets/drafts/{id})"
    )
    draft_document: str | None = Field(
        None,
        max_length=MAX_DRAFT_BYTES,
        description="Or the draft itself: YAML, whole or `based_on` + changed indicators",
    )
    module: str | None = Field(None, description="An X-module in use: module totals are compared")
    threshold: float | None = Field(None, allow_inf_nan=False)
    quota: int | None = Field(None, ge=1, le=1 << 31)
    cut_off_date: BusinessDate | None = Field(None, description="Default: the population's reference date")

    @model_validator(mode="after")
    def _one_draft(self) -> SimulationRequest:
        exactly_one(self.draft, self.draft_document)
        return self


def _module_of(request: Request, body: SimulationRequest) -> Module | None:
    if body.module is None:
        return None
    module = request.app.state.modules.get(body.module)
    if module is None:
        raise Problem.at("module", f"no module {body.module!r} in use")
    if module.candidate != "holder":
        # Its candidates are children ranked by the better parent: a population of holders has no families.
        raise Problem.at("module", f"{body.module!r} ranks {module.candidate}ren, not holders: it cannot be simulated")
    return module


def _check_population(path, cut_off: date | None, limits: UploadLimits) -> dict[str, Any]:
    """An uploaded file within the limits, shaped like the facts its columns are named after, or a
    422 naming the fault. Only the footer is read here: the columns are the job's child's to read."""
    try:
        info = population_info(path)
        parquet = pq.ParquetFile(path)
        meta, schema = parquet.metadata, parquet.schema_arrow
        faults = schema_faults(schema, POPULATION_SCHEMA)
        if faults:
            raise Problem(
                422,
                "The population's columns do not fit the facts they are named after.",
                errors=[
                    {"field": f"population.{col}" if col != "population" else col, "message": m} for col, m in faults
                ],
            )
        if info.holders == 0:
            raise ValueError("the file holds no holders")
        lists = {f.name for f in schema if pa.types.is_list(f.type) or pa.types.is_large_list(f.type)}
        over = limit_faults(meta, schema.names, lists, limits)
        if over:
            raise Problem(
                422,
                "The population is over the limits of an upload.",
                errors=[
                    {"field": f"population.{col}" if col != "population" else col, "message": m} for col, m in over
                ],
            )
    except (ValueError, OSError, pa.ArrowException) as exc:
        raise Problem.at("population", str(exc)) from exc
    if cut_off is None and info.as_of is None:
        raise Problem.at("cut_off_date", "required: the file does not say its reference date")
    return {"kind": "uploaded", **info.as_dict()}


async def _read_request(request: Request) -> tuple[SimulationRequest, Any]:
    kind = request.headers.get("content-type", "")
    upload = None
    try:
        if kind.startswith("multipart/form-data"):
            form = await request.form(max_files=2, max_fields=20)
            upload = form.get("population")
            if upload is None or isinstance(upload, str):
                raise Problem.at("population", "attach the population as a Parquet file part")
            fields = {k: v for k, v in form.items() if k != "population" and isinstance(v, str) and v != ""}
            document = form.get("draft_document")
            if document is not None and not isinstance(document, str):  # the draft as a file part (curl -F x=@f)
                raw = await document.read(MAX_DRAFT_BYTES + 1)
                if len(raw) > MAX_DRAFT_BYTES:
                    raise Problem.at("draft_document", f"at most {MAX_DRAFT_BYTES} bytes")
                try:
                    fields["draft_document"] = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise Problem.at("draft_document", "must be UTF-8 text") from None
            return SimulationRequest.model_validate(fields), upload
        return SimulationRequest.model_validate_json(await request.body()), None
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]} for e in exc.errors()]
        raise Problem(422, "The simulation request is not valid.", errors=errors) from exc


@router.post(
    "",
    status_code=202,
    response_model=Simulation,
    summary="Start a simulation (generated population: JSON; uploaded: multipart)",
    responses={
        202: {"description": "Queued; follow the Location"},
        429: {"description": "Over the hourly limit of this key or address; see Retry-After"},
    },
    # Counted before the body is read: a refused upload is not spooled to disk.
    dependencies=[
        Depends(
            rate_limited(
                rate_limits, "simulate", "simulations_per_principal_hour", "simulations_per_client_hour", "simulations"
            )
        )
    ],
)
async def start(request: Request, principal: Principal = Depends(current_principal)) -> JSONResponse:
    require_any(principal, SCOPE)
    settings = request.app.state.settings
    body, upload = await _read_request(request)
    if body.baseline not in request.app.state.rule_sets:
        raise Problem.at("baseline", f"no rule set {body.baseline!r} in use")
    baseline, draft, module = (
        request.app.state.rule_sets[body.baseline],
        await draft_of(request, body.draft, body.draft_document),
        _module_of(request, body),
    )
    job_id = jobs.new_id()
    folder = jobs.folder_of(settings, job_id)
    try:
        population = await _population_of(body, upload, folder, settings)
        spec = make_spec(population, baseline, draft, module, body.cut_off_date, body.threshold, body.quota)
        await jobs.enqueue(
            request.app.state.db.engine, settings, job_id, principal.principal, spec, population["holders"]
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # a refused request leaves nothing on the shared volume
        raise
    doc = await _read(request, job_id, principal)
    return JSONResponse(doc, status_code=202, headers={"Location": f"/v1/simulations/{job_id}"})


async def _population_of(body: SimulationRequest, upload: Any, folder, settings) -> dict[str, Any]:
    """The population the job is for: the upload saved into the job's folder and checked, or the one to generate."""
    if upload is not None:
        folder.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(_save, upload.file, folder / POPULATION_FILE)
        limits = UploadLimits(
            settings.simulation_max_holders,
            settings.simulation_max_items_per_holder,
            settings.simulation_max_decompressed_bytes,
        )
        return await asyncio.to_thread(_check_population, folder / POPULATION_FILE, body.cut_off_date, limits)
    if body.population is None:
        raise Problem.at("population", 'generate one ({"holders": …}) or upload a Parquet file (multipart)')
    if body.population.holders > settings.simulation_max_holders:
        raise Problem.at("population.holders", f"at most {settings.simulation_max_holders:,}")
    return {
        "kind": "generated",
        "holders": body.population.holders,
        "seed": body.population.seed,
        "as_of": body.population.as_of.isoformat(),
    }


def _save(src, dest) -> None:
    with open(dest, "wb") as out:
        shutil.copyfileobj(src, out, length=1 << 20)


def _doc(row) -> dict[str, Any]:
    base = f"/v1/simulations/{row.id}"
    doc = {
        "id": row.id,
        "state": row.state,
        "phase": row.phase,
        "attempts": row.attempts,
        "progress": {"holders_done": row.holders_done, "holders_total": row.holders_total},
        "request": describe(row.spec),
        "error": row.error,
        "created_at": row.created_at.isoformat(),
        "started_at": row.started_at and row.started_at.isoformat(),
        "finished_at": row.finished_at and row.finished_at.isoformat(),
        "links": {"self": base},
    }
    if row.state == "done":
        s = row.summary
        doc["result"] = {"holders": s["holders"], "change": s["change"], "line": s["line"], "timings": s["timings"]}
        doc["links"].update(report=f"{base}/report", summary=f"{base}/summary")
    return doc


async def _row(request: Request, job_id: str, principal: Principal):
    row = await JobStore(request.app.state.db.engine).job(job_id)
    # Another office's simulation is as good as absent.
    if row is None or (row.requested_by != principal.principal and not principal.has("admin")):
        raise Problem(404, f"No simulation {job_id!r}.")
    return row


async def _read(request: Request, job_id: str, principal: Principal) -> dict[str, Any]:
    return _doc(await _row(request, job_id, principal))


@router.get("", response_model=list[Simulation], response_model_exclude_unset=True, summary="Your latest simulations")
async def list_simulations(request: Request, principal: Principal = Depends(current_principal)) -> list[dict]:
    require_any(principal, SCOPE)
    mine = None if principal.has("admin") else principal.principal
    return [_doc(r) for r in await JobStore(request.app.state.db.engine).latest(mine)]


@router.get(
    "/{job_id}",
    response_model=Simulation,
    response_model_exclude_unset=True,
    summary="A simulation's state, progress and headline figures",
)
async def read_simulation(job_id: str, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    require_any(principal, SCOPE)
    return await _read(request, job_id, principal)


async def _finished_file(request: Request, job_id: str, principal: Principal, name: str) -> FileResponse:
    require_any(principal, SCOPE)
    row = await _row(request, job_id, principal)
    if row.state != "done":
        detail = f" ({row.error})" if row.state == "failed" else ""
        raise Problem(409, f"Simulation {job_id} is {row.state}{detail}: no report.")
    media = "text/html; charset=utf-8" if name.endswith(".html") else "application/json"
    return FileResponse(
        f"{row.report_dir}/{name}",
        media_type=media,
        headers={"Content-Disposition": f'inline; filename="{job_id}-{name}"'},
    )


@router.get("/{job_id}/report", summary="The HTML report, with its charts", response_class=FileResponse)
async def report(job_id: str, request: Request, principal: Principal = Depends(current_principal)) -> FileResponse:
    return await _finished_file(request, job_id, principal, "report.html")


@router.get(
    "/{job_id}/summary",
    summary="The report's figures as JSON",
    response_class=FileResponse,
    responses={200: {"model": SimulationSummary, "description": "summary.json, as the report was made from it"}},
)
async def summary(job_id: str, request: Request, principal: Principal = Depends(current_principal)) -> FileResponse:
    return await _finished_file(request, job_id, principal, "summary.json")
