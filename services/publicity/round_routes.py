"""Rounds over REST: module owners open and close them; anyone reads the ranked lists (masked)."""
from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic_core import PydanticCustomError
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import bindparam, insert, select

from services.publicity import domain, rounds
from services.publicity.tables import round_entries, round_entry_history, round_versions, scores
from services.publicity.tables import rounds as rounds_table
from shared.auth import Principal, current_principal
from shared.calendar import cut_off_date
from shared.problems import Problem
from shared.ranges import BusinessDate, INT32_MAX, PathId

router = APIRouter(prefix="/v1/rounds", tags=["rounds"])
PAGE_MAX = 100
_e = round_entries.c
_COLUMNS = (_e.seq, _e.rank, _e.name_masked, _e.id_masked, _e.score, _e.admitted)
# Keyset pages: rank after the last one seen, on (round, rank) or (round, surname|id_tail, rank) indexes.
PAGE = (select(*_COLUMNS).where(_e.round_id == bindparam("round"), _e.rank > bindparam("after"))
        .order_by(_e.rank).limit(bindparam("limit")))
PAGE_BY_SURNAME = PAGE.where(_e.surname == bindparam("surname"))
PAGE_BY_TAIL = PAGE.where(_e.id_tail == bindparam("id_tail"))


class RoundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    module_id: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]*$")
    acceptance_opens: BusinessDate
    acceptance_closes: BusinessDate
    cut_off_date: BusinessDate | None = Field(None, description="Facts count up to this day; by default the first day "
                                                        "of the month before acceptance opens")
    quota: int | None = Field(None, ge=1, le=10_000_000)
    threshold: float | None = Field(None, ge=0, le=100_000)
    notice_working_days: int = Field(7, ge=1, le=30)

    @model_validator(mode="after")
    def _coherent(self) -> "RoundRequest":
        if self.acceptance_closes < self.acceptance_opens:
            raise PydanticCustomError("round", "acceptance_closes: the acceptance period closes before it opens")
        if self.quota is None and self.threshold is None:
            raise PydanticCustomError("round", "quota: give a quota, a threshold or both")
        return self


def round_doc(r: Any) -> dict[str, Any]:
    return {"id": r.id, "module_id": r.module_id, "owner": r.owner, "candidate": r.candidate, "name": r.name,
            "tie_breakers": r.tie_breakers, "acceptance_opens": r.acceptance_opens.isoformat(),
            "acceptance_closes": r.acceptance_closes.isoformat(), "cut_off_date": r.cut_off_date.isoformat(),
            "quota": r.quota, "threshold": r.threshold, "notice_working_days": r.notice_working_days,
            "status": r.status, "list_version": r.list_version, "entries": r.entries, "admitted": r.admitted,
            "notice_start": r.notice_start.isoformat() if r.notice_start else None,
            "notice_end": r.notice_end.isoformat() if r.notice_end else None,
            "finalized_at": r.finalized_at.isoformat() if r.finalized_at else None,
            "links": {"entries": f"/v1/rounds/{r.id}/entries", "page": f"/rounds/{r.id}"}}


def entry_doc(e: Any) -> dict[str, Any]:
    return {"entry": e.seq, "rank": e.rank, "name": e.name_masked, "id_number": e.id_masked, "score": e.score,
            "admitted": e.admitted}


async def fetch_module(request: Request, module_id: str) -> dict[str, Any]:
    """The module's owner, candidate kind and tie-breakers, from scoring (which keeps the definitions)."""
    url = f"{request.app.state.settings.scoring_base_url}/v1/modules/{module_id}"
    try:
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        raise Problem(503, f"The module register (scoring) cannot be reached: {exc!r}")
    if response.status_code == 404:
        raise Problem.at("module_id", f"no X-module {module_id!r} is registered", 422)
    if response.status_code != 200:
        raise Problem(503, f"The module register answered {response.status_code}.")
    return response.json()


async def find_round(conn, round_id: str) -> Any:
    r = (await conn.execute(select(rounds_table).where(rounds_table.c.id == round_id))).first()
    if r is None:
        raise Problem(404, f"No round {round_id}.")
    return r


def _require_owner(principal: Principal, owner: str) -> None:
    if not (principal.has("admin") or f"module:{owner}" in principal.scopes):
        raise Problem(403, f"This key does not act for {owner}; a round is opened and closed only by the module's owner.")


@router.post("", status_code=201, summary="Open a round of one's own X-module")
async def open_round(body: RoundRequest, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    module = await fetch_module(request, body.module_id)
    _require_owner(principal, module["owner"])
    round_id = domain.new_id("RND", date.today())
    values = dict(id=round_id, module_id=body.module_id, owner=module["owner"], candidate=module.get("candidate", "holder"),
                  name=module["name"], tie_breakers=module.get("tie_breakers", []),
                  acceptance_opens=body.acceptance_opens, acceptance_closes=body.acceptance_closes,
                  cut_off_date=body.cut_off_date or cut_off_date(body.acceptance_opens, body.acceptance_opens),
                  quota=body.quota, threshold=body.threshold, notice_working_days=body.notice_working_days,
                  created_by=principal.principal)
    async with request.app.state.db.engine.begin() as conn:
        await conn.execute(insert(rounds_table).values(**values))
        return round_doc(await find_round(conn, round_id))


@router.post("/{round_id}/close", summary="Close acceptance now: rank, publish the list, start the notice")
async def close(round_id: str, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    today = date.today()
    async with request.app.state.db.unit_of_work() as uow:
        r = await find_round(uow.conn, round_id)
        _require_owner(principal, r.owner)
        if today < r.acceptance_closes:
            raise Problem(409, f"Acceptance runs until {r.acceptance_closes.isoformat()}; the round closes after that.",
                          type_="/problems/round-accepting")
        try:
            await rounds.close_round(uow, round_id, today)
        except domain.ObjectionRefused as exc:
            raise Problem(exc.status, exc.message, type_=exc.type)
        await uow.commit()
        return round_doc(await find_round(uow.conn, round_id))


@router.get("", summary="Rounds, newest first (public)")
async def list_rounds(request: Request, status: str | None = Query(None, pattern="^(accepting|notice|final)$"),
                      limit: int = Query(50, ge=1, le=200)) -> list[dict]:
    q = select(rounds_table).order_by(rounds_table.c.created_at.desc()).limit(limit)
    if status:
        q = q.where(rounds_table.c.status == status)
    async with request.app.state.db.engine.connect() as conn:
        return [round_doc(r) for r in (await conn.execute(q)).all()]


@router.get("/{round_id}", summary="One round (public)")
async def read_round(round_id: str, request: Request) -> dict:
    async with request.app.state.db.engine.connect() as conn:
        return round_doc(await find_round(conn, round_id))


async def entries_page(conn, round_id: str, q: str | None, after: int, limit: int) -> list[Any]:
    search = domain.parse_search(q)
    params: dict[str, Any] = {"round": round_id, "after": after, "limit": limit}
    if search.id_tail:
        statement, params["id_tail"] = PAGE_BY_TAIL, search.id_tail
    elif search.surname:
        statement, params["surname"] = PAGE_BY_SURNAME, search.surname
    else:
        statement = PAGE
    return (await conn.execute(statement, params)).all()


@router.get("/{round_id}/entries", summary="The ranked list, a page at a time (public, masked)")
async def list_entries(round_id: str, request: Request,
                       q: str | None = Query(None, max_length=20, description="A surname, or an ID number's last four"),
                       after: int = Query(0, ge=0, le=INT32_MAX, description="The last rank of the previous page"),
                       limit: int = Query(20, ge=1, le=PAGE_MAX)) -> Response:
    async with request.app.state.db.engine.connect() as conn:
        rows = await entries_page(conn, round_id, q, after, limit)
        if not rows and after == 0:
            await find_round(conn, round_id)  # an empty list, or no such round
    body = {"round_id": round_id, "items": [entry_doc(e) for e in rows],
            "next_after": rows[-1].rank if len(rows) == limit else None}
    return Response(orjson.dumps(body), media_type="application/json")


async def entry_with_history(conn, round_id: str, seq: int) -> tuple[dict, list[dict]]:
    e = (await conn.execute(select(round_entries).where(_e.round_id == round_id, _e.seq == seq))).first()
    if e is None:
        raise Problem(404, f"No entry {seq} in round {round_id}.")
    h = round_entry_history.c
    history = (await conn.execute(select(h.version, h.rank, h.score, h.admitted).where(
        h.round_id == round_id, h.seq == seq).order_by(h.version))).all()
    return entry_doc(e), [{"superseded_in_version": r.version, "rank": r.rank, "score": r.score,
                           "admitted": r.admitted} for r in history]


@router.get("/{round_id}/entries/{seq}", summary="One entry, with how it changed (public, masked)")
async def read_entry(round_id: str, seq: PathId, request: Request) -> dict:
    async with request.app.state.db.engine.connect() as conn:
        r = await find_round(conn, round_id)
        entry, history = await entry_with_history(conn, round_id, seq)
        lines = await entry_lines(conn, round_id, seq)
    return {**entry, "round": round_doc(r), "lines": lines, "history": history}


async def entry_lines(conn, round_id: str, seq: int) -> list[dict]:
    """The points behind an entry (labels and points only), and whether each can be objected to."""
    row = (await conn.execute(select(scores.c.lines).join(round_entries, round_entries.c.application_id ==
                                                           scores.c.application_id)
                              .where(_e.round_id == round_id, _e.seq == seq))).first()
    return list(row.lines) if row else []


@router.get("/{round_id}/versions", summary="Every publication of the list (public)")
async def versions(round_id: str, request: Request) -> list[dict]:
    v = round_versions.c
    async with request.app.state.db.engine.connect() as conn:
        await find_round(conn, round_id)
        rows = (await conn.execute(select(round_versions).where(v.round_id == round_id).order_by(v.version))).all()
    return [{"version": r.version, "published_at": r.published_at.isoformat(), "reason": r.reason,
             "changed": r.changed} for r in rows]
