"""Rounds over REST: module owners open and close them; anyone reads the ranked lists (masked)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.publicity import domain
from services.publicity.api.dependencies import problem_of, reading
from services.publicity.api.reads import PAGE_MAX, entries_page, entry_with_history, find_round
from services.publicity.api.schemas import (
    EntriesPage,
    EntryDetail,
    ListVersion,
    Round,
    RoundRequest,
    entry_doc,
    public_lines_doc,
    round_doc,
)
from services.publicity.rounds import use_cases
from shared import clock
from shared.auth import Principal, current_principal
from shared.problems import Problem
from shared.ranges import INT32_MAX, PathId

router = APIRouter(prefix="/v1/rounds", tags=["rounds"])


async def fetch_module(request: Request, module_id: str) -> dict[str, Any]:
    """The module's owner, candidate kind and tie-breakers, from scoring (which keeps the definitions)."""
    url = f"{request.app.state.settings.scoring_for_services}/v1/modules/{module_id}"
    try:
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        raise Problem(503, f"The module register (scoring) cannot be reached: {exc!r}") from exc
    if response.status_code == 404:
        raise Problem.at("module_id", f"no X-module {module_id!r} is registered", 422)
    if response.status_code != 200:
        raise Problem(503, f"The module register answered {response.status_code}.")
    return response.json()


def require_owner(principal: Principal, owner: str) -> None:
    if not (principal.has("admin") or f"module:{owner}" in principal.scopes):
        raise Problem(
            403, f"This key does not act for {owner}; a round is opened and closed only by the module's owner."
        )


@router.post("", status_code=201, response_model=Round, summary="Open a round of one's own X-module")
async def open_round(body: RoundRequest, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    module = await fetch_module(request, body.module_id)
    require_owner(principal, module["owner"])
    command = use_cases.OpenRound(**body.model_dump())
    async with request.app.state.db.unit_of_work() as uow:
        r = await use_cases.open_round(uow, command, module, principal.principal, clock.today())
        await uow.commit()
    return round_doc(r)


@router.post(
    "/{round_id}/close",
    response_model=Round,
    summary="Close acceptance now: candidates are re-scored at the cut-off, then the list is published",
)
async def close(round_id: str, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    async with request.app.state.db.unit_of_work() as uow:
        require_owner(principal, (await find_round(uow.store, round_id)).owner)
        try:
            await use_cases.close_round(uow, round_id, clock.today())
        except domain.Refused as exc:
            raise problem_of(exc) from exc
        await uow.commit()
        return round_doc(await find_round(uow.store, round_id))


@router.get("", response_model=list[Round], summary="Rounds, newest first (public)")
async def list_rounds(
    request: Request,
    status: str | None = Query(None, pattern="^(accepting|scoring|notice|final)$"),
    limit: int = Query(50, ge=1, le=200),
) -> list[dict]:
    async with reading(request) as store:
        return [round_doc(r) for r in await store.rounds(status, limit)]


@router.get("/{round_id}", response_model=Round, summary="One round (public)")
async def read_round(round_id: str, request: Request) -> dict:
    async with reading(request) as store:
        return round_doc(await find_round(store, round_id))


@router.get(
    "/{round_id}/entries", response_model=EntriesPage, summary="The ranked list, a page at a time (public, masked)"
)
async def list_entries(
    round_id: str,
    request: Request,
    q: str | None = Query(None, max_length=20, description="A surname, or an ID number's last four"),
    after: int = Query(0, ge=0, le=INT32_MAX, description="The last rank of the previous page"),
    limit: int = Query(20, ge=1, le=PAGE_MAX),
) -> Response:
    async with reading(request) as store:
        rows = await entries_page(store, round_id, q, after, limit)
        if not rows and after == 0:
            await find_round(store, round_id)  # an empty list, or no such round
    body = {
        "round_id": round_id,
        "items": [entry_doc(e) for e in rows],
        "next_after": rows[-1].rank if len(rows) == limit else None,
    }
    return Response(orjson.dumps(body), media_type="application/json")


@router.get(
    "/{round_id}/entries/{seq}",
    response_model=EntryDetail,
    response_model_exclude_unset=True,
    summary="One entry, with how it changed (public, masked)",
)
async def read_entry(round_id: str, seq: PathId, request: Request) -> dict:
    async with reading(request) as store:
        r = await find_round(store, round_id)
        entry, history = await entry_with_history(store, round_id, seq)
        lines = await store.entry_lines(round_id, seq)
    return {**entry, "round": round_doc(r), **public_lines_doc(lines), "history": history}


@router.get("/{round_id}/versions", response_model=list[ListVersion], summary="Every publication of the list (public)")
async def versions(round_id: str, request: Request) -> list[dict]:
    async with reading(request) as store:
        await find_round(store, round_id)
        rows = await store.list_versions(round_id)
    return [
        {"version": r.version, "published_at": r.published_at.isoformat(), "reason": r.reason, "changed": r.changed}
        for r in rows
    ]
