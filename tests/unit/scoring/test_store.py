"""Every statement of scoring's store compiles for PostgreSQL with the parameters its method passes
(a parameter named like a column in an UPDATE's WHERE, for one, fails only when run)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.dialects import postgresql

from services.scoring.store import Store

DIALECT = postgresql.asyncpg.dialect()


class _Result:
    rowcount = 1

    def all(self) -> list:
        return []

    def first(self) -> None:
        return None

    def scalars(self) -> _Result:
        return self


class RecordingUnitOfWork:
    """Keeps what the store would run (now, or at commit) instead of running it."""

    def __init__(self) -> None:
        self.ran: list[tuple[Any, dict]] = []
        self.conn = self
        self.memo: dict[str, Any] = {}

    async def execute(self, statement: Any, params: dict | None = None) -> _Result:
        self.ran.append((statement, params or {}))
        return _Result()

    async def scalar(self, statement: Any, params: dict | None = None) -> None:
        self.ran.append((statement, params or {}))

    def later(self, statement: Any, params: dict) -> None:
        self.ran.append((statement, params))

    async def run(self, statement: Any, params: dict) -> None:
        self.ran.append((statement, params))

    async def fetch(self, statement: Any, params: dict) -> list:
        self.ran.append((statement, params))
        return []


async def test_every_store_method_runs_statements_that_compile_with_its_parameters():
    uow = RecordingUnitOfWork()
    store = Store(uow)
    answer = {
        "application_id": "A",
        "department": "police",
        "expected_departments": ["police"],
        "cut_off_date": date(2026, 10, 1),
        "holder": {},
        "items": [],
        "facts": {},
        "review_deadline": None,
    }
    await store.answers("A")
    await store.add_answer(answer)
    await store.replace_answer("A", "tax", answer)  # an answer of an earlier transaction: an UPDATE
    before = len(uow.ran)
    await store.replace_answer("A", "police", {**answer, "facts": {"x": 2}})  # added in this one: in place
    assert len(uow.ran) == before and [p for s, p in uow.ran if p.get("department") == "police"][0]["facts"] == {"x": 2}
    store.add_application(
        {
            "application_id": "A",
            "principal": "p",
            "holder": {},
            "expected_departments": [],
            "applied_on": date(2026, 9, 1),
            "cut_off_date": date(2026, 10, 1),
            "review_deadline": None,
        }
    )
    await store.application("A")
    store.add_withdrawn("A", None)
    await store.is_withdrawn("A")
    await store.lock_overdue_sweep()
    await store.overdue(date(2026, 11, 30), 10)
    await store.latest_version("A")
    store.add_score(
        {
            "application_id": "A",
            "version": 1,
            "status": "scored",
            "total": 0.0,
            "rule_set_id": "r",
            "rule_set_hash": "h",
            "cut_off_date": date(2026, 10, 1),
            "holder": {},
            "explanation": {},
            "computed_at": None,
        }
    )
    await store.scores_newest_first("A")
    await store.score_version("A", 1)
    await store.submitted("A")
    await store.answered_by("A", {"police"})
    await store.published_rule_sets()
    await store.drafts()
    await store.rule_set_source("r")
    assert await store.put_draft(
        {
            "id": "r",
            "state": "draft",
            "source": "",
            "content_hash": "h",
            "effective_from": date(2099, 1, 1),
            "uploaded_by": "u",
        }
    )
    await store.rule_set_for_update("r")
    await store.mark_published("r", "root")
    await store.latest_modules()
    assert await store.add_module_version("m", "city", "", "h", "u") == 1
    assert len(uow.ran) == 25  # the module version: lock, latest, insert
    for statement, params in uow.ran:
        sql = str(statement.compile(dialect=DIALECT, column_keys=list(params)))
        assert sql  # a CompileError here names the statement's fault
