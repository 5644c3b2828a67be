"""Intake's store in memory: the same intents as services/intake/store.py, over a few dicts.

Its rules are the statements' (a bar guards the insert, one open application per holder, score
versions only move forward, an item's time moves only with its state), kept small and explicit so
a test reads the state a user would see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from services.intake.domain import IN_PROGRESS, ApplicationInProgress

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class FakeStore:
    applications: dict[str, SimpleNamespace] = field(default_factory=dict)
    items: dict[tuple[str, str], SimpleNamespace] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    bars: dict[str, SimpleNamespace] = field(default_factory=dict)
    materials: dict[str, dict[str, Any]] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    now: datetime = T0  # what the database's now() answers

    # --- the submission ---

    async def add_application(self, application: dict[str, Any], event_row: dict[str, Any]) -> bool:
        if await self.holder_bar(application["holder_id_number"], application["today"]) is not None:
            return False
        if any(
            a.holder_id_number == application["holder_id_number"] and a.status in IN_PROGRESS
            for a in self.applications.values()
        ):
            raise ApplicationInProgress()
        row = {k: v for k, v in application.items() if k != "today"}
        self.applications[row["id"]] = SimpleNamespace(
            **row,
            score_version=None,
            score_status=None,
            score_total=None,
            rule_set_id=None,
            notice_url=None,
            created_at=self.now,
            updated_at=self.now,
        )
        self.outbox.append(event_row)
        return True

    async def holder_bar(self, holder_id_number: str, today: date) -> Any:
        bar = self.bars.get(holder_id_number)
        return bar if bar is not None and bar.barred_until > today else None

    async def add_material(self, row: dict[str, Any]) -> None:
        self.materials[row["id"]] = {"uploaded_at": self.now, **row}

    # --- the partner's other writes ---

    async def withdraw(self, application_id: str) -> bool:
        a = self.applications[application_id]
        if a.status not in IN_PROGRESS:
            return False
        a.status = "withdrawn"
        return True

    async def add_timeline(self, entry: dict[str, Any]) -> None:
        self.timeline.append(entry)

    async def item_for_update(self, application_id: str, indicator: str) -> Any:
        return self.items.get((application_id, indicator))

    async def put_back_in_review(
        self, application_id: str, indicator: str, department: str, reason: str, at: datetime
    ) -> None:
        self.items[(application_id, indicator)] = SimpleNamespace(
            indicator=indicator, department=department, state="in_review", reason=reason, updated_at=at
        )

    # --- reads ---

    async def application(self, application_id: str) -> tuple[Any, list[Any], list[Any]] | None:
        row = self.applications.get(application_id)
        if row is None:
            return None
        items = sorted((i for (a, _), i in self.items.items() if a == application_id), key=lambda i: i.indicator)
        events = [
            SimpleNamespace(**e)
            for e in sorted((e for e in self.timeline if e["application_id"] == application_id), key=lambda e: e["at"])
        ]
        return row, items, events

    async def application_exists(self, application_id: str) -> bool:
        return application_id in self.applications

    async def applications_page(self, *, principal, status, intent, applied_from, applied_to, after, limit):
        rows = [
            a
            for a in self.applications.values()
            if (principal is None or a.principal == principal)
            and (not status or a.status == status)
            and (not intent or a.intent == intent)
            and (not applied_from or a.applied_on >= applied_from)
            and (not applied_to or a.applied_on <= applied_to)
            and (not after or (a.created_at, a.id) < after)
        ]
        return sorted(rows, key=lambda a: (a.created_at, a.id), reverse=True)[:limit]

    async def materials_of(self, application_id: str) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in m.items() if k != "content"}
            for m in sorted(self.materials.values(), key=lambda m: (m["uploaded_at"], m["id"]))
            if m["application_id"] == application_id
        ]

    async def material(self, application_id: str, material_id: str) -> dict[str, Any] | None:
        m = self.materials.get(material_id)
        if m is None or m["application_id"] != application_id:
            return None
        return {k: v for k, v in m.items() if k != "content"}

    async def material_content(self, application_id: str, material_id: str) -> Any:
        m = self.materials.get(material_id)
        if m is None or m["application_id"] != application_id:
            return None
        return SimpleNamespace(content=m["content"], media_type=m["media_type"], sha256=m["sha256"])

    # --- the event handlers' writes ---

    def set_item_state(
        self, application_id: str, indicator: str, department: str, state: str, reason: str | None
    ) -> None:
        old = self.items.get((application_id, indicator))
        moved = old is None or old.state != state
        self.items[(application_id, indicator)] = SimpleNamespace(
            indicator=indicator,
            department=department,
            state=state,
            reason=reason,
            updated_at=self.now if moved else old.updated_at,
        )

    def mark_verifying(self, application_id: str) -> None:
        a = self.applications.get(application_id)
        if a is not None and a.status == "submitted":
            a.status = "verifying"

    def set_score(
        self, application_id: str, *, version: int, status: str, total: float | None, rule_set_id: str | None
    ) -> None:
        a = self.applications.get(application_id)
        if a is None or a.status == "withdrawn" or (a.score_version or 0) >= version:
            return
        a.status, a.score_version, a.score_status, a.score_total, a.rule_set_id = (
            status,
            version,
            status,
            total,
            rule_set_id,
        )

    def bar_holder(self, application_id: str, barred_until: date, reason: str) -> None:
        a = self.applications.get(application_id)
        if a is None:
            return
        old = self.bars.get(a.holder_id_number)
        until = max(barred_until, old.barred_until) if old else barred_until
        self.bars[a.holder_id_number] = SimpleNamespace(
            barred_until=until, reason=reason, application_id=application_id
        )

    def set_notice(self, application_id: str, url: str) -> None:
        a = self.applications.get(application_id)
        if a is not None:
            a.notice_url = url

    def note_on_timeline(self, entry: dict[str, Any]) -> None:
        self.timeline.append(entry)
