"""模拟积分调查 on the public estimate page: an invited holder joins a campaign, or withdraws, proving
who they are with the one-time code of their invitation SMS (campaigns/use_cases.py).

- `GET /estimate/campaigns/{id}`: the campaign, its consent text in full, the two forms; the
  estimate's answers (the query string the estimate page links with) ride along, to be declared.
- `POST /estimate/campaigns/{id}`: join: explicit consent, ID number, permit number, the code; and,
  if the holder ticks it, their estimate answers as their declared facts.
- `POST /estimate/campaigns/{id}/withdrawal`: withdraw: ID number and the code.

Publicity signs the holder up with scoring's partner API (`POST`/`DELETE
/v1/campaigns/{id}/participants`, its key CAMPAIGN_JOIN_KEY, scope campaigns:join): from there the
participant is cross-checked by the departments exactly like one a partner app signed up. Every
post is counted against the address (CAMPAIGN_PROOFS_PER_CLIENT_HOUR).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import QueryParams

from services.publicity.api.estimate_page import answers_of, body_of
from services.publicity.api.pages import templates
from services.publicity.campaigns import use_cases
from services.publicity.tables import rate_limits
from shared import clock
from shared.problems import Problem
from shared.ratelimit import client_rate_limited

router = APIRouter(tags=["public pages"], include_in_schema=False)
count_try = client_rate_limited(rate_limits, "campaign-page", "campaign_proofs_per_client_hour", "campaign requests")
CampaignId = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
NOTHING = QueryParams()  # after a join or a withdrawal: no answers ride along any more
ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")
# One refusal for every failed proof: it never says whether the person exists or was invited.
NOT_PROVED_ZH = "身份核验未通过：身份证号与邀请短信中的验证码不符，或验证码已失效。请核对后重试。"
ERRORS_ZH = {
    "consent": "请阅读知情同意书，勾选“本人已阅读并同意”后再提交；未经本人同意不能参加调查。",
    "id_number": "身份证号：请填写18位身份证号码。",
    "permit_number": "居住证号：请填写居住证号码。",
    "code": "验证码：请填写邀请短信中的8位数字验证码。",
    "declare": "模拟积分填写的情况不完整，无法作为本人申报：请返回模拟积分页面补全，或不勾选此项。",
    "closed": "本次调查不在参与期内，无法办理。",
}


async def _campaign(request: Request, campaign_id: str) -> Any:
    if not request.app.state.settings.campaign_join_key:
        raise Problem(404, "Campaigns are not offered here.")
    async with request.app.state.db.unit_of_work() as uow:
        row = await use_cases.open_campaign(uow.store, campaign_id, clock.today())
    if row is None:
        raise Problem(404, f"No open campaign {campaign_id}.")
    return row


def _declarable(params: Any) -> dict[str, Any] | None:
    """The estimate's answers, if complete enough to be declared (a birth date, no malformed count)."""
    return _declared(answers_of(params))


def _declared(given: Any) -> dict[str, Any] | None:
    body, errors = body_of(given)
    return body if body.get("birth_date") and not errors else None


def _render(request: Request, campaign: Any, params: Any, status: int = 200, **extra: Any) -> HTMLResponse:
    given = answers_of(params)  # read once, for the answers and their hidden inputs
    answers = _declared(given)
    context = {
        "c": campaign,
        "consent_paragraphs": [p for p in campaign.consent_text.splitlines() if p.strip()],
        "answers": answers,
        "hidden": _hidden(given) if answers else [],
        "errors": {},
        "form": {},
        "done": None,
        **extra,
    }
    return templates.TemplateResponse(request, "campaign.html", context, status_code=status)


def _hidden(form: dict[str, Any]) -> list[tuple[str, str]]:
    """The estimate's answers as hidden inputs of the join form."""
    out: list[tuple[str, str]] = []
    for k, v in form.items():
        if isinstance(v, list):
            out += [(k, str(x)) for x in v]
        elif v is True:
            out.append((k, "1"))
        elif v:
            out.append((k, str(v)))
    return out


async def _scoring(request: Request, method: str, url: str, **kwargs: Any) -> httpx.Response:
    settings = request.app.state.settings
    headers = {"Authorization": f"Bearer {settings.campaign_join_key}", **kwargs.pop("headers", {})}
    try:
        async with httpx.AsyncClient(base_url=settings.scoring_for_services, timeout=10) as client:
            return await client.request(method, url, headers=headers, **kwargs)
    except httpx.HTTPError:
        raise Problem(503, "The scoring service cannot be reached.") from None


async def _proved(request: Request, campaign_id: str, id_number: str, code: str) -> bool:
    async with request.app.state.db.unit_of_work() as uow:
        ok = await use_cases.proved(uow, campaign_id, id_number, code, request.app.state.settings.candidate_key_salt)
        await uow.commit()  # a wrong code is counted against the holder's code
    return ok


@router.get("/estimate/campaigns/{campaign_id}", response_class=HTMLResponse)
async def campaign_page(campaign_id: CampaignId, request: Request) -> HTMLResponse:
    return _render(request, await _campaign(request, campaign_id), request.query_params)


@router.post("/estimate/campaigns/{campaign_id}", response_class=HTMLResponse, dependencies=[Depends(count_try)])
async def join_by_form(campaign_id: CampaignId, request: Request) -> HTMLResponse:
    campaign = await _campaign(request, campaign_id)
    posted = await request.form()
    form = {
        "id_number": str(posted.get("id_number", "")).strip()[:18].upper(),
        "permit_number": str(posted.get("permit_number", "")).strip()[:40],
        "code": str(posted.get("code", "")).strip()[:8],
        "declare": posted.get("declare") == "1",
    }
    errors = {}
    if posted.get("consent") != "1":
        errors["consent"] = ERRORS_ZH["consent"]
    if not ID_NUMBER.match(form["id_number"]):
        errors["id_number"] = ERRORS_ZH["id_number"]
    if not form["permit_number"]:
        errors["permit_number"] = ERRORS_ZH["permit_number"]
    if not (form["code"].isdigit() and len(form["code"]) == 8):
        errors["code"] = ERRORS_ZH["code"]
    declared = _declarable(posted) if form["declare"] else None
    if form["declare"] and declared is None:
        errors["declare"] = ERRORS_ZH["declare"]
    if errors:
        return _render(request, campaign, posted, errors=errors, form=form, status=422)
    if not await _proved(request, campaign_id, form["id_number"], form["code"]):
        return _render(request, campaign, posted, errors={"code": NOT_PROVED_ZH}, form=form, status=403)
    answer = await _scoring(
        request,
        "POST",
        f"/v1/campaigns/{campaign_id}/participants",
        json={
            "id_number": form["id_number"],
            "permit_number": form["permit_number"],
            "consent": True,
            "declared": declared,
        },
    )
    if answer.status_code in (404, 409):
        return _render(request, campaign, posted, errors={"closed": ERRORS_ZH["closed"]}, form=form, status=409)
    if answer.status_code == 422:
        return _render(request, campaign, posted, errors={"declare": ERRORS_ZH["declare"]}, form=form, status=422)
    if answer.status_code != 202:
        raise Problem(503, "The scoring service did not answer.")
    done = (
        ("您已参加本次调查", "各部门将核验您的登记信息，仅用于本次调查。如需退出，可随时在本页办理。")
        if answer.json().get("joined")
        else ("您已在调查中", "您此前已参加本次调查，无需重复提交。")
    )
    return _render(request, campaign, NOTHING, done=done)


@router.post(
    "/estimate/campaigns/{campaign_id}/withdrawal", response_class=HTMLResponse, dependencies=[Depends(count_try)]
)
async def withdraw_by_form(campaign_id: CampaignId, request: Request) -> HTMLResponse:
    campaign = await _campaign(request, campaign_id)
    posted = await request.form()
    form = {
        "w_id_number": str(posted.get("w_id_number", "")).strip()[:18].upper(),
        "w_code": str(posted.get("w_code", "")).strip()[:8],
    }
    errors = {}
    if not ID_NUMBER.match(form["w_id_number"]):
        errors["w_id_number"] = ERRORS_ZH["id_number"]
    if not (form["w_code"].isdigit() and len(form["w_code"]) == 8):
        errors["w_code"] = ERRORS_ZH["code"]
    if errors:
        return _render(request, campaign, NOTHING, errors=errors, form=form, status=422)
    if not await _proved(request, campaign_id, form["w_id_number"], form["w_code"]):
        return _render(request, campaign, NOTHING, errors={"w_code": NOT_PROVED_ZH}, form=form, status=403)
    answer = await _scoring(
        request,
        "DELETE",
        f"/v1/campaigns/{campaign_id}/participants",
        headers={"X-Holder-Id-Number": form["w_id_number"]},
    )
    if answer.status_code == 404:
        done = ("您未在调查中", "您目前没有参加本次调查，无需退出。")
    elif answer.status_code == 204:
        done = ("您已退出本次调查", "您在本次调查中的数据已删除，不会计入此后生成的调查报告。")
    else:
        raise Problem(503, "The scoring service did not answer.")
    return _render(request, campaign, NOTHING, done=done)
