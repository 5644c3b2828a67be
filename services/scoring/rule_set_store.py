"""Uploaded rule sets in the scoring schema, and keeping every replica's set of rules current."""
from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.scoring.engine.rules import RuleSet, parse_rule_set
from services.scoring.tables import rule_sets as table
from shared.logging import get_logger

log = get_logger(__name__)
REFRESH_SECONDS = 30


async def load_published(engine: AsyncEngine) -> dict[str, RuleSet]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(table.c.id, table.c.source).where(table.c.state == "published"))).all()
    return {r.id: parse_rule_set(r.source, f"{r.id} (published)") for r in rows}


async def keep_current(engine: AsyncEngine, rule_sets: dict[str, RuleSet]) -> None:
    """Add rule sets other replicas published. Publication requires a future effective date,
    so a replica that learns of one a few seconds late has scored nothing under the wrong rules."""
    while True:
        await asyncio.sleep(REFRESH_SECONDS)
        try:
            for rule_set_id, rs in (await load_published(engine)).items():
                rule_sets.setdefault(rule_set_id, rs)
        except Exception as exc:  # the database is away: keep the rules we have
            log.warning("could not refresh rule sets", error=str(exc))
