"""Verification's store, registries and materials source in memory, for unit tests of its handlers
and use cases (with tests/fakes.py's FakeUnitOfWork and InMemoryBus)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from services.verification.domain import GENESIS, DeskTaskState
from services.verification.seed import demo_id_number, demo_permit_number
from shared.events.catalogue import ApplicationSubmitted, Holder

CUT_OFF = date(2026, 11, 1)
APPLIED_ON = date(2026, 11, 2)


def submitted(n: int = 10, departments: tuple[str, ...] = ("police",), **more: Any) -> ApplicationSubmitted:
    return ApplicationSubmitted(
        application_id=f"APP-{n}",
        holder=Holder(name="张三", id_number=demo_id_number(n), permit_number=demo_permit_number(n)),
        applied_on=APPLIED_ON,
        cut_off_date=CUT_OFF,
        expected_departments=list(departments),
        **more,
    )


class FakeStore:
    """The Store's methods over dicts; deferred writes apply at once (nothing reads them back early)."""

    def __init__(self) -> None:
        self.results: dict[tuple[str, str], dict[str, Any]] = {}
        self.tasks: dict[int, dict[str, Any]] = {}
        self.audit: list[dict[str, Any]] = []
        self.heads: dict[str, str] = {}
        self.anchors: list[dict[str, Any]] = []
        self.credit_reports: dict[int, dict[str, Any]] = {}
        self.head_locks = 0  # how often a transaction read (and locked) a chain head
        self.sources: dict[str, SimpleNamespace] = {}

    # ---- module owners' registries
    async def owner_source(self, owner: str) -> Any:
        return self.sources.get(owner)

    async def put_owner_source(self, row: dict[str, Any]) -> Any:
        self.sources[row["owner"]] = SimpleNamespace(**row)
        return self.sources[row["owner"]]

    # ---- department results
    async def result(self, application_id: str, department: str, *, for_update: bool = False) -> Any:
        row = self.results.get((application_id, department))
        return None if row is None else SimpleNamespace(**copy.deepcopy(row))

    async def answered(self, application_id: str) -> set[str]:
        return {d for (a, d) in self.results if a == application_id}

    def add_result(
        self, application_id: str, department: str, items: list[dict], facts: dict, verified_at: datetime, context: dict
    ) -> None:
        self.results.setdefault(
            (application_id, department),
            dict(
                application_id=application_id,
                department=department,
                items=items,
                facts=facts,
                verified_at=verified_at,
                context=context,
            ),
        )

    def update_result(
        self, application_id: str, department: str, items: list[dict], facts: dict, verified_at: datetime
    ) -> None:
        row = self.results.get((application_id, department))
        if row is not None:
            row.update(items=items, facts=facts, verified_at=verified_at)

    # ---- the desk
    def add_desk_task(
        self, department: str, application_id: str, indicator: str, material: dict, supplement_deadline: date | None
    ) -> None:
        if any(t["department"] == department and t["material"]["id"] == material["id"] for t in self.tasks.values()):
            return
        task_id = len(self.tasks) + 1
        self.tasks[task_id] = dict(
            id=task_id,
            department=department,
            application_id=application_id,
            indicator=indicator,
            material=material,
            deadline=supplement_deadline,
            state=DeskTaskState.PENDING,
            decision=None,
            decided_by=None,
            created_at=datetime.now(UTC),
            decided_at=None,
        )

    async def desk_task(self, department: str, task_id: int, *, for_update: bool = False) -> Any:
        task = self.tasks.get(task_id)
        return SimpleNamespace(**task) if task and task["department"] == department else None

    async def desk_queue(self, department: str, state: str, after: int, limit: int) -> list[Any]:
        return [
            SimpleNamespace(**t)
            for i, t in sorted(self.tasks.items())
            if t["department"] == department and t["state"] == state and i > after
        ][:limit]

    async def decide_desk_task(self, task_id: int, decision: dict, decided_by: str, decided_at: datetime) -> None:
        self.tasks[task_id].update(
            state=DeskTaskState.DECIDED, decision=decision, decided_by=decided_by, decided_at=decided_at
        )

    # ---- dishonesty records owed to the credit registry
    async def add_credit_report(self, report: dict[str, Any]) -> None:
        if all(r["act"] != report["act"] for r in self.credit_reports.values()):
            report_id = len(self.credit_reports) + 1
            self.credit_reports[report_id] = dict(
                report, id=report_id, state="pending", attempts=0, last_error=None, sent_at=None
            )

    async def pending_credit_reports(self, limit: int) -> list[Any]:
        owed = [r for _, r in sorted(self.credit_reports.items()) if r["state"] == "pending"]
        return [SimpleNamespace(**r) for r in owed[:limit]]

    async def credit_report_sent(self, report_id: int, sent_at: datetime) -> None:
        r = self.credit_reports[report_id]
        r.update(state="sent", sent_at=sent_at, attempts=r["attempts"] + 1)

    async def credit_report_failed(self, report_id: int, error: str) -> None:
        r = self.credit_reports[report_id]
        r.update(attempts=r["attempts"] + 1, last_error=error)

    # ---- the audit chains
    async def lock_chain_head(self, department: str) -> str:
        self.head_locks += 1
        return self.heads.setdefault(department, GENESIS)

    def add_audit_entry(self, entry: dict[str, Any]) -> None:
        self.audit.append({**entry, "id": len(self.audit) + 1})

    def move_chain_head(self, department: str, last_hash: str) -> None:
        self.heads[department] = last_hash

    async def latest_anchor(self, department: str) -> Any:
        mine = [a for a in self.anchors if a["department"] == department]
        return SimpleNamespace(**max(mine, key=lambda a: a["entry_id"])) if mine else None

    async def chain(self, department: str) -> AsyncIterator[Any]:
        for entry in self.audit:
            if entry["department"] == department:
                yield SimpleNamespace(**entry)

    async def anchor_heads(self, departments: list[str]) -> list[Any]:
        """As the store's statement, but a day never ends: published when the department has none published."""
        added = []
        for department in departments:
            mine = [e for e in self.audit if e["department"] == department]
            if not mine:
                continue
            head = mine[-1]
            anchored = [a for a in self.anchors if a["department"] == department]
            published_today = any(a["published"] for a in anchored)
            if published_today and any(a["entry_id"] >= head["id"] for a in anchored):
                continue
            row = dict(
                department=department,
                entry_id=head["id"],
                hash=head["hash"],
                anchored_at=datetime.now(UTC),
                published=not published_today,
            )
            self.anchors.append(row)
            added.append(SimpleNamespace(**row))
        return added


class FakeRegistries:
    """The registries port, answering from what a test puts in it, and counting the questions."""

    def __init__(
        self,
        permits: dict[str, dict] | None = None,
        residence: dict[str, list[dict]] | None = None,
        spans: dict[str, list[dict]] | None = None,
        records: dict[str, dict[str, list[dict]]] | None = None,
        relations: dict[tuple[str, str], list[str]] | None = None,
        disabled: set[str] | None = None,
    ) -> None:
        self.permits, self.residence, self.spans = permits or {}, residence or {}, spans or {}
        self.records_by_lookup, self.relations, self.disabled = records or {}, relations or {}, disabled or set()
        self.districts: dict[str, list[dict]] = {}
        self.asked: list[tuple] = []
        self.listings: list[dict] = []  # the credit registry's dishonesty listings reported
        self.failing: Exception | None = None  # what report_dishonesty raises, when set

    async def ask_ahead(self, uow: Any, asks: list[Any]) -> None:
        self.asked_ahead = asks

    async def police(self, uow: Any, permit_number: str, id_number: str, cut_off: date):
        self.asked.append(("police", permit_number, id_number))
        return self.permits.get(permit_number), self.residence.get(id_number, []), self.districts.get(id_number, [])

    async def relation(self, uow: Any, id_number: str, relative: str, today: date):
        self.asked.append(("relation", id_number, relative))
        return sorted(self.relations.get((id_number, relative), [])), id_number in self.disabled

    async def records(self, uow: Any, lookup: str, id_number: str, cut_off: date, people: list[str] | None = None):
        self.asked.append(("records", lookup, id_number, tuple(people or [id_number])))
        return copy.deepcopy(self.records_by_lookup[lookup])

    async def social_insurance(self, uow: Any, id_number: str, cut_off: date):
        self.asked.append(("social_insurance", id_number))
        return self.spans.get(id_number, [])

    async def report_dishonesty(self, uow: Any, id_number: str, act: str, listed_on: date) -> None:
        self.asked.append(("report_dishonesty", id_number, act))
        if self.failing is not None:
            raise self.failing
        if (id_number, act) not in {(x["id_number"], x["act"]) for x in self.listings}:
            self.listings.append({"id_number": id_number, "act": act, "listed_on": listed_on})


class FakeMaterials:
    """Intake's materials API: the bytes by URL."""

    def __init__(self, stored: dict[str, bytes]) -> None:
        self.stored = stored
        self.fetched: list[str] = []

    async def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        return self.stored[url]
