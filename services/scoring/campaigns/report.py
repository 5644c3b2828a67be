"""A campaign's report: the figures (summary.json) and the page (HTML with the simulation's charts).

Every figure about the register is a weighted estimate from the random sample's respondents, with
its 95 % margin (domain.py); holders who joined of their own accord (the estimate page, a partner
app) are counted and compared but never weighted into the register's figures, as nobody drew them.
The report names nobody: counts, means and shares per stratum and group only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.scoring.campaigns import domain
from services.scoring.simulation import charts
from services.scoring.simulation.compare import histogram
from services.scoring.simulation.population import GROUPS, group_label_zh
from shared import strata

# Its own templates, and the style every report shares (services/scoring/templates).
_env = Environment(
    loader=FileSystemLoader([Path(__file__).parent / "templates", Path(__file__).parent.parent / "templates"]),
    autoescape=select_autoescape(),
)
_env.filters["n"] = lambda v: f"{v:,}" if isinstance(v, int) else v
_env.filters["pts"] = lambda v: "—" if v is None else f"{v:,.1f}"
_env.filters["pct"] = lambda v: "—" if v is None else f"{100 * v:.1f} %"
_env.filters["signed"] = lambda v: "—" if v is None else f"{v:+,.2f}"


@dataclass
class Scored:
    """The verified participants on the register, each scored under every rule set of the campaign."""

    rule_sets: list[dict[str, Any]]  # {"id", "name_zh", "content_hash", "in_force"}: the first is in force
    totals: np.ndarray  # (rule sets, participants)
    invited: np.ndarray  # drawn in the sample (else: joined of their own accord)
    stratum: np.ndarray  # index into the plan; -1 where the register classes them in none
    labels: list[dict[str, str]]
    # Per participant who declared facts: per indicator (declared points, verified points) under the rules in force.
    declared: list[dict[str, tuple[float, float]]] = field(default_factory=list)
    indicator_names: dict[str, str] = field(default_factory=dict)


def label_zh(dimension: str, label: str) -> str:
    if dimension == "district":
        return strata.DISTRICT_ZH.get(label, label)
    return group_label_zh(dimension, label)


def _est(e: domain.Estimate) -> dict[str, float] | None:
    return None if np.isnan(e.value) else e.doc()


def _groups(delta: np.ndarray, labels: list[dict[str, str]], sample: domain.Sample, total: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dim in strata.DIMENSIONS:
        rows = []
        mine = np.array([lab.get(dim, "") for lab in labels])
        for label in strata.DIMENSIONS[dim]:
            x = (mine == label).astype(np.float64)
            if not x.any():
                continue
            share = domain.mean(x, sample)
            change = domain.ratio(delta * x, x, sample)
            gain = domain.ratio((delta > 0) * x, x, sample)
            loss = domain.ratio((delta < 0) * x, x, sample)
            holders = max(1, int(round(share.value * total)))
            rows.append(
                {
                    "label": label,
                    "label_zh": label_zh(dim, label),
                    "respondents": int(x.sum()),
                    "register_share": _est(share),
                    "holders": holders,  # estimated holders of the register in the group
                    "mean_change": round(change.value, 4),
                    "mean_change_margin": round(change.margin, 4),
                    "gainers_share": _est(gain),
                    "losers_share": _est(loss),
                    "gainers": int(round(gain.value * holders)),
                    "losers": int(round(loss.value * holders)),
                }
            )
        name = GROUPS.get(dim, {"zh": strata.DIMENSION_ZH[dim], "en": "District"})
        out[dim] = {"name": {"zh": name["zh"], "en": name["en"]}, "labels": rows}
    return out


def _line(doc_line: dict[str, Any] | None, before: np.ndarray, after: np.ndarray, sample: domain.Sample) -> Any:
    """Where a line drawn at a threshold (and/or at the best share of the register) falls under each."""
    if not doc_line:
        return None
    threshold, share = doc_line.get("threshold"), doc_line.get("share")
    weights = sample.weights()
    out: dict[str, Any] = {"threshold": threshold, "share": share, "quota": None}
    for side, values in (("before", before), ("after", after)):
        cut = domain.quantile(values, weights, 1.0 - share) if share else None
        out[side] = {
            "qualified_share": _est(domain.mean(values >= threshold, sample)) if threshold is not None else None,
            "score_at_share": cut,
            "lowest_qualifying_score": cut,
        }
    if threshold is not None:
        out["newly_qualified_share"] = _est(domain.mean((after >= threshold) & (before < threshold), sample))
        out["no_longer_qualified_share"] = _est(domain.mean((before >= threshold) & (after < threshold), sample))
    out["movement"] = (
        None
        if out["before"]["score_at_share"] is None
        else round(out["after"]["score_at_share"] - out["before"]["score_at_share"], 4)
    )
    return out


def summarise(campaign: dict[str, Any], scored: Scored, counts: dict[str, int]) -> dict[str, Any]:
    """The report's figures (no personal data)."""
    doc = campaign["doc"]
    sizes = np.asarray(doc["register"], dtype=np.int64)
    drawn = scored.invited & (scored.stratum >= 0)
    sample = domain.Sample(scored.stratum[drawn].astype(np.int64), sizes)
    responded = sample.respondents
    weights = sample.weights()
    total = int(sizes.sum())
    plan = doc["plan"]["strata"]
    summary: dict[str, Any] = {
        "campaign": {
            "id": campaign["id"],
            "title_zh": doc["title_zh"],
            "opens_on": doc["period"]["opens_on"],
            "closes_on": doc["period"]["closes_on"],
            "cut_off_date": doc["cut_off_date"],
            "rule_sets": scored.rule_sets,
        },
        "confidence": 0.95,
        "population": {"holders": total, "covered_share": round(sample.covered, 4)},
        "participants": {
            **counts,
            "sampled_respondents": int(drawn.sum()),
            "volunteers": int((~scored.invited).sum()),
        },
        "strata": [
            {
                "name": s["name"],
                "where": s.get("where") or {},
                "target": s["target"],
                "on_register": int(sizes[h]),
                "invited": int(doc["invited"][h]),
                "responded": int(responded[h]),
                "response_rate": round(responded[h] / doc["invited"][h], 4) if doc["invited"][h] else None,
                "weight": round(sizes[h] / responded[h], 4) if responded[h] else None,
            }
            for h, s in enumerate(plan)
        ],
        "scores": [],
        "comparisons": [],
    }
    sampled = scored.totals[:, drawn]
    labels = [lab for lab, d in zip(scored.labels, drawn, strict=True) if d]
    for k, rs in enumerate(scored.rule_sets):
        summary["scores"].append(
            {
                "rule_set": rs["id"],
                "mean": _est(domain.mean(sampled[k], sample)),
                "volunteers_mean": round(float(scored.totals[k, ~scored.invited].mean()), 4)
                if (~scored.invited).any()
                else None,
            }
        )
    before = sampled[0]
    for k, rs in enumerate(scored.rule_sets[1:], start=1):
        after = sampled[k]
        delta = after - before
        summary["comparisons"].append(
            {
                "baseline": {"id": scored.rule_sets[0]["id"]},
                "draft": {"id": rs["id"]},
                "scores_are": "points totals",
                "mean_change": _est(domain.mean(delta, sample)),
                "gainers_share": _est(domain.mean(delta > 0, sample)),
                "losers_share": _est(domain.mean(delta < 0, sample)),
                "unchanged_share": _est(domain.mean(delta == 0, sample)),
                "histogram": histogram(before, after, weights),
                "line": _line(doc.get("line"), before, after, sample),
                "groups": _groups(delta, labels, sample, total),
            }
        )
    summary["declared_vs_verified"] = _declared(scored)
    return summary


def _declared(scored: Scored) -> dict[str, Any]:
    """Per indicator, among participants who declared facts: how many declarations score otherwise
    than the registries' facts, and by how much on average (declared − verified). Unweighted: those
    who declare are not a random sample."""
    rows: dict[str, dict[str, Any]] = {}
    for person in scored.declared:
        for indicator, (said, found) in person.items():
            row = rows.setdefault(indicator, {"indicator": indicator, "declared": 0, "disagree": 0, "difference": 0.0})
            row["declared"] += 1
            if abs(said - found) > 1e-9:
                row["disagree"] += 1
                row["difference"] += said - found
    out = []
    for indicator, row in rows.items():
        out.append(
            {
                "indicator": indicator,
                "name_zh": scored.indicator_names.get(indicator, indicator),
                "declared": row["declared"],
                "disagree": row["disagree"],
                "disagree_share": round(row["disagree"] / row["declared"], 4),
                "mean_difference": round(row["difference"] / row["declared"], 4),
            }
        )
    out.sort(key=lambda r: (-r["disagree"], r["indicator"]))
    return {"participants": len(scored.declared), "indicators": out}


def render(summary: dict[str, Any]) -> str:
    """The report page: the figures with the simulation report's charts, in Chinese."""
    figures = [
        {
            "distribution": charts.distribution(c),
            "key": charts.distribution_key(c),
            "groups": {g: charts.group(c, g) for g in c["groups"]},
        }
        for c in summary["comparisons"]
    ]
    return _env.get_template("campaign.html").render(
        s=summary,
        fig=figures,
        dimension_zh=strata.DIMENSION_ZH,
        label_zh=label_zh,
        colours={"gain": charts.GAIN, "loss": charts.LOSS},
    )
