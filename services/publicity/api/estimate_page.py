"""模拟积分, the page: a holder types what they know and reads their points line by line.

The engine is scoring's: this page asks scoring's public `POST /v1/estimate` over HTTP (no service
imports another) and renders the answer. The form is a GET, so a partner app links here with the
facts from its own records prefilled in the query string (the parameters are the endpoint's fields;
patents are given as two counts). Nothing is stored; the holder's address is counted against
ESTIMATES_PER_CLIENT_HOUR here, and passed on in X-Forwarded-For for scoring's own count (scoring
believes it when publicity is among its TRUSTED_PROXIES).
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.publicity.api.pages import templates
from services.publicity.tables import rate_limits
from shared import clock, names
from shared.client_address import request_client
from shared.problems import Problem
from shared.ratelimit import client_rate_limited

router = APIRouter(tags=["public pages"], include_in_schema=False)
count_estimate = client_rate_limited(rate_limits, "estimate-page", "estimates_per_client_hour", "estimates")

NUMBERS = {
    "insurance_months": ("社保缴纳月数", "个月"),
    "residence_years": ("居住登记年限", "年"),
    "rental_years": ("登记租房年限", "年"),
    "volunteer_hours": ("近五年志愿服务时长", "小时"),
    "charity_yuan": ("近五年慈善捐赠", "元"),
    "income_tax_yuan": ("近五年个人所得税", "元"),
    "investment_tax_yuan": ("所投资企业近三年年均纳税", "元"),
    "blood_donated_ml": ("无偿献血量", "毫升"),
}
FLAGS = {"employed": "在杭合法稳定就业", "own_home": "在杭有自有住房", "marrow_donated": "捐献过造血干细胞"}
LISTS = ("honours", "offences")
PATENT_COUNTS = {"patents_first_inventor": "first_inventor", "patents_other_inventor": "other_inventor"}
FIELD_ZH = {
    "birth_date": "出生日期",
    "education": "文化程度",
    "skill_title": "职称或技能等级",
    "honours": "奖励荣誉",
    "offences": "近五年记录",
    "patents": "发明专利",
    "patents_first_inventor": "发明专利（第一发明人）",
    "patents_other_inventor": "发明专利（其他发明人）",
    **{k: label for k, (label, _) in NUMBERS.items()},
    **FLAGS,
}


def form_of(request: Request) -> dict[str, Any]:
    """The query string as the form shows it back: text as typed, lists as lists."""
    return answers_of(request.query_params)


def answers_of(q: Any) -> dict[str, Any]:
    """The estimate's answers from a query string or a posted form (both have get and getlist)."""
    form: dict[str, Any] = {k: q.get(k, "").strip()[:40] for k in ("birth_date", "education", "skill_title")}
    form.update({k: q.get(k, "").strip()[:20] for k in (*NUMBERS, *PATENT_COUNTS)})
    form.update({k: q.get(k, "") in ("1", "on", "true") for k in FLAGS})
    form.update({k: q.getlist(k)[:20] for k in LISTS})
    return form


def body_of(form: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The endpoint's request from the form, and the errors found before asking (counts not numbers)."""
    body: dict[str, Any] = {k: v for k, v in form.items() if k not in PATENT_COUNTS and v not in ("", [], False)}
    errors: dict[str, str] = {}
    patents: list[str] = []
    for field, role in PATENT_COUNTS.items():
        text = form[field]
        if text:
            if not text.isdigit() or int(text) > 50:
                errors[field] = f"{FIELD_ZH[field]}：请填写0至50之间的整数。"
            else:
                patents += [role] * int(text)
    if patents:
        body["patents"] = patents
    return body, errors


def message_zh(field: str) -> str:
    label = FIELD_ZH.get(field, "填写内容")
    if field == "birth_date":
        return "请填写出生日期（如1990-05-01）。"
    if field in NUMBERS:
        return f"{label}：请填写不小于0的数字。"
    return f"{label}：请从列表中选择。"


async def campaigns_offered(request: Request) -> list[Any]:
    """The 模拟积分 campaigns open today, if this publicity may sign holders up (CAMPAIGN_JOIN_KEY)."""
    if not request.app.state.settings.campaign_join_key:
        return []
    async with request.app.state.db.unit_of_work() as uow:
        return await uow.store.open_campaigns(clock.today())


async def ask_scoring(request: Request, body: dict[str, Any]) -> httpx.Response:
    client: httpx.AsyncClient | None = getattr(request.app.state, "scoring_client", None)
    if client is None:
        client = request.app.state.scoring_client = httpx.AsyncClient(
            base_url=request.app.state.settings.scoring_for_services, timeout=5
        )
    return await client.post("/v1/estimate", json=body, headers={"X-Forwarded-For": request_client(request)})


@router.get("/estimate", response_class=HTMLResponse)
async def estimate_page(request: Request) -> HTMLResponse:
    form = form_of(request)
    context: dict[str, Any] = {
        "form": form,
        "errors": {},
        "result": None,
        "names": names,
        "numbers": NUMBERS,
        "flags": FLAGS,
        "campaigns": await campaigns_offered(request),
        "answers_query": f"?{request.url.query}" if request.url.query else "",
    }
    if not form["birth_date"] and "birth_date" not in request.query_params:
        return templates.TemplateResponse(request, "estimate.html", context)  # the empty form
    body, errors = body_of(form)
    status = 200
    if not form["birth_date"]:
        errors["birth_date"] = message_zh("birth_date")
    if errors:
        status = 422
    else:
        await count_estimate(request)
        try:
            answer = await ask_scoring(request, body)
        except httpx.HTTPError:
            raise Problem(503, "The scoring service cannot be reached.") from None
        if answer.status_code == 422:
            status = 422
            for e in answer.json().get("errors", []):
                field = str(e.get("field", "")).split(".")[0]
                errors.setdefault(field, message_zh(field))
        elif answer.status_code == 429:
            raise Problem(429, "Too many estimates.", headers={"Retry-After": answer.headers.get("retry-after", "60")})
        elif answer.status_code != 200:
            raise Problem(503, "The scoring service did not answer.")
        else:
            context["result"] = answer.json()
    context["errors"] = errors
    return templates.TemplateResponse(request, "estimate.html", context, status_code=status)
