"""A stand-in for Binjiang district's data platform: the district's own registry, over HTTP.

Answers the owner-registry contract the district's verifier speaks (owner_registry.py) from the
seeded `registries.binjiang_key_enterprise_staff` list (the synthetic population's key-enterprise
employees), behind a bearer credential. `make run` starts it and registers it as the district's
source; `python -m services.verification.owner_registry_server` runs it alone.
"""

from __future__ import annotations

import secrets
from datetime import date

import typer
import uvicorn
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import bindparam, select

from services.verification.registries import binjiang_key_enterprise_staff
from shared.db import make_engine
from shared.demo import DEMO_BINJIANG_REGISTRY_CREDENTIAL
from shared.settings import get_settings

PATH = "/v1/facts"


class Question(BaseModel):
    id_number: str = Field(max_length=18)
    cut_off: date
    facts: list[str] = Field(max_length=20)


def build(database_url: str | None = None, credential: str = DEMO_BINJIANG_REGISTRY_CREDENTIAL) -> FastAPI:
    engine = make_engine(database_url or get_settings().database_url, pool_size=5)
    app = FastAPI(title="Binjiang district data platform (local stand-in)")
    staff = select(binjiang_key_enterprise_staff.c.id_number).where(
        binjiang_key_enterprise_staff.c.id_number == bindparam("id")
    )

    @app.post(PATH)
    async def facts(q: Question, authorization: str = Header("")) -> dict:
        if not secrets.compare_digest(authorization.encode(), f"Bearer {credential}".encode()):
            raise HTTPException(401, "unknown credential")
        answer: dict[str, object] = {}
        if "key_enterprise_employee" in q.facts:
            async with engine.connect() as conn:
                # The list is the district's whole record: not on it is an answer (false), not a gap.
                answer["key_enterprise_employee"] = (await conn.execute(staff, {"id": q.id_number})).first() is not None
        return {"facts": answer}

    return app


def main(port: int = typer.Option(8009), database_url: str = typer.Option(None)) -> None:
    uvicorn.run(build(database_url), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    typer.run(main)
