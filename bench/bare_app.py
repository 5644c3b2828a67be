"""The references for the benchmarks: bare FastAPI endpoints on the same database engine, with
nothing else (no auth, validation model, events, middleware or logging).

POST /rows inserts one row (beside intake's POST /v1/applications); GET /entries/{round}/{seq}
reads one row of a round's list by its primary key (beside publicity's list pages); POST /echo
reads a JSON body and answers (beside scoring's public POST /v1/estimate).
"""

from __future__ import annotations

import uuid

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import Column, MetaData, String, Table, bindparam, insert, select, text
from sqlalchemy.dialects.postgresql import JSONB

from services.publicity.tables import round_entries
from shared.db import make_engine
from shared.settings import get_settings

metadata = MetaData(schema="bench")
rows = Table("rows", metadata, Column("id", String(40), primary_key=True), Column("body", JSONB, nullable=False))
ADD = insert(rows)
_e = round_entries.c
ONE_ENTRY = select(_e.seq, _e.rank, _e.name_masked, _e.id_masked, _e.score, _e.admitted).where(
    _e.round_id == bindparam("round"), _e.seq == bindparam("seq")
)
engine = make_engine(get_settings().database_url, get_settings().database_pool_size)
app = FastAPI()


@app.on_event("startup")
async def _schema() -> None:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE SCHEMA IF NOT EXISTS bench"))
        await conn.run_sync(metadata.create_all)


@app.post("/rows", status_code=201)
async def add_row(request: Request) -> dict:
    row_id = uuid.uuid4().hex
    async with engine.begin() as conn:
        await conn.execute(ADD, {"id": row_id, "body": await request.json()})
    return {"id": row_id}


@app.get("/entries/{round_id}/{seq}")
async def one_entry(round_id: str, seq: int) -> Response:
    async with engine.connect() as conn:
        e = (await conn.execute(ONE_ENTRY, {"round": round_id, "seq": seq})).first()
    if e is None:
        return Response(b'{"detail":"not found"}', status_code=404, media_type="application/json")
    return Response(
        orjson.dumps(
            {
                "entry": e.seq,
                "rank": e.rank,
                "name": e.name_masked,
                "id_number": e.id_masked,
                "score": e.score,
                "admitted": e.admitted,
            }
        ),
        media_type="application/json",
    )


@app.post("/echo")
async def echo(request: Request) -> Response:
    """The reference for 模拟积分: read a JSON body and answer a small JSON document, nothing else."""
    body = orjson.loads(await request.body())
    return Response(orjson.dumps({"fields": len(body)}), media_type="application/json")
