"""`python -m services.scoring.simulation`: generate a population, run a simulation, see the report.

Works offline on the shipped rule sets and modules plus any draft file; the scoring service's
`POST /v1/simulations` runs the same code on the rule sets it has published.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.scoring.engine.modules import load_shipped_modules, module_faults, parse_module
from services.scoring.engine.rules import RuleSetError, load_shipped
from services.scoring.simulation.compare import Line
from services.scoring.simulation.drafts import parse_draft
from services.scoring.simulation.run import Simulation, cut_off_of, simulate
from shared.synthetic.holders import DEFAULT_AS_OF, DEFAULT_SEED
from shared.synthetic.parquet import population_info, write_population

EXAMPLE = Path(__file__).parent / "examples" / "rent-equals-own.yaml"
CITY = 6_200_000  # Hangzhou's floating population, roughly
app = typer.Typer(help="Simulate a draft indicator system on a whole population (模拟积分).", no_args_is_help=True)


def _bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


@app.command()
def generate(
    out: Path = typer.Option(..., help="Parquet file to write"),
    holders: int = typer.Option(CITY, min=1, help="How many holders"),
    seed: int = typer.Option(DEFAULT_SEED),
    as_of: str = typer.Option(DEFAULT_AS_OF.isoformat(), help="Reference date"),
) -> None:
    """Write a synthetic population (see README, "The synthetic population")."""
    with _bar() as bar:
        task = bar.add_task("generating holders", total=holders)
        write_population(out, holders, seed, date.fromisoformat(as_of), progress=lambda k: bar.advance(task, k))
    typer.echo(f"{out}: {holders:,} holders, seed {seed}, as of {as_of}")


def _draft(draft: str, rule_sets: dict) -> object:
    path = Path(draft)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return parse_draft(path.read_text(encoding="utf-8"), path.name, rule_sets)
    if draft not in rule_sets:
        raise RuleSetError(f"no rule set {draft!r} and no such file (known: {', '.join(sorted(rule_sets))})")
    return rule_sets[draft]


@app.command()
def run(
    population: Path = typer.Option(..., exists=True, dir_okay=False, help="Parquet population"),
    draft: str = typer.Option(str(EXAMPLE), help="Draft rule set: a shipped id or a YAML file (whole or `based_on`)"),
    baseline: str = typer.Option("hangzhou-2021", help="Baseline rule set id"),
    out: Path = typer.Option(Path("simulation-reports/latest"), help="Report directory"),
    cut_off: str | None = typer.Option(None, help="Cut-off date (default: the population's reference date)"),
    module: str | None = typer.Option(None, help="An X-module: shipped id or YAML file"),
    threshold: float | None = typer.Option(None, help="Points needed (default: the module's round)"),
    quota: int | None = typer.Option(None, min=1, help="Places available (default: the module's round)"),
) -> None:
    """Score the population under the baseline and the draft; write report.html and summary.json."""
    rule_sets = load_shipped()
    try:
        if baseline not in rule_sets:
            raise RuleSetError(f"no rule set {baseline!r} (known: {', '.join(sorted(rule_sets))})")
        chosen_draft = _draft(draft, rule_sets)
        chosen_module = None
        if module:
            modules = load_shipped_modules()
            mpath = Path(module)
            chosen_module = modules.get(module) or parse_module(mpath.read_text(encoding="utf-8"), mpath.name)
            faults = module_faults(chosen_module, rule_sets)  # a draft is held to what registration asks
            if faults:
                raise RuleSetError("; ".join(f"{field}: {message}" for field, message in faults))
            if chosen_module.candidate != "holder":
                raise RuleSetError(
                    f"{chosen_module.id} ranks {chosen_module.candidate}ren, not holders: "
                    "a population of holders has no families to rank"
                )
        sim = Simulation(
            population,
            rule_sets[baseline],
            chosen_draft,
            date.fromisoformat(cut_off) if cut_off else None,
            chosen_module,
            Line(threshold, quota) if threshold is not None or quota is not None else None,
        )
        cut_off_of(sim)  # a file without its reference date needs --cut-off; a file that is no population fails here
    except (RuleSetError, OSError, ValueError) as exc:  # RuleSetError is a ValueError too
        raise typer.BadParameter(str(exc)) from exc
    with _bar() as bar:
        task = bar.add_task("scoring under both rule sets", total=population_info(population).holders)
        summary = simulate(sim, out, progress=lambda done, total: bar.update(task, completed=done))
    c = summary["change"]
    typer.echo(
        f"{summary['holders']:,} holders in {summary['timings']['scoring_seconds']:.1f} s: "
        f"{c['gainers']:,} gain, {c['losers']:,} lose, mean change {c['mean']:+.2f} points"
    )
    if summary["line"]:
        line = summary["line"]
        typer.echo(
            f"over the line: {line['before']['qualified']:,} → {line['after']['qualified']:,} "
            f"(+{line['newly_qualified']:,} / -{line['no_longer_qualified']:,})"
        )
    typer.echo(f"report: {out / 'report.html'}")


@app.command()
def example(
    holders: int = typer.Option(CITY, min=1),
    seed: int = typer.Option(DEFAULT_SEED),
    out: Path = typer.Option(Path("simulation-reports/rent-equals-own")),
    cache: Path = typer.Option(Path(".local/simulation"), help="Where generated populations are kept"),
) -> None:
    """The shipped example: 租购同分 (renting scores as owning) on a whole city."""
    population = cache / f"population-{holders}-{seed}.parquet"
    if not population.exists() or population_info(population).holders != holders:
        generate(out=population, holders=holders, seed=seed, as_of=DEFAULT_AS_OF.isoformat())
    run(
        population=population,
        draft=str(EXAMPLE),
        baseline="hangzhou-2021",
        out=out,
        cut_off=None,
        module=None,
        threshold=None,
        quota=100_000,
    )


@app.command(hidden=True)
def job(folder: Path = typer.Argument(..., exists=True, file_okay=False), attempt: int = typer.Option(1)) -> None:
    """Run the job kept in `folder` (the scoring service starts this as a child process)."""
    from services.scoring.simulation.job_runner import run_job_folder

    run_job_folder(folder, attempt)
