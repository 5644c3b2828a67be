"""Uploaded rule sets and X-modules in the scoring schema, and keeping every replica current."""
from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.scoring.engine.modules import Module, parse_module
from services.scoring.engine.rules import RuleSet, parse_rule_set
from services.scoring.tables import modules as module_table
from services.scoring.tables import rule_sets as table
from shared.logging import get_logger

log = get_logger(__name__)
REFRESH_SECONDS = 30


async def load_published(engine: AsyncEngine) -> dict[str, RuleSet]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(table.c.id, table.c.source).where(table.c.state == "published"))).all()
    return {r.id: parse_rule_set(r.source, f"{r.id} (published)") for r in rows}


async def load_modules(engine: AsyncEngine) -> dict[str, tuple[int, Module]]:
    """The latest registered version of each module."""
    latest = (select(module_table.c.id, func.max(module_table.c.version).label("version"))
              .group_by(module_table.c.id).subquery())
    async with engine.connect() as conn:
        rows = (await conn.execute(select(module_table).join(
            latest, (module_table.c.id == latest.c.id) & (module_table.c.version == latest.c.version)))).all()
    return {r.id: (r.version, parse_module(r.source, f"{r.id} v{r.version}")) for r in rows}


async def keep_current(engine: AsyncEngine, rule_sets: dict[str, RuleSet], modules: dict[str, Module]) -> None:
    """Pick up what other replicas accepted. Publication requires a future effective date, so a
    replica that learns of a rule set a few seconds late has scored nothing under the wrong rules."""
    while True:
        await asyncio.sleep(REFRESH_SECONDS)
        try:
            for rule_set_id, rs in (await load_published(engine)).items():
                rule_sets.setdefault(rule_set_id, rs)
            for module_id, (_version, module) in (await load_modules(engine)).items():
                modules[module_id] = module
        except Exception as exc:  # the database is away: keep what we have
            log.warning("could not refresh rule sets and modules", error=str(exc))
