"""The shipped dashboards and alert rules (deploy/monitoring/), read as the tests check them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

MONITORING = Path(__file__).resolve().parents[1] / "deploy" / "monitoring"
RULES = MONITORING / "alerts.yaml"
DASHBOARDS = sorted((MONITORING / "dashboards").glob("*.json"))
_METRIC = re.compile(r"\bpoints_[a-z0-9_]+\b")


def rules() -> dict[str, Any]:
    return yaml.safe_load(RULES.read_text())


def dashboards() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in DASHBOARDS}


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, rows' folded panels included."""
    found = []
    for p in dashboard["panels"]:
        found.append(p)
        found += p.get("panels", [])
    return found


def expressions() -> dict[str, str]:
    """Every PromQL expression shipped, by where it is (alert name, or dashboard / panel / target)."""
    found = {
        f"alert {rule['alert']}": rule["expr"]
        for group in rules()["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    for name, dashboard in dashboards().items():
        for p in panels(dashboard):
            for t in p.get("targets", []):
                found[f"{name} / {p['title']} / {t['refId']}"] = t["expr"]
    return found


def metric_names(expr: str) -> set[str]:
    return set(_METRIC.findall(expr))
