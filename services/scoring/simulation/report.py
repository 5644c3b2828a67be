"""A simulation's report directory: summary.json for machines, report.html (with its charts) for people."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.scoring.simulation import charts
from services.scoring.simulation.files import write_text
from shared import names

# Its own templates, and the style every report shares (services/scoring/templates).
_env = Environment(
    loader=FileSystemLoader([Path(__file__).parent / "templates", Path(__file__).parent.parent / "templates"]),
    autoescape=select_autoescape(),
)
_env.filters["n"] = lambda v: f"{v:,}" if isinstance(v, int) else v
_env.filters["pts"] = lambda v: "—" if v is None else f"{v:,.1f}"
_env.filters["signed"] = lambda v: f"{v:+,.2f}"
_env.filters["pct"] = lambda part, whole: f"{100 * part / whole:.1f} %" if whole else "—"

FILES = ("report.html", "summary.json")


def write_report(summary: dict[str, Any], out: Path) -> Path:
    """Write both files into `out` (created if need be); returns the HTML's path."""
    out.mkdir(parents=True, exist_ok=True)
    figures = {
        "distribution": charts.distribution(summary),
        "contributions": charts.contributions(summary),
        "crossing": charts.crossing(summary),
        "groups": {g: charts.group(summary, g) for g in summary["groups"]},
    }
    html = _env.get_template("report.html").render(
        s=summary,
        fig=figures,
        key=charts.distribution_key(summary),
        colours={"gain": charts.GAIN, "loss": charts.LOSS},
        status_zh={k: names.zh(names.SCORE_STATUSES, k) for k in summary["status"]["before"]},
        indicator_zh={r["indicator"]: r["name_zh"] for r in summary["indicators"]},
    )
    write_text(out / "summary.json", json.dumps(summary, ensure_ascii=False, indent=2))
    write_text(out / "report.html", html)
    return out / "report.html"
