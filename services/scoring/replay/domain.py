"""Pure rules of a replay: rank a round's candidates as publicity ranks them, compare two lists,
tell a person's line-by-line difference, count by group. No I/O, no clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Standing:
    """A candidate's result under one set of rules: what the round ranks them by."""

    application_id: str
    applied_on: date
    eligible: bool
    total: float
    sort_key: tuple[float, ...]  # the module total, then each tie-breaker signed so larger ranks first


@dataclass(frozen=True)
class Placed:
    rank: int
    total: float
    admitted: bool


def rank(standings: Iterable[Standing], quota: int | None, threshold: float | None) -> dict[str, Placed]:
    """The list a round would publish: the eligible, by sort key (larger first), then the earlier
    application, then the application id (publicity's RANK_ORDER); admitted within the quota and
    at or above the threshold. The ineligible are not on the list."""
    eligible = [s for s in standings if s.eligible]
    ordered = sorted(eligible, key=lambda s: (tuple(-k for k in s.sort_key), s.applied_on, s.application_id))
    return {
        s.application_id: Placed(
            rank=n,
            total=s.total,
            admitted=(quota is None or n <= quota) and (threshold is None or s.total >= threshold),
        )
        for n, s in enumerate(ordered, start=1)
    }


def admitted(placed: dict[str, Placed]) -> set[str]:
    return {a for a, p in placed.items() if p.admitted}


@dataclass(frozen=True)
class Movement:
    entering: list[str]  # admitted under the draft, not under the rules the round was scored with
    leaving: list[str]  # the other way round
    staying: list[str]


def movement(before: dict[str, Placed], after: dict[str, Placed]) -> Movement:
    """Who enters and who leaves the admitted list, each in the order of the list they are on."""
    was, now = admitted(before), admitted(after)
    return Movement(
        entering=sorted(now - was, key=lambda a: after[a].rank),
        leaving=sorted(was - now, key=lambda a: before[a].rank),
        staying=sorted(was & now, key=lambda a: after[a].rank),
    )


def disagreements(recomputed: dict[str, Placed], published: dict[str, Placed]) -> list[str]:
    """Where the list recomputed under the rules the round was scored with differs from the list
    published: each a sentence naming the application. Empty: the replay starts from the real list."""
    out = []
    for app in sorted(set(recomputed) | set(published)):
        a, b = recomputed.get(app), published.get(app)
        if a is None or b is None:
            where = "on the published list only" if a is None else "on the recomputed list only"
            out.append(f"{app}: {where}")
        elif (a.rank, a.admitted) != (b.rank, b.admitted) or abs(a.total - b.total) > 1e-9:
            out.append(
                f"{app}: recomputed rank {a.rank} ({a.total:g}, admitted {a.admitted}), "
                f"published rank {b.rank} ({b.total:g}, admitted {b.admitted})"
            )
    return out


def module_lines(explanation: dict[str, Any], module_id: str) -> list[dict[str, Any]]:
    """A score's lines that count towards the module total: the city's, then the module's own."""
    return list(explanation.get("lines", [])) + list(explanation.get("modules", {}).get(module_id, {}).get("lines", []))


def line_differences(before: dict[str, Any], after: dict[str, Any], module_id: str) -> list[dict[str, Any]]:
    """Per indicator whose points differ (or that only one side has): its names and both points."""
    old = {line["indicator"]: line for line in module_lines(before, module_id)}
    new = {line["indicator"]: line for line in module_lines(after, module_id)}
    out = []
    for indicator in list(old) + [i for i in new if i not in old]:
        a, b = old.get(indicator), new.get(indicator)
        points_before = float(a["points"]) if a else None
        points_after = float(b["points"]) if b else None
        if points_before == points_after:
            continue
        named = b or a
        assert named is not None  # one side at least has the indicator
        out.append(
            {
                "indicator": indicator,
                "category": named["category"],
                "name_zh": named["name_zh"],
                "name_en": named["name_en"],
                "points_before": points_before,
                "points_after": points_after,
            }
        )
    return out


def group_counts(
    labels: dict[str, dict[str, str]], before: dict[str, Placed], after: dict[str, Placed], candidates: Iterable[str]
) -> dict[str, dict[str, dict[str, int]]]:
    """Per group (age band, education...) and label: candidates, admitted before and after, entering, leaving.

    `labels[application][group]` is the candidate's label in that group."""
    move = movement(before, after)
    entering, leaving = set(move.entering), set(move.leaving)
    was, now = admitted(before), admitted(after)
    out: dict[str, dict[str, dict[str, int]]] = {}
    for app in candidates:
        for group, label in labels.get(app, {}).items():
            row = out.setdefault(group, {}).setdefault(
                label, {"candidates": 0, "admitted_before": 0, "admitted_after": 0, "entering": 0, "leaving": 0}
            )
            row["candidates"] += 1
            row["admitted_before"] += app in was
            row["admitted_after"] += app in now
            row["entering"] += app in entering
            row["leaving"] += app in leaving
    return out
