"""Score each chunk of a population under the baseline and the draft; keep what a report needs.

Per holder only the two scores, statuses and group labels are kept (a few bytes each); every
per-indicator figure is summed as the chunks go by, so 6.2 million holders fit in little memory.
A module adds its own points and eligibility, and the line (threshold and/or quota) is drawn
over the whole population at the end, as a round would draw it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from services.scoring.engine.evaluate import SCORED, STATUSES, Evaluation, evaluate
from services.scoring.engine.modules import Module, ModuleResult, evaluate_module
from services.scoring.engine.population import Population
from services.scoring.engine.rules import RuleSet
from services.scoring.simulation.drafts import as_if_in_force
from services.scoring.simulation.population import GROUPS, group_codes, group_label_zh

BIN = 10.0  # points per bar of the score distribution


@dataclass
class Line:
    """Who a service admits: at least `threshold` points and/or the best `quota` candidates."""

    threshold: float | None = None
    quota: int | None = None

    @property
    def drawn(self) -> bool:
        return self.threshold is not None or self.quota is not None


@dataclass
class _Side:
    """One rule set's per-holder results, chunk by chunk."""

    score: list[np.ndarray] = field(default_factory=list)
    eligible: list[np.ndarray] = field(default_factory=list)
    status: list[np.ndarray] = field(default_factory=list)
    sort_keys: list[np.ndarray] = field(default_factory=list)

    def joined(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.concatenate(self.score), np.concatenate(self.eligible), np.concatenate(self.status)


class Comparison:
    def __init__(
        self, baseline: RuleSet, draft: RuleSet, cut_off: date, module: Module | None = None, line: Line | None = None
    ):
        self.baseline, self.draft = as_if_in_force(baseline, cut_off), as_if_in_force(draft, cut_off)
        self.cut_off, self.module = cut_off, module
        self.line = line or Line()
        if module is not None and not self.line.drawn and (rnd := module.round_on(cut_off)) is not None:
            self.line = Line(rnd.threshold, rnd.quota)  # the module's own current round
        base_ids = [i.id for i in self.baseline.indicators]
        self.indicators = base_ids + [i.id for i in self.draft.indicators if i.id not in base_ids]
        # A module's own indicators are rows too, named "<module>/<indicator>": with a module, the
        # rows add up to the module totals compared.
        self.module_rows = [f"{module.id}/{i.id}" for i in module.indicators] if module else []
        self.indicators += self.module_rows
        self.sides = {"before": _Side(), "after": _Side()}
        self.groups: dict[str, list[np.ndarray]] = {g: [] for g in GROUPS}
        k = len(self.indicators)
        self.points = {s: np.zeros(k) for s in self.sides}  # per indicator: sum over holders
        self.changed = np.zeros(k, dtype=np.int64)  # per indicator: holders whose points moved
        self.group_points = {g: {s: np.zeros((k, len(GROUPS[g]["labels"]))) for s in self.sides} for g in GROUPS}
        self.holders = 0

    def add(self, pop: Population) -> None:
        """One chunk of holders."""
        counted = {}
        for side, rs in (("before", self.baseline), ("after", self.draft)):
            ev = evaluate(rs, pop, self.cut_off)
            result = (
                None
                if self.module is None
                else evaluate_module(self.module, {ev.rule_set.id: ev.rule_set}, pop, self.cut_off, base=ev)
            )
            counted[side] = self._per_indicator(ev, result, pop.n)
            self._keep(self.sides[side], ev, result)
        codes = group_codes(pop, self.cut_off)
        for g, c in codes.items():
            self.groups[g].append(c)
        for g, c in codes.items():
            # Sums per (indicator, label) as one matrix product with the labels one-hot: one BLAS call,
            # not an indicator-by-indicator loop.
            one_hot = np.zeros((pop.n, len(GROUPS[g]["labels"])))
            one_hot[np.arange(pop.n), c] = 1.0
            for side in self.sides:
                self.group_points[g][side] += counted[side] @ one_hot
        for side in self.sides:
            self.points[side] += counted[side].sum(axis=1)
        self.changed += (counted["before"] != counted["after"]).sum(axis=1)
        self.holders += pop.n

    def _per_indicator(self, ev: Evaluation, result: ModuleResult | None, n: int) -> np.ndarray:
        """Counted points per row of the union, of the holders whose score is compared (scored; with a
        module, eligible for it): 0 elsewhere, and where the rule set lacks the indicator."""
        out = np.zeros((len(self.indicators), n))
        counts = ev.status_code == SCORED if result is None else result.eligible
        for row, ind in enumerate(ev.rule_set.indicators):
            out[self.indicators.index(ind.id)] = np.where(counts, ev.counted[row], 0.0)
        if result is not None and result.extra is not None:
            for row, name in enumerate(self.module_rows):
                out[self.indicators.index(name)] = np.where(counts, result.extra.counted[row], 0.0)
        return out

    def _keep(self, side: _Side, ev: Evaluation, result: ModuleResult | None) -> None:
        side.status.append(ev.status_code.copy())
        if result is None:
            side.score.append(ev.totals.astype(np.float32))
            side.eligible.append(ev.status_code == SCORED)
            side.sort_keys.append(ev.totals[None, :].astype(np.float64))
            return
        side.score.append(result.total.astype(np.float32))
        side.eligible.append(result.eligible)
        side.sort_keys.append(result.sort_keys)

    # -- the summary ---------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        joined = {side: self.sides[side].joined() for side in self.sides}  # once: 6.2 million rows each
        (b, be, bs), (a, ae, as_) = joined["before"], joined["after"]
        n = max(self.holders, 1)
        delta = a.astype(np.float64) - b
        groups = {g: np.concatenate(c) for g, c in self.groups.items()}
        qualified = {s: self._qualified(s, *joined[s][:2]) for s in self.sides}
        out: dict[str, Any] = {
            "holders": self.holders,
            "cut_off_date": self.cut_off.isoformat(),
            "baseline": _rule_set_doc(self.baseline),
            "draft": _rule_set_doc(self.draft),
            "module": None
            if self.module is None
            else {"id": self.module.id, "owner": self.module.owner, "name": self.module.name.model_dump()},
            "scores_are": "module totals (base points + module points)" if self.module else "points totals",
            "status": {"before": _counts(bs), "after": _counts(as_)},
            "score": {"before": _stats(b[be]), "after": _stats(a[ae])},
            "change": _change(delta),
            "indicators": self._indicator_rows(n),
            "histogram": histogram(b[be], a[ae]),
            "groups": {},
            "line": None,
        }
        for g, c in groups.items():
            labels = GROUPS[g]["labels"]
            rows = []
            for i, label in enumerate(labels):
                mine = c == i
                count = int(mine.sum())
                if count == 0:
                    continue
                d = delta[mine]
                gp = self.group_points[g]
                row = {
                    "label": label,
                    "label_zh": group_label_zh(g, label),
                    "holders": count,
                    "mean_before": float(b[mine].mean()),
                    "mean_after": float(a[mine].mean()),
                    "mean_change": float(d.mean()),
                    "gainers": int((d > 0).sum()),
                    "losers": int((d < 0).sum()),
                    "indicators": {
                        ind: round(float(gp["after"][k, i] - gp["before"][k, i]) / count, 4)
                        for k, ind in enumerate(self.indicators)
                        if gp["after"][k, i] != gp["before"][k, i]
                    },
                }
                if qualified["before"] is not None:
                    row["newly_qualified"] = int((qualified["after"] & ~qualified["before"] & mine).sum())
                    row["no_longer_qualified"] = int((qualified["before"] & ~qualified["after"] & mine).sum())
                rows.append(row)
            out["groups"][g] = {"name": {"zh": GROUPS[g]["zh"], "en": GROUPS[g]["en"]}, "labels": rows}
        if qualified["before"] is not None:
            out["line"] = {
                "threshold": self.line.threshold,
                "quota": self.line.quota,
                "before": self._line_doc(b, qualified["before"]),
                "after": self._line_doc(a, qualified["after"]),
                "newly_qualified": int((qualified["after"] & ~qualified["before"]).sum()),
                "no_longer_qualified": int((qualified["before"] & ~qualified["after"]).sum()),
            }
        return out

    def _qualified(self, side: str, score: np.ndarray, eligible: np.ndarray) -> np.ndarray | None:
        if not self.line.drawn:
            return None
        ok = eligible.copy()
        if self.line.threshold is not None:
            ok &= score >= self.line.threshold
        if self.line.quota is not None:
            keys = np.concatenate(self.sides[side].sort_keys, axis=1)
            # Rank as the round does: score, then the module's tie-breakers; the quota takes the first.
            order = np.lexsort([-k for k in reversed(keys)] + [~eligible])
            top = np.zeros(len(ok), dtype=bool)
            top[order[: min(self.line.quota, int(eligible.sum()))]] = True
            ok &= top
        return ok

    @staticmethod
    def _line_doc(score: np.ndarray, qualified: np.ndarray) -> dict[str, Any]:
        return {
            "qualified": int(qualified.sum()),
            "lowest_qualifying_score": float(score[qualified].min()) if qualified.any() else None,
        }

    def _indicator_rows(self, n: int) -> list[dict[str, Any]]:
        names = {i.id: i for rs in (self.draft, self.baseline) for i in rs.indicators}
        if self.module is not None:
            names.update({f"{self.module.id}/{i.id}": i for i in self.module.indicators})
        total_change = float(self.points["after"].sum() - self.points["before"].sum())
        rows = []
        for k, ind_id in enumerate(self.indicators):
            ind = names[ind_id]
            change = float(self.points["after"][k] - self.points["before"][k])
            rows.append(
                {
                    "indicator": ind_id,
                    "name_zh": ind.name.zh,
                    "name_en": ind.name.en,
                    "in_baseline": ind_id in self.module_rows or any(i.id == ind_id for i in self.baseline.indicators),
                    "in_draft": ind_id in self.module_rows or any(i.id == ind_id for i in self.draft.indicators),
                    "mean_before": float(self.points["before"][k]) / n,
                    "mean_after": float(self.points["after"][k]) / n,
                    "mean_change": change / n,
                    "holders_changed": int(self.changed[k]),
                    "share_of_change": change / total_change if total_change else 0.0,
                }
            )
        return rows


def _rule_set_doc(rs: RuleSet) -> dict[str, Any]:
    return {"id": rs.id, "name": rs.name.model_dump(), "content_hash": rs.content_hash}


def _counts(status: np.ndarray) -> dict[str, int]:
    counts = np.bincount(status.astype(np.int64), minlength=len(STATUSES))
    return {str(s): int(c) for s, c in zip(STATUSES, counts, strict=False)}


def _stats(v: np.ndarray) -> dict[str, float | None]:
    if len(v) == 0:
        return {"holders": 0, **{k: None for k in ("mean", "min", "p10", "p25", "median", "p75", "p90", "p99", "max")}}
    p = np.percentile(v, [10, 25, 50, 75, 90, 99])
    return {
        "holders": int(len(v)),
        "mean": float(v.mean()),
        "min": float(v.min()),
        "p10": float(p[0]),
        "p25": float(p[1]),
        "median": float(p[2]),
        "p75": float(p[3]),
        "p90": float(p[4]),
        "p99": float(p[5]),
        "max": float(v.max()),
    }


def _change(delta: np.ndarray) -> dict[str, Any]:
    gain, loss = delta > 0, delta < 0
    return {
        "gainers": int(gain.sum()),
        "losers": int(loss.sum()),
        "unchanged": int((delta == 0).sum()),
        "mean": float(delta.mean()) if len(delta) else 0.0,
        "mean_gain_of_gainers": float(delta[gain].mean()) if gain.any() else 0.0,
        "mean_loss_of_losers": float(delta[loss].mean()) if loss.any() else 0.0,
        "largest_gain": float(delta.max()) if len(delta) else 0.0,
        "largest_loss": float(delta.min()) if len(delta) else 0.0,
    }


def histogram(before: np.ndarray, after: np.ndarray, weights: np.ndarray | None = None) -> dict[str, list]:
    """Holders per band of BIN points, before and after (`weights`: each holder counts as that many,
    rounded to whole people; a campaign's respondents stand for their stratum)."""
    both = np.concatenate([before, after])
    if len(both) == 0:
        return {"edges": [], "before": [], "after": []}
    lo, hi = np.floor(both.min() / BIN) * BIN, np.floor(both.max() / BIN) * BIN + BIN
    edges = np.arange(lo, hi + BIN / 2, BIN)

    def counts(points: np.ndarray) -> list[int]:
        return np.round(np.histogram(points, edges, weights=weights)[0]).astype(int).tolist()

    return {"edges": edges.tolist(), "before": counts(before), "after": counts(after)}
