"""A stand-in for the city's data-sharing platform: the HTTP side of the registries.

Serves the look-ups `HttpRegistries` asks for, from the seeded `registries` schema, so the
HTTP adapter can be run and tested for real (`python -m services.verification.registry_server`).
"""

from __future__ import annotations

from datetime import date

import typer
import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from services.verification.registries import LOOKUPS, SqlRegistries
from shared.db import make_engine
from shared.settings import get_settings


class Question(BaseModel):
    id_number: str
    cut_off: date | None = None
    today: date | None = None
    permit_number: str | None = None
    relative: str | None = None
    people: list[str] | None = None


def build(database_url: str | None = None) -> FastAPI:
    engine = make_engine(database_url or get_settings().database_url, pool_size=5)
    registries = SqlRegistries(engine)
    app = FastAPI(title="Data-sharing platform (local stand-in)")

    def iso(value):
        return value.isoformat() if isinstance(value, date) else value

    @app.post("/v1/lookups/police")
    async def police(q: Question) -> dict:
        permit, residence, districts = await registries.police(None, q.permit_number or "", q.id_number, q.cut_off)  # type: ignore[arg-type]
        return {
            "permit": permit and {k: iso(v) for k, v in permit.items()},
            "residence": [{k: iso(v) for k, v in r.items()} for r in residence],
            "districts": [{k: iso(v) for k, v in r.items()} for r in districts],
        }

    @app.post("/v1/lookups/relation")
    async def relation(q: Question) -> dict:
        relations, disabled = await registries.relation(None, q.id_number, q.relative or "", q.today)  # type: ignore[arg-type]
        return {"relations": relations, "disabled": disabled}

    @app.post("/v1/lookups/social_insurance")
    async def social_insurance(q: Question) -> dict:
        spans = await registries.social_insurance(None, q.id_number, q.cut_off)  # type: ignore[arg-type]
        return {"spans": [{k: iso(v) for k, v in s.items()} for s in spans]}

    class Listing(BaseModel):
        id_number: str
        act: str
        listed_on: date

    @app.post("/v1/credit/listings")
    async def report_dishonesty(listing: Listing) -> dict:
        """The credit department's interface: a dishonesty listing (idempotent by act)."""
        await registries.report_dishonesty(None, listing.id_number, listing.act, listing.listed_on)
        return {"listed": True, "act": listing.act}

    @app.post("/v1/lookups/records/{lookup}")
    async def records(lookup: str, q: Question) -> dict:
        if lookup not in LOOKUPS:
            raise HTTPException(404, f"no registry look-up {lookup!r}")
        return await registries.records(None, lookup, q.id_number, q.cut_off, q.people)  # type: ignore[arg-type]

    return app


def main(port: int = typer.Option(8090), database_url: str = typer.Option(None)) -> None:
    uvicorn.run(build(database_url), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    typer.run(main)
