"""The child process that runs one job: generate the population if asked, compare, write the report.

Progress goes to a small file the service reads; the report goes to a folder of its own per
attempt, so an attempt cut short by a restart never mixes with the one that finishes.
"""

from __future__ import annotations

import ctypes
import json
import signal
from datetime import date
from pathlib import Path
from typing import Any

from services.scoring.engine.modules import Module
from services.scoring.engine.rules import RuleSet
from services.scoring.simulation.compare import Line
from services.scoring.simulation.files import POPULATION_FILE, PROGRESS_FILE, SPEC_FILE, attempt_dir, write_json
from services.scoring.simulation.run import Simulation, simulate
from shared.synthetic.parquet import write_population


def simulation_of(spec: dict[str, Any], folder: Path) -> Simulation:
    """The job's spec (see spec.py) as the simulation to run on the population in `folder`."""
    line = (
        Line(spec["threshold"], spec["quota"]) if spec["threshold"] is not None or spec["quota"] is not None else None
    )
    return Simulation(
        folder / POPULATION_FILE,
        RuleSet.model_validate(spec["baseline"]),
        RuleSet.model_validate(spec["draft"]),
        date.fromisoformat(spec["cut_off_date"]) if spec["cut_off_date"] else None,
        Module.model_validate(spec["module"]) if spec["module"] else None,
        line,
    )


def _die_with_parent() -> None:
    """Linux: stop when the service that started us dies, however it dies (a SIGKILL leaves no time to stop us)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_job_folder(folder: Path, attempt: int) -> None:
    _die_with_parent()
    spec = json.loads((folder / SPEC_FILE).read_text(encoding="utf-8"))
    pop = spec["population"]
    if pop["kind"] == "generated" and not (folder / POPULATION_FILE).exists():
        done = 0

        def generated(k: int) -> None:
            nonlocal done
            done += k
            write_json(folder / PROGRESS_FILE, {"phase": "generating", "done": done, "total": pop["holders"]})

        write_population(
            folder / POPULATION_FILE, pop["holders"], pop["seed"], date.fromisoformat(pop["as_of"]), progress=generated
        )
    simulate(
        simulation_of(spec, folder),
        attempt_dir(folder, attempt),
        progress=lambda done, total: write_json(
            folder / PROGRESS_FILE, {"phase": "scoring", "done": done, "total": total}
        ),
    )
