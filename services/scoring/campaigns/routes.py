"""The policy office's 模拟积分 campaigns over REST.

- `POST /v1/campaigns` (scope `campaigns:manage`): open a campaign for drafts beside the rules in
  force, with a period, consent text, a sampling plan and a retention period; verification draws the
  sample from the permit register and invites each holder drawn by SMS (through publicity).
- `GET /v1/campaigns/{id}`: the campaign, the register's size and invitations per stratum, and how
  many take part; the office's own only (anyone else: the unknown-id 404).
- `POST /v1/campaigns/{id}/participants` (scope `campaigns:join`: a partner app, publicity's estimate
  page): a holder takes part, with explicit consent, optionally declaring facts about themselves.
- `DELETE /v1/campaigns/{id}/participants` (same scope, the holder's ID number in `X-Holder-Id-Number`):
  consent withdrawn; their data goes from the campaign and every report produced after.
- `POST /v1/campaigns/{id}/reports`: produce a report now; `GET …/reports/{n}` (figures, JSON) and
  `GET …/reports/{n}/report.html` (the page). A report holds no personal data.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import date
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.scoring.api.schemas import EstimateRequest
from services.scoring.campaigns import register, use_cases
from services.scoring.campaigns import report as reporting
from services.scoring.campaigns.store import CampaignStore
from services.scoring.engine.rules import RuleSetError, in_force
from services.scoring.simulation.named_draft import draft_of, exactly_one
from shared import clock, strata
from shared.auth import Principal, current_principal, require_any
from shared.calendar import cut_off_date
from shared.events import Envelope
from shared.events.catalogue import CampaignOpened
from shared.problems import Problem

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])
MANAGE, JOIN = "campaigns:manage", "campaigns:join"
HOLDER_HEADER = "X-Holder-Id-Number"
CampaignId = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class DraftRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(None, max_length=60, description="An uploaded draft (PUT /v1/rule-sets/drafts/{id})")
    document: str | None = Field(None, max_length=1 << 20, description="Or the draft itself (YAML)")

    @model_validator(mode="after")
    def _one(self) -> DraftRef:
        exactly_one(self.id, self.document)
        return self


class Period(BaseModel):
    model_config = ConfigDict(extra="forbid")
    opens_on: date = Field(description="The first day holders may take part")
    closes_on: date = Field(description="The last day")


class StratumSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    where: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Per dimension (" + ", ".join(strata.DIMENSIONS) + ") the labels the stratum holds; none: any",
    )
    target: int = Field(ge=1, le=1_000_000, description="Holders to draw from the stratum")


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")
    strata: list[StratumSpec] = Field(min_length=1, max_length=500)
    seed: int | None = Field(None, ge=0, lt=2**63, description="The draw's seed (random if not given)")


class Line(BaseModel):
    model_config = ConfigDict(extra="forbid")
    threshold: float | None = Field(None, description="A score line: the share of the register at or above it")
    share: float | None = Field(None, gt=0, lt=1, description="The best share of the register: the score it takes")


class CampaignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title_zh: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    drafts: list[DraftRef] = Field(min_length=1, max_length=5)
    period: Period
    consent_text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
    plan: Plan
    line: Line | None = None
    retention_days: int = Field(180, ge=1, le=3650, description="Participants' data is kept this long after the end")


class JoinRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id_number: str = Field(pattern=r"^\d{17}[\dXx]$")
    permit_number: str = Field(min_length=1, max_length=40)
    consent: bool = Field(description="The holder's explicit consent to the campaign's consent text")
    declared: EstimateRequest | None = Field(
        None, description="What the holder says of themselves (模拟积分's answers)"
    )


async def _drafts(request: Request, refs: list[DraftRef]) -> list[dict[str, Any]]:
    out = []
    in_use = request.app.state.rule_sets
    for i, ref in enumerate(refs):
        try:
            rs = await draft_of(request, ref.id, ref.document)
        except Problem as exc:
            where = f"drafts[{i}].{'document' if ref.document is not None else 'id'}"
            message = exc.errors[0]["message"] if exc.errors else exc.detail
            raise Problem.at(where, message) from exc
        # The draft's text is kept with the campaign: its report scores what the office opened it with.
        source = (
            None
            if rs.id in in_use and ref.document is None
            else yaml.safe_dump(
                rs.model_dump(mode="json", by_alias=True, exclude={"content_hash"}, exclude_none=True),
                allow_unicode=True,
                sort_keys=False,
            )
        )
        out.append({"id": rs.id, "content_hash": rs.content_hash, "source": source})
    return out


# Responses: the documents grow with the plan and the report, so the models name what a client may rely on.
class StratumView(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    target: int
    on_register: int = Field(description="Its holders on the permit register on the cut-off date")
    invited: int = Field(description="Holders drawn and invited")


class CampaignView(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(examples=["CMP-20261130-3FA2C1"])
    title_zh: str
    drafts: list[dict[str, Any]]
    rules_in_force: dict[str, Any]
    period: dict[str, Any]
    consent_text: str
    cut_off_date: date
    retention_days: int
    keep_until: str
    strata: list[StratumView]
    participants: dict[str, int] = Field(description="By state: verifying, verified, not_on_register")


class Joined(BaseModel):
    campaign_id: str
    joined: bool = Field(description="False: the holder was taking part already")
    state: str


class CampaignReport(BaseModel):
    model_config = ConfigDict(extra="allow")
    number: int
    campaign: dict[str, Any]
    confidence: float
    population: dict[str, Any] = Field(description="The register's valid permits, and the share the estimates cover")
    participants: dict[str, int]
    strata: list[dict[str, Any]]
    scores: list[dict[str, Any]]
    comparisons: list[dict[str, Any]]
    declared_vs_verified: dict[str, Any]


def _view(row: Any, states: dict[str, int]) -> dict[str, Any]:
    doc = row.doc
    return {
        "id": row.id,
        "title_zh": doc["title_zh"],
        "drafts": [{"id": d["id"], "content_hash": d["content_hash"]} for d in doc["drafts"]],
        "rules_in_force": doc["rules_in_force"],
        "period": doc["period"],
        "consent_text": doc["consent_text"],
        "cut_off_date": doc["cut_off_date"],
        "retention_days": doc["retention_days"],
        "keep_until": row.keep_until.isoformat(),
        "line": doc.get("line"),
        "population": {"holders": doc["holders"]},
        "strata": [
            {**s, "on_register": n, "invited": k}
            for s, n, k in zip(doc["plan"]["strata"], doc["register"], doc["invited"], strict=True)
        ],
        "participants": states,
        "reports": doc.get("reports", 0),
    }


@router.post(
    "",
    status_code=201,
    response_model=CampaignView,
    summary="Open a 模拟积分 campaign: drafts, period, consent, a sampling plan",
)
async def open_campaign(
    body: CampaignRequest, request: Request, response: Response, principal: Principal = Depends(current_principal)
) -> dict:
    require_any(principal, {MANAGE})
    opens_on, closes_on = body.period.opens_on, body.period.closes_on
    if closes_on < opens_on:
        raise Problem.at("period.closes_on", "on or after opens_on")
    plan = [s.model_dump() for s in body.plan.strata]
    faults = strata.plan_faults(plan)
    if faults:
        raise Problem(
            422, "; ".join(f"{f}: {m}" for f, m in faults[:5]), errors=[{"field": f, "message": m} for f, m in faults]
        )
    drafts = await _drafts(request, body.drafts)
    try:
        rules = in_force(request.app.state.rule_sets, opens_on)
    except RuleSetError as exc:
        raise Problem.at("period.opens_on", str(exc)) from exc
    settings = request.app.state.settings
    campaign_id = f"CMP-{clock.today():%Y%m%d}-{secrets.token_hex(3).upper()}"
    keep = use_cases.keep_until(closes_on, body.retention_days)
    cut_off = cut_off_date(opens_on)
    seed = body.plan.seed if body.plan.seed is not None else secrets.randbelow(2**62)
    drawn = await register.draw(
        settings.verification_for_services,
        settings.campaign_draws_key,
        {
            "campaign_id": campaign_id,
            "title_zh": body.title_zh,
            "strata": plan,
            "cut_off_date": cut_off.isoformat(),
            "closes_on": closes_on.isoformat(),
            "seed": seed,
            "keep_until": keep.isoformat(),
        },
    )
    doc = {
        "title_zh": body.title_zh,
        "drafts": drafts,
        "rules_in_force": {"id": rules.id, "content_hash": rules.content_hash},
        "period": {"opens_on": opens_on.isoformat(), "closes_on": closes_on.isoformat()},
        "consent_text": body.consent_text,
        "plan": {"strata": plan, "seed": seed},
        "line": body.line.model_dump() if body.line else None,
        "retention_days": body.retention_days,
        "cut_off_date": cut_off.isoformat(),
        "rules_on": opens_on.isoformat(),
        "holders": drawn["holders"],
        "register": drawn["sizes"],
        "invited": drawn["invited"],
    }
    async with request.app.state.db.unit_of_work() as uow:
        store = CampaignStore(uow)
        await store.add_campaign(
            {
                "id": campaign_id,
                "owner": principal.principal,
                "doc": doc,
                "opens_on": opens_on,
                "closes_on": closes_on,
                "keep_until": keep,
            }
        )
        row = await store.campaign(campaign_id)
        # Publicity's estimate page offers the campaign, its consent text in full, while it is open.
        uow.emit(
            Envelope.new(
                CampaignOpened(
                    campaign_id=campaign_id,
                    title_zh=body.title_zh,
                    consent_text=body.consent_text,
                    opens_on=opens_on,
                    closes_on=closes_on,
                ),
                source="scoring",
                subject=campaign_id,
            )
        )
        await uow.commit()
    response.headers["Location"] = f"/v1/campaigns/{campaign_id}"
    return _view(row, {})


async def _own(request: Request, campaign_id: str, principal: Principal) -> Any:
    require_any(principal, {MANAGE})
    async with request.app.state.db.unit_of_work() as uow:
        row = await CampaignStore(uow).campaign(campaign_id)
    if not use_cases.visible(row, principal):
        raise Problem(404, "Nothing at this address is visible to this key.")
    return row


@router.get(
    "/{campaign_id}",
    response_model=CampaignView,
    summary="A campaign: its plan, the register per stratum, who takes part",
)
async def read_campaign(
    campaign_id: CampaignId, request: Request, principal: Principal = Depends(current_principal)
) -> dict:
    row = await _own(request, campaign_id, principal)
    async with request.app.state.db.unit_of_work() as uow:
        states = await CampaignStore(uow).states(campaign_id)
    return _view(row, states)


def _refused(exc: use_cases.CampaignRefused) -> Problem:
    return Problem.at(exc.field, exc.message, exc.status) if exc.field else Problem(exc.status, exc.message)


@router.post(
    "/{campaign_id}/participants",
    status_code=202,
    response_model=Joined,
    summary="A holder takes part, with explicit consent",
)
async def join(
    campaign_id: CampaignId, body: JoinRequest, request: Request, principal: Principal = Depends(current_principal)
) -> dict:
    require_any(principal, {JOIN})
    if not body.consent:
        raise Problem.at("consent", "the holder's explicit consent is required to take part")
    # Only what the holder said: an answer left out is no declaration (and is not compared).
    declared = (
        body.declared.model_dump(mode="json", exclude={"application_date"}, exclude_unset=True)
        if body.declared
        else None
    )
    try:
        async with request.app.state.db.unit_of_work() as uow:
            joined = await use_cases.join(
                uow,
                campaign_id,
                body.id_number.upper(),
                body.permit_number,
                declared,
                request.app.state.settings.candidate_key_salt,
                clock.today(),
            )
            await uow.commit()
    except use_cases.CampaignRefused as exc:
        raise _refused(exc) from exc
    return {"campaign_id": campaign_id, "joined": joined, "state": "verifying" if joined else "taking part already"}


@router.delete("/{campaign_id}/participants", status_code=204, summary="A holder withdraws consent")
async def withdraw(
    campaign_id: CampaignId,
    request: Request,
    principal: Principal = Depends(current_principal),
    holder_id_number: str | None = Header(None, alias=HOLDER_HEADER, pattern=r"^\d{17}[\dXx]$"),
) -> Response:
    require_any(principal, {JOIN})
    if not holder_id_number:
        raise Problem.at(HOLDER_HEADER, "required: the ID number of the holder who withdraws")
    async with request.app.state.db.unit_of_work() as uow:
        gone = await use_cases.withdraw(
            uow, campaign_id, holder_id_number.upper(), request.app.state.settings.candidate_key_salt
        )
        await uow.commit()
    if not gone:
        raise Problem(404, "Nothing at this address is visible to this key.")
    return Response(status_code=204)


@router.post(
    "/{campaign_id}/reports",
    status_code=201,
    response_model=CampaignReport,
    summary="Produce the campaign's report now",
)
async def produce_report(
    campaign_id: CampaignId, request: Request, response: Response, principal: Principal = Depends(current_principal)
) -> dict:
    row = await _own(request, campaign_id, principal)
    async with request.app.state.db.unit_of_work() as uow:
        store = CampaignStore(uow)
        people = await store.reportable(campaign_id)
        states = await store.states(campaign_id)
    rule_sets = request.app.state.rule_sets
    rules = rule_sets.get(row.doc["rules_in_force"]["id"]) or in_force(rule_sets, row.opens_on)
    drafts = use_cases.drafts_of(row.doc, rule_sets)

    def build() -> tuple[dict[str, Any], str]:
        scored = use_cases.score(row.doc, people, rules, drafts)
        summary = reporting.summarise({"id": row.id, "doc": row.doc}, scored, states)
        return summary, reporting.render(summary)

    # Scoring every participant under each rule set, and the charts, are CPU work: off the event loop.
    summary, html = await asyncio.to_thread(build)
    async with request.app.state.db.unit_of_work() as uow:
        number = await CampaignStore(uow).add_report(campaign_id, summary, html)
        await uow.commit()
    response.headers["Location"] = f"/v1/campaigns/{campaign_id}/reports/{number}"
    return {"number": number, **summary}


async def _report(request: Request, campaign_id: str, number: int, principal: Principal) -> Any:
    await _own(request, campaign_id, principal)
    async with request.app.state.db.unit_of_work() as uow:
        found = await CampaignStore(uow).report(campaign_id, number)
    if found is None:
        raise Problem(404, "Nothing at this address is visible to this key.")
    return found


@router.get(
    "/{campaign_id}/reports/{number}", response_model=CampaignReport, summary="A campaign report's figures (JSON)"
)
async def read_report(
    campaign_id: CampaignId,
    request: Request,
    number: int = Path(ge=1, le=1_000_000),
    principal: Principal = Depends(current_principal),
) -> dict:
    found = await _report(request, campaign_id, number, principal)
    return {"number": found.number, "produced_at": found.produced_at.isoformat(), **found.summary}


@router.get(
    "/{campaign_id}/reports/{number}/report.html", response_class=HTMLResponse, summary="A campaign report's page"
)
async def report_page(
    campaign_id: CampaignId,
    request: Request,
    number: int = Path(ge=1, le=1_000_000),
    principal: Principal = Depends(current_principal),
) -> HTMLResponse:
    found = await _report(request, campaign_id, number, principal)
    return HTMLResponse(found.html)
