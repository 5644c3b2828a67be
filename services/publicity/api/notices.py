"""Public notices: HTML pages for people, JSON for machines. Masked data only, no key needed."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.publicity import domain
from services.publicity.api.dependencies import reading
from services.publicity.api.lodging import lodge_from_form
from services.publicity.api.schemas import Notice, notice_doc
from shared import clock, names
from shared.problems import Problem

router = APIRouter(tags=["public notices"])
templates = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))


async def find_notice(request: Request, notice_id: str) -> dict:
    async with reading(request) as store:
        row = await store.notice(notice_id)
    if row is None:
        raise Problem(404, f"No notice {notice_id}.")
    return notice_doc(row)


@router.get("/v1/notices", response_model=list[Notice], summary="Notices, newest first; filter by application")
async def list_notices(
    request: Request, application_id: str | None = Query(None, max_length=40), limit: int = Query(50, ge=1, le=200)
) -> list[dict]:
    async with reading(request) as store:
        return [notice_doc(r) for r in await store.notices(application_id, limit)]


@router.get("/v1/notices/{notice_id}", response_model=Notice, summary="One notice")
async def read_notice(notice_id: str, request: Request) -> dict:
    return await find_notice(request, notice_id)


BOARD_PAGE = 20


@router.get("/notices", response_class=HTMLResponse, summary="The public notice board (HTML)")
async def notice_board(
    request: Request,
    q: str | None = Query(None, max_length=20),
    before: str | None = Query(None, max_length=40),
) -> HTMLResponse:
    """One entry per application (its current notice), newest first, a keyset page at a time;
    search by surname or the ID number's last four, as on the round lists."""
    async with reading(request) as store:
        rows = await store.notice_board(domain.parse_search(q), before, BOARD_PAGE)
    return templates.TemplateResponse(
        request,
        "board.html",
        {
            "notices": [notice_doc(r) for r in rows],
            "q": q or "",
            "next_before": rows[-1].id if len(rows) == BOARD_PAGE else None,
        },
    )


async def _notice_context(request: Request, notice_id: str) -> dict:
    async with reading(request) as store:
        row = await store.notice(notice_id)
        if row is None:
            raise Problem(404, f"No notice {notice_id}.")
        versions = await store.notice_versions(row.application_id)
    n = notice_doc(row)
    current = next((v for v in versions if v.current), None)
    lines = [{**line, "department_zh": names.zh(names.DEPARTMENTS, line.get("department"))} for line in n["lines"]]
    return {
        "n": n,
        "lines": lines,
        "categories": [(names.zh(names.CATEGORIES, c), p) for c, p in n["categories"].items()],
        "history": [
            {
                "id": v.id,
                "version": v.score_version,
                "total": v.total,
                "published": v.period_start,
                "current": v.current,
            }
            for v in versions
        ],
        "current_id": current.id if current is not None else None,
        # Objections are taken on the current notice while its notice period runs.
        "open_for_objections": n["current"] and clock.today() <= row.period_end,
        "objectable": [line for line in lines if line["objectable"]],
        "errors": {},
        "form": {},
    }


@router.get("/notices/{notice_id}", response_class=HTMLResponse, summary="One public notice (HTML)")
async def notice_page(notice_id: str, request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "notice.html", await _notice_context(request, notice_id))


@router.post("/notices/{notice_id}/objection", response_class=HTMLResponse, include_in_schema=False)
async def object_to_notice(notice_id: str, request: Request):
    """The notice page's objection form: the same road as POST /v1/objections."""
    outcome = await lodge_from_form(request, notice_id=notice_id)
    if outcome.redirect is not None:
        return outcome.redirect
    context = await _notice_context(request, notice_id)
    context.update(errors=outcome.errors, form=outcome.submitted)
    return templates.TemplateResponse(request, "notice.html", context, status_code=outcome.status)
