"""Scoring's Store in memory (a few dicts): what handlers and use cases ask of services/scoring/store.py."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any


class FakeStore:
    def __init__(self) -> None:
        self.received: dict[str, dict[str, dict]] = {}  # application → department → answer
        self.applications: dict[str, dict] = {}
        self.withdrawn: dict[str, Any] = {}
        self.scores: dict[str, dict[int, dict]] = {}  # application → version → row
        self.rule_sets: dict[str, dict] = {}  # id → row (state, source, …)
        self.modules: dict[str, dict[int, dict]] = {}  # id → version → row
        self.texts: dict[str, dict] = {}  # content hash → kept rule-set or module text
        self.sweep_taken = False  # another replica holds the overdue sweep
        self.rounds: dict[str, dict] = {}  # round → {module_id, cut_off_date, rules_on, final, …}
        self.round_candidates: set[tuple[str, str]] = set()  # (round, application)

    # -- departments' answers
    async def answers(self, application_id: str) -> dict[str, dict]:
        return {d: dict(a) for d, a in sorted(self.received.get(application_id, {}).items())}

    async def add_answer(self, answer: dict[str, Any]) -> None:
        self.received.setdefault(answer["application_id"], {})[answer["department"]] = dict(answer)

    async def replace_answer(self, application_id: str, department: str, answer: dict[str, Any]) -> None:
        self.received[application_id][department].update(
            holder=answer["holder"], items=answer["items"], facts=answer["facts"]
        )

    # -- applications
    def add_application(self, row: dict[str, Any]) -> None:
        self.applications.setdefault(row["application_id"], dict(row))

    async def application(self, application_id: str) -> Any:
        row = self.applications.get(application_id)
        return None if row is None else SimpleNamespace(**row)

    def add_withdrawn(self, application_id: str, withdrawn_at: Any) -> None:
        self.withdrawn.setdefault(application_id, withdrawn_at)

    async def is_withdrawn(self, application_id: str) -> bool:
        return application_id in self.withdrawn

    async def lock_overdue_sweep(self) -> bool:
        return not self.sweep_taken

    async def overdue(self, today: date, limit: int) -> list[str]:
        def open_(app: str) -> bool:
            return app not in self.scores and app not in self.withdrawn

        out = [
            a
            for a, row in self.applications.items()
            if open_(a)
            and row["review_deadline"]
            and row["review_deadline"] < today
            and len(self.received.get(a, {})) < len(row["expected_departments"])
        ]
        for a, answers in self.received.items():
            deadlines = [x["review_deadline"] for x in answers.values() if x["review_deadline"]]
            expected = max(len(x["expected_departments"]) for x in answers.values())
            if open_(a) and a not in out and deadlines and min(deadlines) < today and len(answers) < expected:
                out.append(a)
        return out[:limit]

    # -- scores
    async def latest_version(self, application_id: str) -> int | None:
        return max(self.scores.get(application_id, {}), default=None)

    def add_score(self, row: dict[str, Any]) -> None:
        versions = self.scores.setdefault(row["application_id"], {})
        assert row["version"] not in versions, "the scores' primary key"
        versions[row["version"]] = dict(row)

    async def scores_newest_first(self, application_id: str) -> list[Any]:
        return [SimpleNamespace(**r) for _, r in sorted(self.scores.get(application_id, {}).items(), reverse=True)]

    async def latest_scores(self, application_ids: list[str], round_id: str | None = None) -> list[Any]:
        out = []
        for a in application_ids:
            row = (self._latest(a, round_id) if round_id else None) or self._latest(a, None)
            if row is not None:
                out.append(SimpleNamespace(**vars(row), applied_on=self.applications[a]["applied_on"]))
        return out

    # -- rounds
    async def add_round(self, row: dict[str, Any], application_ids: list[str]) -> None:
        self.rounds.setdefault(row["round_id"], {**row, "final": False})
        self.round_candidates |= {(row["round_id"], a) for a in application_ids}

    async def round(self, round_id: str) -> Any:
        row = self.rounds.get(round_id)
        return None if row is None else SimpleNamespace(**row)

    async def finalize_round(self, round_id: str) -> None:
        if round_id in self.rounds:
            self.rounds[round_id]["final"] = True

    async def open_rounds_of(self, application_ids: list[str]) -> list[Any]:
        return [
            SimpleNamespace(application_id=a, **self.rounds[r])
            for r, a in sorted(self.round_candidates)
            if a in application_ids and not self.rounds[r]["final"]
        ]

    def _latest(self, application_id: str, round_id: str | None) -> Any:
        rows = [r for r in self.scores.get(application_id, {}).values() if r.get("round_id") == round_id]
        return SimpleNamespace(**max(rows, key=lambda r: r["version"])) if rows else None

    async def latest_own_scores(self, application_ids: list[str]) -> dict[str, Any]:
        found = {a: self._latest(a, None) for a in application_ids}
        return {a: r for a, r in found.items() if r is not None}

    async def latest_round_scores(self, round_id: str, application_ids: list[str]) -> dict[str, Any]:
        found = {a: self._latest(a, round_id) for a in application_ids}
        return {a: r for a, r in found.items() if r is not None}

    async def latest_versions(self, application_ids: list[str]) -> dict[str, int]:
        return {a: max(self.scores[a]) for a in application_ids if self.scores.get(a)}

    async def score_version(self, application_id: str, version: int) -> Any:
        row = self.scores.get(application_id, {}).get(version)
        return None if row is None else SimpleNamespace(**row)

    async def submitted(self, application_id: str) -> Any:
        row = self.applications.get(application_id)
        return None if row is None else SimpleNamespace(principal=row["principal"], holder=row["holder"])

    async def answered_by(self, application_id: str, departments: set[str]) -> list[str]:
        return sorted(set(self.received.get(application_id, {})) & departments)

    # -- rule sets and X-modules
    async def published_rule_sets(self) -> list[tuple[str, str]]:
        return [(i, r["source"]) for i, r in self.rule_sets.items() if r["state"] == "published"]

    async def drafts(self) -> list[Any]:
        return [SimpleNamespace(**r) for r in self.rule_sets.values() if r["state"] == "draft"]

    async def rule_set_source(self, rule_set_id: str) -> str | None:
        row = self.rule_sets.get(rule_set_id)
        return None if row is None else row["source"]

    async def put_draft(self, row: dict[str, Any]) -> bool:
        if self.rule_sets.get(row["id"], {}).get("state") == "published":
            return False
        self.rule_sets[row["id"]] = {**row, "uploaded_at": datetime.now(UTC)}
        return True

    async def rule_set_for_update(self, rule_set_id: str) -> Any:
        row = self.rule_sets.get(rule_set_id)
        return None if row is None else SimpleNamespace(**row)

    async def mark_published(self, rule_set_id: str, by: str) -> None:
        self.rule_sets[rule_set_id].update(state="published", published_by=by)

    async def latest_modules(self) -> list[Any]:
        return [SimpleNamespace(**versions[max(versions)]) for versions in self.modules.values()]

    async def record_texts(self, texts: list[dict[str, Any]]) -> None:
        for t in texts:
            self.texts.setdefault(t["content_hash"], dict(t))

    async def text_by_hash(self, content_hash: str) -> Any:
        row = self.texts.get(content_hash)
        return None if row is None else SimpleNamespace(**row)

    async def add_module_version(self, module_id: str, owner: str, source: str, content_hash: str, by: str) -> int:
        versions = self.modules.setdefault(module_id, {})
        version = max(versions, default=0) + 1
        versions[version] = {
            "id": module_id,
            "version": version,
            "owner": owner,
            "source": source,
            "content_hash": content_hash,
            "created_by": by,
        }
        return version
