"""Public notices: HTML pages for people, JSON for machines. Masked data only, no key needed."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.publicity.api.dependencies import reading
from services.publicity.api.schemas import Notice, notice_doc
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


@router.get("/notices", response_class=HTMLResponse, summary="The public notice board (HTML)")
async def notice_board(request: Request) -> HTMLResponse:
    async with reading(request) as store:
        rows = await store.notice_board(100)
    return templates.TemplateResponse(request, "board.html", {"notices": [notice_doc(r) for r in rows]})


@router.get("/notices/{notice_id}", response_class=HTMLResponse, summary="One public notice (HTML)")
async def notice_page(notice_id: str, request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "notice.html", {"n": await find_notice(request, notice_id)})
