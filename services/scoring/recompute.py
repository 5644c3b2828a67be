"""`python -m services.scoring.recompute APPLICATION_ID [--version N]`: recompute a stored score
from what it was made of (the departments' answers, the rule-set and module texts by hash, the
cut-off) and say whether it matches what was announced (exit status 1 where it does not).

Anyone holding the same answers and texts can do the same outside the platform: the texts are
public (`GET /v1/rule-sets/{id}/source?hash=…`), and the determination id says whether the
inputs were the same.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import typer

from services.scoring import domain
from services.scoring.engine import ENGINE_VERSION
from services.scoring.engine.modules import parse_module
from services.scoring.engine.rules import parse_rule_set
from services.scoring.settings import ScoringSettings
from services.scoring.store import Store
from shared.clock import BEIJING
from shared.db import Database

cli = typer.Typer(help="Recompute a stored score from what it was made of.")


@dataclass
class Recomputation:
    application_id: str
    version: int
    matches: bool
    differences: list[str] = field(default_factory=list)
    note: str = ""  # why it could not be recomputed, or what to bear in mind


def compare(stored: dict[str, Any], again: dict[str, Any]) -> list[str]:
    """What differs between the stored explanation and the recomputed one, as a reader names it."""
    out = [
        f"{key}: stored {stored.get(key)!r}, recomputed {again.get(key)!r}"
        for key in ("determination_id", "status", "total", "barred_until")
        if stored.get(key) != again.get(key)
    ]
    out += [
        f"category {c}: stored {stored['categories'].get(c)}, recomputed {again['categories'].get(c)}"
        for c in again["categories"]
        if stored["categories"].get(c) != again["categories"][c]
    ]
    lines = {line["indicator"]: line["points"] for line in stored["lines"]}
    out += [
        f"line {line['indicator']}: stored {lines.get(line['indicator'])}, recomputed {line['points']}"
        for line in again["lines"]
        if lines.get(line["indicator"]) != line["points"]
    ]
    for module_id, doc in again.get("modules", {}).items():
        before = stored.get("modules", {}).get(module_id, {})
        if before.get("total") != doc["total"] or before.get("eligible") != doc["eligible"]:
            out.append(f"module {module_id}: stored {before.get('total')}, recomputed {doc['total']}")
    return out


async def recompute(store: Any, application_id: str, version: int | None = None) -> Recomputation:
    rows = await store.scores_newest_first(application_id)
    row = next((r for r in rows if version is None or r.version == version), None)
    if row is None:
        return Recomputation(application_id, version or 0, False, note="no such score")
    result = Recomputation(application_id, row.version, False)
    if row.answers is None:
        result.note = "computed before determinations were kept: nothing to recompute from"
        return result
    text = await store.text_by_hash(row.rule_set_hash)
    if text is None:
        result.note = f"the rule-set text {row.rule_set_hash} is not kept"
        return result
    rule_set = parse_rule_set(text.source, f"{row.rule_set_id} ({row.rule_set_hash[:12]})")
    modules = {}
    for module_id, content_hash in row.explanation.get("module_hashes", {}).items():
        kept = await store.text_by_hash(content_hash)
        if kept is None:
            result.note = f"the text of module {module_id} ({content_hash}) is not kept"
            return result
        modules[module_id] = parse_module(kept.source, f"{module_id} ({content_hash[:12]})")
    if row.engine_version != ENGINE_VERSION:
        result.note = f"computed by engine {row.engine_version}; this is engine {ENGINE_VERSION}"
    computed_on = row.computed_at.astimezone(BEIJING).date() if isinstance(row.computed_at, datetime) else None
    rules_on = row.explanation.get("rules_on")
    again = domain.score_application(
        {rule_set.id: rule_set},
        row.cut_off_date,
        row.answers,
        modules,
        computed_on,
        date.fromisoformat(rules_on) if rules_on else None,
    )
    result.differences = compare(row.explanation, again)
    result.matches = not result.differences
    return result


@cli.command()
def main(
    application_id: str = typer.Argument(..., help="The application whose score to recompute"),
    version: int = typer.Option(None, help="A score version (default: the latest)"),
    database_url: str = typer.Option(None, help="Defaults to DATABASE_URL"),
) -> None:
    """Recompute a score and compare it with the one stored and announced."""

    async def run() -> Recomputation:
        db = Database(database_url or ScoringSettings().database_url, pool_size=1, store_factory=Store)
        try:
            async with db.unit_of_work() as uow:
                return await recompute(uow.store, application_id, version)
        finally:
            await db.dispose()

    r = asyncio.run(run())
    where = f"{r.application_id} v{r.version}"
    if r.note:
        typer.echo(f"{where}: {r.note}")
    if r.matches:
        typer.echo(f"{where}: matches (the same determination, the same points)")
        return
    for difference in r.differences:
        typer.echo(f"{where}: DIFFERS: {difference}")
    raise typer.Exit(1)


if __name__ == "__main__":
    cli()
