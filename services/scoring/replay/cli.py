"""`python -m services.scoring.replay ROUND_ID --draft FILE_OR_ID [--json]`: replay a final round
under a draft from an operator's shell, as `POST /v1/rounds/{id}/replays` does (scoring's database,
publicity's list with the scoring key), and print who would enter and who would leave.

Like `services.scoring.recompute`, it is for those who already hold scoring's database URL: it
prints each person's line-by-line difference, as an officer sees it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import typer

from services.scoring.engine.rules import RuleSet, RuleSetError, load_shipped, parse_rule_set
from services.scoring.replay import publicity
from services.scoring.replay.use_cases import ReplayRefused, replay
from services.scoring.settings import ScoringSettings
from services.scoring.simulation.drafts import parse_draft
from services.scoring.store import Store
from shared.db import Database

cli = typer.Typer(help="Replay a final round under a draft: who would enter, who would leave.")


async def _draft(db: Database, draft: str) -> RuleSet:
    shipped = load_shipped()
    path = Path(draft)
    if path.is_file():
        return parse_draft(path.read_text(encoding="utf-8"), path.name, shipped)
    if draft in shipped:
        return shipped[draft]
    async with db.unit_of_work() as uow:
        source = await uow.store.rule_set_source(draft)
    if source is None:
        raise typer.BadParameter(f"no YAML file, shipped rule set or uploaded draft {draft!r}", param_hint="--draft")
    return parse_rule_set(source, f"{draft}.yaml")


def summary(report: dict[str, Any]) -> list[str]:
    base = report["baseline"]
    out = [
        f"round {report['round_id']} ({report['module_id']}) under {report['draft']['id']}: "
        f"{report['candidates']} candidates, {report['rescored']} re-scored",
        f"baseline: {'agrees with' if base['agrees_with_published_list'] else 'DIFFERS from'} the published list",
        *(f"  {d}" for d in base["differences"]),
        f"admitted: {report['admitted_before']} before, {report['admitted_after']} under the draft",
    ]
    for word, people in (("enters", report["entering"]), ("leaves", report["leaving"])):
        out += [
            f"  {word}: entry {m['entry']} {m['name']} {m['id_number']}: rank {m['rank_before']} → {m['rank_after']}, "
            f"{m['total_before']:g} → {m['total_after']:g}"
            for m in people
        ]
    for p in report["people"]:
        moved = ", ".join(f"{x['indicator']} {x['points_before']:g} → {x['points_after']:g}" for x in p["lines"])
        out.append(f"  entry {p['entry']} ({p['application_id']}): {moved}")
    out += [f"  not re-scored: entry {n['entry']}: {n['reason']}" for n in report["not_rescored"]]
    return out


@cli.command()
def main(
    round_id: str = typer.Argument(..., help="A final round (RND-…)"),
    draft: str = typer.Option(..., help="A YAML file (whole or `based_on`), a shipped rule set or an uploaded draft"),
    as_json: bool = typer.Option(False, "--json", help="The whole report as JSON"),
    database_url: str = typer.Option(None, help="Defaults to DATABASE_URL"),
) -> None:
    """Replay a final round under a draft and print who would enter and who would leave."""
    settings = ScoringSettings()

    async def run() -> dict[str, Any]:
        db = Database(database_url or settings.database_url, pool_size=1, store_factory=Store)
        try:
            rule_set = await _draft(db, draft)
            listed = await publicity.round_candidates(
                settings.publicity_for_services, settings.publicity_candidates_key, round_id
            )
            async with db.unit_of_work() as uow:
                return await replay(uow.store, listed["round"], listed["candidates"], rule_set)
        finally:
            await db.dispose()

    try:
        report = asyncio.run(run())
    except RuleSetError as exc:
        raise typer.BadParameter(str(exc), param_hint="--draft") from exc
    except ReplayRefused as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from exc
    typer.echo(orjson.dumps(report).decode() if as_json else "\n".join(summary(report)))
