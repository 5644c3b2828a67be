"""Public notices: HTML pages for people, JSON for machines. Masked data only, no key needed."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from services.publicity.tables import notices
from shared.problems import Problem

router = APIRouter(tags=["public notices"])
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def _doc(row) -> dict:
    return {"id": row.id, "application_id": row.application_id, "score_version": row.score_version,
            "holder": row.holder_name_masked, "id_number": row.id_number_masked, "total": row.total,
            "categories": row.categories, "lines": row.lines, "rule_set_id": row.rule_set_id,
            "period_start": row.period_start.isoformat(), "period_end": row.period_end.isoformat(),
            "published_at": row.published_at.isoformat()}


async def _find(request: Request, notice_id: str) -> dict:
    async with request.app.state.db.engine.connect() as conn:
        row = (await conn.execute(select(notices).where(notices.c.id == notice_id))).first()
    if row is None:
        raise Problem(404, f"No notice {notice_id}.")
    return _doc(row)


@router.get("/v1/notices", summary="Notices, newest first; filter by application")
async def list_notices(request: Request, application_id: str | None = Query(None, max_length=40),
                       limit: int = Query(50, ge=1, le=200)) -> list[dict]:
    q = select(notices).order_by(notices.c.published_at.desc(), notices.c.id).limit(limit)
    if application_id:
        q = q.where(notices.c.application_id == application_id)
    async with request.app.state.db.engine.connect() as conn:
        return [_doc(r) for r in (await conn.execute(q)).all()]


@router.get("/v1/notices/{notice_id}", summary="One notice")
async def read_notice(notice_id: str, request: Request) -> dict:
    return await _find(request, notice_id)


@router.get("/notices", response_class=HTMLResponse, summary="The public notice board (HTML)")
async def notice_board(request: Request) -> HTMLResponse:
    async with request.app.state.db.engine.connect() as conn:
        rows = (await conn.execute(select(notices).order_by(notices.c.published_at.desc()).limit(100))).all()
    return templates.TemplateResponse(request, "board.html", {"notices": [_doc(r) for r in rows]})


@router.get("/notices/{notice_id}", response_class=HTMLResponse, summary="One public notice (HTML)")
async def notice_page(notice_id: str, request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "notice.html", {"n": await _find(request, notice_id)})
