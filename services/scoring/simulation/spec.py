"""What a simulation job runs, as one JSON document kept with the job (database and job folder).

Rule sets and the module travel whole, so the job runs what was asked even if the service
restarts and the published rule sets have moved on in between.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.scoring.engine.modules import Module
from services.scoring.engine.rules import RuleSet


def make_spec(
    population: dict[str, Any],
    baseline: RuleSet,
    draft: RuleSet,
    module: Module | None,
    cut_off: date | None,
    threshold: float | None,
    quota: int | None,
) -> dict[str, Any]:
    return {
        "population": population,
        "baseline": baseline.model_dump(mode="json", by_alias=True),
        "draft": draft.model_dump(mode="json", by_alias=True),
        "module": module.model_dump(mode="json", by_alias=True) if module else None,
        "cut_off_date": cut_off.isoformat() if cut_off else None,
        "threshold": threshold,
        "quota": quota,
    }


def describe(spec: dict[str, Any]) -> dict[str, Any]:
    """The request as a reader wants it back: ids and hashes, not whole documents."""
    return {
        "population": spec["population"],
        "baseline": spec["baseline"]["id"],
        "draft": spec["draft"]["id"],
        "draft_content_hash": spec["draft"]["content_hash"],
        "module": (spec["module"] or {}).get("id"),
        "cut_off_date": spec["cut_off_date"],
        "threshold": spec["threshold"],
        "quota": spec["quota"],
    }
