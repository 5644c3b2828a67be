"""The reference for the intake benchmark: a bare FastAPI endpoint inserting one row through
the same database engine, with nothing else (no auth, validation model, events or logging)."""
from __future__ import annotations

import uuid

from fastapi import FastAPI, Request
from sqlalchemy import Column, MetaData, String, Table, insert, text
from sqlalchemy.dialects.postgresql import JSONB

from shared.db import make_engine
from shared.settings import get_settings

metadata = MetaData(schema="bench")
rows = Table("rows", metadata, Column("id", String(40), primary_key=True), Column("body", JSONB, nullable=False))
ADD = insert(rows)
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
