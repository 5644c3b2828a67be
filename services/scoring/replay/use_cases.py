"""Replay a finalised round under a draft: re-score each candidate from the departments' answers
of the score the round ranked them by (their round score), under the rules it was computed with
(the baseline, which must give back the published list) and under the draft; rank both as the round ranks; say who
enters and who leaves, by group, and per person which lines moved.

Nothing is written: the replay reads scoring's scores and kept texts, and publicity's list.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from services.scoring import domain as scoring
from services.scoring.engine.modules import Module, parse_module
from services.scoring.engine.population import Population
from services.scoring.engine.rules import RuleSet, parse_rule_set
from services.scoring.replay import domain
from services.scoring.replay.domain import Placed, Standing
from services.scoring.simulation.drafts import as_if_in_force
from services.scoring.simulation.population import GROUPS, group_codes, group_label_zh
from shared.clock import BEIJING

FINAL = "final"


class ReplayRefused(Exception):
    """Why a round cannot be replayed; the api turns it into a problem document."""

    def __init__(self, status: int, message: str, type_: str = "about:blank") -> None:
        super().__init__(message)
        self.status, self.message, self.type = status, message, type_


@dataclass
class Candidate:
    """One entry of the published list, and what scoring kept of its score."""

    entry: dict[str, Any]  # as publicity's candidates list gives it (masked name and ID number)
    row: Any = None  # the score row the round ranked (with applied_on)
    rule_set: RuleSet | None = None
    module: Module | None = None
    before: dict[str, Any] = field(default_factory=dict)  # the explanation recomputed under the same rules
    after: dict[str, Any] = field(default_factory=dict)  # under the draft
    labels: dict[str, str] = field(default_factory=dict)  # group -> label (Chinese)
    note: str = ""  # why it was not re-scored (it then keeps its stored standing on both sides)

    @property
    def application_id(self) -> str:
        return str(self.entry["application_id"])


async def load(
    store: Any, module_id: str, entries: list[dict[str, Any]], round_id: str | None = None
) -> list[Candidate]:
    """Each entry's score as the round ranked it (its round score, re-scored at the round's cut-off)
    and the texts it was computed with (the kept rule-set and module texts)."""
    ids = [e["application_id"] for e in entries]
    rows = {r.application_id: r for r in await store.latest_scores(ids, round_id)}
    texts: dict[str, Any] = {}

    async def text(content_hash: str) -> Any:
        if content_hash not in texts:
            texts[content_hash] = await store.text_by_hash(content_hash)
        return texts[content_hash]

    parsed: dict[str, Any] = {}
    out = []
    for e in entries:
        c = Candidate(e, rows.get(e["application_id"]))
        out.append(c)
        if c.row is None:
            c.note = "no score is kept for this application"
            continue
        if c.row.answers is None:
            c.note = "scored before determinations were kept: nothing to re-score from"
            continue
        module_hash = c.row.explanation.get("module_hashes", {}).get(module_id)
        kept_rules, kept_module = await text(c.row.rule_set_hash), await text(module_hash) if module_hash else None
        if kept_rules is None or kept_module is None:
            c.note = "the rule-set or module text it was scored with is not kept"
            continue
        if c.row.rule_set_hash not in parsed:
            parsed[c.row.rule_set_hash] = parse_rule_set(kept_rules.source, f"{c.row.rule_set_id} (kept)")
        if module_hash not in parsed:
            parsed[module_hash] = parse_module(kept_module.source, f"{module_id} (kept)")
        c.rule_set, c.module = parsed[c.row.rule_set_hash], parsed[module_hash]
    return out


def _rules_on(row: Any) -> date:
    on = row.explanation.get("rules_on")
    return date.fromisoformat(on) if on else row.cut_off_date


def rescore(candidates: list[Candidate], draft: RuleSet) -> None:
    """Score every candidate that can be re-scored under its own rules and under the draft, a batch
    per (rules, module, cut-off, rules' date, day scored): one vectorised evaluation each."""
    batches: dict[tuple[Any, ...], list[Candidate]] = defaultdict(list)
    for c in candidates:
        if c.rule_set is None or c.module is None:
            continue
        computed_on = c.row.computed_at.astimezone(BEIJING).date() if isinstance(c.row.computed_at, datetime) else None
        key = (c.rule_set.content_hash, c.module.content_hash, c.row.cut_off_date, _rules_on(c.row), computed_on)
        batches[key].append(c)
    for (_rs, _m, cut_off, rules_on, computed_on), batch in batches.items():
        rule_set, module = batch[0].rule_set, batch[0].module
        assert rule_set is not None and module is not None
        answers = [c.row.answers for c in batch]
        modules = {module.id: module}
        before = scoring.score_applications({rule_set.id: rule_set}, cut_off, answers, modules, computed_on, rules_on)
        in_force = as_if_in_force(draft, rules_on)
        after = scoring.score_applications({draft.id: in_force}, cut_off, answers, modules, computed_on, rules_on)
        facts = [scoring.application_facts(rule_set, a) for a in answers]
        codes = group_codes(Population.from_records(facts), cut_off)
        for i, c in enumerate(batch):
            c.before, c.after = before[i], after[i]
            c.labels = {group: group_label_zh(group, GROUPS[group]["labels"][int(codes[group][i])]) for group in GROUPS}


def _standing(c: Candidate, explanation: dict[str, Any], module_id: str) -> Standing:
    doc = explanation.get("modules", {}).get(module_id, {})
    return Standing(
        application_id=c.application_id,
        applied_on=c.row.applied_on,
        eligible=bool(doc.get("eligible")) and explanation.get("status") == "scored",
        total=float(doc.get("total", 0.0)),
        sort_key=tuple(float(k) for k in doc.get("sort_key", [])),
    )


def _masked(c: Candidate) -> dict[str, Any]:
    return {"entry": c.entry["entry"], "name": c.entry["name"], "id_number": c.entry["id_number"]}


async def replay(
    store: Any, round_doc: dict[str, Any], entries: list[dict[str, Any]], draft: RuleSet
) -> dict[str, Any]:
    """The replay's report (per-person lines under "people", which the api shows to officers only)."""
    if round_doc["status"] != FINAL:
        raise ReplayRefused(
            409,
            f"Round {round_doc['id']} is {round_doc['status']}: only a final list is replayed.",
            "/problems/round-not-final",
        )
    module_id = round_doc["module_id"]
    candidates = await load(store, module_id, entries, round_doc["id"])
    # Scoring a few thousand candidates twice is CPU work: off the event loop.
    await asyncio.to_thread(rescore, candidates, draft)
    quota, threshold = round_doc.get("quota"), round_doc.get("threshold")
    known = [c for c in candidates if c.row is not None]
    # One not re-scored keeps its stored standing on both sides: it moves only as others pass it.
    before = domain.rank([_standing(c, c.before or c.row.explanation, module_id) for c in known], quota, threshold)
    after = domain.rank([_standing(c, c.after or c.row.explanation, module_id) for c in known], quota, threshold)
    published = {
        c.application_id: Placed(int(c.entry["rank"]), float(c.entry["score"]), bool(c.entry["admitted"]))
        for c in candidates
    }
    move = domain.movement(before, after)
    by_id = {c.application_id: c for c in candidates}

    def moved(app: str) -> dict[str, Any]:
        b, a = before.get(app), after.get(app)
        return {
            **_masked(by_id[app]),
            "rank_before": b.rank if b else None,
            "rank_after": a.rank if a else None,
            "total_before": b.total if b else None,
            "total_after": a.total if a else None,
        }

    groups = domain.group_counts({c.application_id: c.labels for c in candidates}, before, after, by_id)
    differences = domain.disagreements(before, published)
    return {
        "round_id": round_doc["id"],
        "module_id": module_id,
        "draft": {"id": draft.id, "content_hash": draft.content_hash},
        "quota": quota,
        "threshold": threshold,
        "candidates": len(candidates),
        "rescored": sum(1 for c in candidates if c.before),
        "not_rescored": [{**_masked(c), "reason": c.note} for c in candidates if c.note],
        "baseline": {
            "admitted": len(domain.admitted(before)),
            "agrees_with_published_list": not differences,
            "differences": differences,
        },
        "admitted_before": len(domain.admitted(before)),
        "admitted_after": len(domain.admitted(after)),
        "admitted": [
            {**_masked(by_id[app]), "rank": p.rank, "total": p.total}
            for app, p in sorted(after.items(), key=lambda kv: kv[1].rank)
            if p.admitted
        ],
        "entering": [moved(a) for a in move.entering],
        "leaving": [moved(a) for a in move.leaving],
        "by_group": {
            group: {"name_zh": GROUPS[group]["zh"], "name_en": GROUPS[group]["en"], "labels": labels}
            for group, labels in groups.items()
        },
        "people": [
            {
                **_masked(c),
                "application_id": c.application_id,
                "total_before": before[c.application_id].total if c.application_id in before else None,
                "total_after": after[c.application_id].total if c.application_id in after else None,
                "lines": domain.line_differences(c.before, c.after, module_id),
            }
            for c in candidates
            if c.before and domain.line_differences(c.before, c.after, module_id)
        ],
    }
