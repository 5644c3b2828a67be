"""One simulation from start to report: read the population chunk by chunk, compare, write the report."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from services.scoring.engine.modules import Module
from services.scoring.engine.rules import RuleSet
from services.scoring.simulation.compare import Comparison, Line
from services.scoring.simulation.population import from_arrow
from services.scoring.simulation.report import write_report
from shared.synthetic.parquet import population_info, read_batches


@dataclass(frozen=True)
class Simulation:
    population: Path
    baseline: RuleSet
    draft: RuleSet
    cut_off: date | None = None  # None: the population's own reference date
    module: Module | None = None
    line: Line | None = None


def cut_off_of(sim: Simulation) -> date:
    if sim.cut_off is not None:
        return sim.cut_off
    info = population_info(sim.population)
    if info.as_of is None:
        raise ValueError("the population file does not say its reference date: give the cut-off date")
    return info.as_of


def simulate(sim: Simulation, out: Path, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Run `sim` and write its report into `out`; `progress(done, total)` after each chunk."""
    started = time.perf_counter()
    info = population_info(sim.population)
    comparison = Comparison(sim.baseline, sim.draft, cut_off_of(sim), sim.module, sim.line)
    for batch in read_batches(sim.population):
        comparison.add(from_arrow(batch))
        if progress:
            progress(comparison.holders, info.holders)
    summary = comparison.summary()
    scored = time.perf_counter() - started
    summary["population"] = {**info.as_dict(), "file": sim.population.name}
    summary["timings"] = {"scoring_seconds": round(scored, 3)}
    write_report(summary, out)
    summary["timings"]["report_seconds"] = round(time.perf_counter() - started - scored, 3)
    return summary
