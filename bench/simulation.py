"""Simulation: a whole population under two rule sets (hangzhou-2021 and the 租购同分 draft), report
included, beside a per-person Python loop over a sample of the same holders under the same two
rule sets, measured in the same run.

Each size runs in a process of its own (`python -m bench.simulation one ...`), so its peak memory is
its own; the population file is generated first (not timed: a policy office generates it once).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import typer

from deploy.local.processes import LOCAL
from services.scoring.engine import reference
from services.scoring.engine.rules import load_shipped
from services.scoring.simulation.cli import EXAMPLE
from services.scoring.simulation.drafts import parse_draft
from services.scoring.simulation.run import Simulation, simulate
from shared.synthetic.documents import documents
from shared.synthetic.holders import DEFAULT_AS_OF, generate
from shared.synthetic.parquet import population_info, write_population

app = typer.Typer()


@app.callback()
def _commands() -> None:
    """Keeps `one` a named subcommand."""


CACHE = LOCAL / "simulation"


def _rule_sets():
    shipped = load_shipped()
    return shipped["hangzhou-2021"], parse_draft(EXAMPLE.read_text(encoding="utf-8"), EXAMPLE.name, shipped)


@app.command()
def one(holders: int = typer.Option(...), population: Path = typer.Option(...)) -> None:
    """One simulation, timed; prints JSON with wall time and this process's peak memory."""
    baseline, draft = _rule_sets()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        summary = simulate(Simulation(population, baseline, draft), Path(out))
    wall = time.perf_counter() - started
    print(
        json.dumps(
            {
                "holders": holders,
                "wall_s": round(wall, 2),
                "scoring_s": summary["timings"]["scoring_seconds"],
                "report_s": summary["timings"]["report_seconds"],
                "holders_per_s": round(holders / wall),
                "gainers": summary["change"]["gainers"],
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


def loop_rate(sample: int) -> dict:
    """The same two rule sets, one holder at a time in plain Python, on holders 1..sample."""
    baseline, draft = _rule_sets()
    docs = documents(generate(np.arange(1, sample + 1)))
    started = time.perf_counter()
    for facts in docs:
        reference.score(baseline, facts, DEFAULT_AS_OF)
        reference.score(draft, facts, DEFAULT_AS_OF)
    wall = time.perf_counter() - started
    return {"sample": sample, "wall_s": round(wall, 2), "holders_per_s": round(sample / wall)}


def population_file(holders: int) -> Path:
    path = CACHE / f"population-{holders}-2021.parquet"
    if not path.exists() or population_info(path).holders != holders:
        write_population(path, holders)
    return path


def run(sizes: tuple[int, ...] = (1_000_000, 6_200_000), sample: int = 5_000) -> dict:
    out: dict = {"loop": loop_rate(sample)}
    for holders in sizes:
        path = population_file(holders)
        line = subprocess.run(
            [sys.executable, "-m", "bench.simulation", "one", "--holders", str(holders), "--population", str(path)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r = json.loads(line.strip().splitlines()[-1])
        r["loop_estimate_s"] = round(holders / out["loop"]["holders_per_s"], 1)
        r["speedup"] = round(r["loop_estimate_s"] / r["wall_s"], 1)
        out[str(holders)] = r
    return out


def summary(r: dict) -> str:
    lines = [
        f"simulation: per-person loop {r['loop']['holders_per_s']:,} holders/s under both rule sets "
        f"({r['loop']['sample']:,}-holder sample)"
    ]
    for key, v in r.items():
        if key == "loop":
            continue
        lines.append(
            f"  {v['holders']:,} holders: {v['wall_s']} s whole comparison with report "
            f"(scoring {v['scoring_s']} s, report {v['report_s']} s), peak {v['peak_rss_mib']:,} MiB; "
            f"the loop would take {v['loop_estimate_s']:,} s: {v['speedup']}x"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    app()
