"""What a simulation job runs, as one JSON document kept with the job (database and job folder).

Rule sets and the module travel whole, so the job runs what was asked even if the service
restarts and the published rule sets have moved on in between.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from services.scoring.engine.modules import Module
from services.scoring.engine.rules import RuleSet
from services.scoring.simulation.compare import Line
from services.scoring.simulation.run import Simulation

POPULATION_FILE = "population.parquet"
SPEC_FILE = "spec.json"
PROGRESS_FILE = "progress.json"


def make_spec(population: dict[str, Any], baseline: RuleSet, draft: RuleSet, module: Module | None,
              cut_off: date | None, threshold: float | None, quota: int | None) -> dict[str, Any]:
    return {"population": population, "baseline": baseline.model_dump(mode="json", by_alias=True),
            "draft": draft.model_dump(mode="json", by_alias=True),
            "module": module.model_dump(mode="json", by_alias=True) if module else None,
            "cut_off_date": cut_off.isoformat() if cut_off else None, "threshold": threshold, "quota": quota}


def describe(spec: dict[str, Any]) -> dict[str, Any]:
    """The request as a reader wants it back: ids and hashes, not whole documents."""
    return {"population": spec["population"], "baseline": spec["baseline"]["id"], "draft": spec["draft"]["id"],
            "draft_content_hash": spec["draft"]["content_hash"], "module": (spec["module"] or {}).get("id"),
            "cut_off_date": spec["cut_off_date"], "threshold": spec["threshold"], "quota": spec["quota"]}


def simulation_of(spec: dict[str, Any], folder: Path) -> Simulation:
    line = Line(spec["threshold"], spec["quota"]) if spec["threshold"] is not None or spec["quota"] is not None else None
    return Simulation(folder / POPULATION_FILE, RuleSet.model_validate(spec["baseline"]),
                      RuleSet.model_validate(spec["draft"]),
                      date.fromisoformat(spec["cut_off_date"]) if spec["cut_off_date"] else None,
                      Module.model_validate(spec["module"]) if spec["module"] else None, line)


def write_json(path: Path, doc: dict[str, Any]) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    partial.replace(path)
