"""The public pages (公示): server-rendered, in Chinese, for a phone first. They read the same
masked columns as the JSON API; the objection form posts through the same service layer."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.publicity.api.dependencies import reading
from services.publicity.api.lodging import lodge_from_form
from services.publicity.api.page_text import items_zh
from services.publicity.api.reads import PAGE_MAX, entries_page, entry_with_history, find_round
from services.publicity.api.schemas import entry_doc, objection_doc, public_lines_doc, round_doc
from shared import clock, names
from shared.problems import Problem
from shared.ranges import INT32_MAX, PathId

router = APIRouter(tags=["public pages"], include_in_schema=False)
TEMPLATES = Path(__file__).parent.parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES))
# A stored moment (ISO, in UTC) as the date a reader in Beijing would give it.
templates.env.filters["beijing_date"] = lambda iso: clock.beijing_date(datetime.fromisoformat(iso)).isoformat()


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    async with reading(request) as store:
        rows = await store.public_rounds(50)
    return templates.TemplateResponse(request, "home.html", {"rounds": [round_doc(r) for r in rows]})


@router.get("/rounds/{round_id}", response_class=HTMLResponse)
async def round_page(
    round_id: str,
    request: Request,
    q: str | None = Query(None, max_length=20),
    after: int = Query(0, ge=0, le=INT32_MAX),
    limit: int = Query(20, ge=1, le=PAGE_MAX),
) -> HTMLResponse:
    async with reading(request) as store:
        r = round_doc(await find_round(store, round_id))
        rows = await entries_page(store, round_id, q, after, limit)
    return templates.TemplateResponse(
        request,
        "round.html",
        {
            "r": r,
            "entries": [entry_doc(e) for e in rows],
            "q": q or "",
            "limit": limit,
            "next_after": rows[-1].rank if len(rows) == limit else None,
        },
    )


async def _entry_context(request: Request, round_id: str, seq: int) -> dict:
    async with reading(request) as store:
        r = round_doc(await find_round(store, round_id))
        entry, history = await entry_with_history(store, round_id, seq)
        lines = await store.entry_lines(round_id, seq)
    public = public_lines_doc(lines)
    shown = [{**line, "department_zh": names.zh(names.DEPARTMENTS, line.get("department"))} for line in public["lines"]]
    return {
        "r": r,
        "e": entry,
        "history": history,
        "lines": shown,
        "deductions_total": public["deductions_total"],
        "objectable": [line for line in shown if line["objectable"]],
        "errors": {},
        "form": {},
    }


@router.get("/rounds/{round_id}/entries/{seq}", response_class=HTMLResponse)
async def entry_page(round_id: str, seq: PathId, request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "entry.html", await _entry_context(request, round_id, seq))


@router.post("/rounds/{round_id}/entries/{seq}/objection", response_class=HTMLResponse)
async def object_by_form(round_id: str, seq: PathId, request: Request):
    outcome = await lodge_from_form(request, round_id=round_id, entry=seq)
    if outcome.redirect is not None:
        return outcome.redirect
    context = await _entry_context(request, round_id, seq)
    context.update(errors=outcome.errors, form=outcome.submitted)
    return templates.TemplateResponse(request, "entry.html", context, status_code=outcome.status)


@router.get("/objections/{objection_id}", response_class=HTMLResponse)
async def receipt_page(objection_id: str, request: Request) -> HTMLResponse:
    async with reading(request) as store:
        row = await store.objection(objection_id)
        if row is None:
            raise Problem(404, f"No objection {objection_id}.")
        score = await store.score(row.application_id)
    lodged = row.lodged_at.astimezone(clock.BEIJING).strftime("%Y-%m-%d %H:%M")
    view = objection_doc(row)
    return templates.TemplateResponse(
        request,
        "receipt.html",
        {
            "o": view,
            "lodged": lodged,
            "items_zh": items_zh(view["items"], score.lines if score is not None else []),
            "kind_zh": names.zh(names.OBJECTION_KINDS, view["kind"]),
            "status_zh": names.zh(names.OBJECTION_STATUSES, view["status"]),
        },
    )


# -- errors on the public pages: a page in Chinese, not a problem document -----------------------------
ERROR_ZH = {
    404: ("未找到", "没有找到您要查看的公示、名单条目或异议回执。请核对链接，或从公示首页重新查找。"),
    409: ("无法办理", "该事项当前状态下无法办理。"),
    429: ("操作过于频繁", "提交过于频繁，请稍后再试。"),
    503: ("服务暂时不可用", "系统暂时无法办理，请稍后再试。"),
}


def _wants_page(request: Request) -> bool:
    """A person's browser on a public page (not a partner on /v1, not the operations endpoints)."""
    path = request.url.path
    return not path.startswith(
        ("/v1/", "/healthz", "/readyz", "/metrics", "/docs", "/openapi", "/asyncapi")
    ) and "text/html" in request.headers.get("accept", "")


def install_error_pages(app) -> None:
    """Problems on the public pages render as a page; everywhere else they stay RFC 9457 documents."""
    json_problem = app.exception_handlers[Problem]
    json_http = app.exception_handlers[StarletteHTTPException]

    async def page_or_problem(request: Request, exc):
        status = exc.status if isinstance(exc, Problem) else exc.status_code
        if not _wants_page(request) or (status >= 500 and status not in ERROR_ZH):
            handler = json_problem if isinstance(exc, Problem) else json_http
            return await handler(request, exc)
        title, message = ERROR_ZH.get(status, ("请求无法处理", "请求无法处理，请返回重试。"))
        return templates.TemplateResponse(
            request,
            "error.html",
            {"title_zh": title, "message_zh": message},
            status_code=status,
            headers=getattr(exc, "headers", None),
        )

    app.add_exception_handler(Problem, page_or_problem)
    app.add_exception_handler(StarletteHTTPException, page_or_problem)
