"""Every SQL statement of verification, one method by intent, on the unit of work's transaction.

Statements are built once at import: a consumer batch runs them hundreds of times, and
building a Core statement costs more than running it. Writes nobody reads back in the same
transaction are deferred (`uow.later`) and batched at commit. The registries are not here:
they are a port of their own (registries.py), outside the platform.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.types import String

from services.verification.domain import GENESIS, DeskTaskState
from services.verification.tables import (
    audit_anchors,
    audit_heads,
    audit_log,
    campaign_draws,
    campaign_invitations,
    credit_reports,
    desk_tasks,
    owner_sources,
    results,
)

# ---- department results ------------------------------------------------------------------
ADD_RESULT = pg_insert(results).on_conflict_do_nothing()
RESULT = select(results).where(
    results.c.application_id == bindparam("application_id"), results.c.department == bindparam("department")
)
RESULT_FOR_UPDATE = RESULT.with_for_update()
ANSWERED = select(results.c.department).where(results.c.application_id == bindparam("application_id"))
# (An UPDATE's bind names may not be its columns' names.)
UPDATE_RESULT = (
    update(results)
    .where(results.c.application_id == bindparam("application"), results.c.department == bindparam("dept"))
    .values(items=bindparam("items"), facts=bindparam("facts"), verified_at=bindparam("verified_at"))
)

# ---- campaigns: a draw from the permit register, its invitations ----------------------------
CAMPAIGN_DRAW = select(campaign_draws).where(campaign_draws.c.campaign_id == bindparam("campaign_id"))
INVITATION = select(campaign_invitations.c.stratum).where(
    campaign_invitations.c.campaign_id == bindparam("campaign_id"),
    campaign_invitations.c.holder_key == bindparam("holder_key"),
)
FORGET_INVITATION = campaign_invitations.delete().where(
    campaign_invitations.c.campaign_id == bindparam("campaign_id"),
    campaign_invitations.c.holder_key == bindparam("holder_key"),
)

# ---- the desk ----------------------------------------------------------------------------
OWNER_SOURCE = select(owner_sources).where(owner_sources.c.owner == bindparam("owner"))
_PUT = pg_insert(owner_sources)
PUT_OWNER_SOURCE = _PUT.on_conflict_do_update(
    index_elements=[owner_sources.c.owner],
    set_={c: _PUT.excluded[c] for c in ("url", "credential", "registered_by", "registered_at")},
).returning(owner_sources)
ADD_DESK_TASK = pg_insert(desk_tasks).on_conflict_do_nothing()
DESK_TASK = select(desk_tasks).where(
    desk_tasks.c.id == bindparam("task_id"), desk_tasks.c.department == bindparam("department")
)
DESK_TASK_FOR_UPDATE = DESK_TASK.with_for_update()
DESK_QUEUE = (
    select(desk_tasks)
    .where(
        desk_tasks.c.department == bindparam("department"),
        desk_tasks.c.state == bindparam("state"),
        desk_tasks.c.id > bindparam("after"),
    )
    .order_by(desk_tasks.c.id)
    .limit(bindparam("limit"))
)
DECIDE_DESK_TASK = (
    update(desk_tasks)
    .where(desk_tasks.c.id == bindparam("task_id"))
    .values(
        state=DeskTaskState.DECIDED.value,
        decision=bindparam("decision"),
        decided_by=bindparam("decided_by"),
        decided_at=bindparam("decided_at"),
    )
)

# ---- dishonesty records owed to the credit registry ---------------------------------------
ADD_CREDIT_REPORT = pg_insert(credit_reports).on_conflict_do_nothing(index_elements=["act"])
PENDING_CREDIT_REPORTS = (
    select(credit_reports)
    .where(credit_reports.c.state == "pending")
    .order_by(credit_reports.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
CREDIT_REPORT_SENT = (
    update(credit_reports)
    .where(credit_reports.c.id == bindparam("report_id"))
    .values(state="sent", sent_at=bindparam("sent_at"), attempts=credit_reports.c.attempts + 1)
)
CREDIT_REPORT_FAILED = (
    update(credit_reports)
    .where(credit_reports.c.id == bindparam("report_id"))
    .values(attempts=credit_reports.c.attempts + 1, last_error=bindparam("error"))
)

# ---- the audit chains --------------------------------------------------------------------
LOCK_HEAD = select(audit_heads.c.last_hash).where(audit_heads.c.department == bindparam("dept")).with_for_update()
START_CHAIN = pg_insert(audit_heads).on_conflict_do_nothing()
APPEND = insert(audit_log)
MOVE_HEAD = update(audit_heads).where(audit_heads.c.department == bindparam("dept"))
LATEST_ANCHOR = (
    select(audit_anchors.c.entry_id, audit_anchors.c.hash)
    .where(audit_anchors.c.department == bindparam("dept"))
    .order_by(audit_anchors.c.entry_id.desc())
    .limit(1)
)
CHAIN = select(audit_log).where(audit_log.c.department == bindparam("dept")).order_by(audit_log.c.id)
# A department is anchored when its chain has moved since its last anchor, or when nothing has been
# published for it today; the head comes from the (department, id) index, one row per department.
ANCHOR = text("""
INSERT INTO verification.audit_anchors (department, entry_id, hash, published)
SELECT d.department, head.id, head.hash, NOT d.published_today
FROM (SELECT department, EXISTS (SELECT FROM verification.audit_anchors a WHERE a.department = u.department
                                 AND a.published AND a.anchored_at >= date_trunc('day', now())) AS published_today
      FROM unnest(:departments) AS u(department)) d
CROSS JOIN LATERAL (SELECT id, hash FROM verification.audit_log l WHERE l.department = d.department
                    ORDER BY id DESC LIMIT 1) head
WHERE NOT d.published_today
   OR NOT EXISTS (SELECT FROM verification.audit_anchors a WHERE a.department = d.department AND a.entry_id >= head.id)
RETURNING department, entry_id, hash, anchored_at, published""").bindparams(
    bindparam("departments", type_=ARRAY(String))
)


HEAD_MOVES = "verification:chain-head-moves"  # the unit of work's memo: each department's head, moved at commit


class Store:
    """Verification's SQL on one unit of work (`uow.store`)."""

    def __init__(self, uow: Any) -> None:
        self.uow = uow

    # ---- department results
    async def result(self, application_id: str, department: str, *, for_update: bool = False) -> Any:
        """The department's answer to the application (a row), or None; `for_update` locks it."""
        statement = RESULT_FOR_UPDATE if for_update else RESULT
        return (
            await self.uow.conn.execute(statement, {"application_id": application_id, "department": department})
        ).first()

    async def answered(self, application_id: str) -> set[str]:
        """The departments that have answered the application already."""
        return {row[0] for row in await self.uow.fetch(ANSWERED, {"application_id": application_id})}

    def add_result(
        self, application_id: str, department: str, items: list[dict], facts: dict, verified_at: datetime, context: dict
    ) -> None:
        """The department's first answer (a redelivered application adds nothing)."""
        self.uow.later(
            ADD_RESULT,
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
        self.uow.later(
            UPDATE_RESULT,
            {
                "application": application_id,
                "dept": department,
                "items": items,
                "facts": facts,
                "verified_at": verified_at,
            },
        )

    # ---- module owners' registries
    async def owner_source(self, owner: str) -> Any:
        """Where the owner's registry answers, with its credential (a row), or None."""
        return (await self.uow.conn.execute(OWNER_SOURCE, {"owner": owner})).first()

    async def put_owner_source(self, row: dict[str, Any]) -> Any:
        """Register (or replace) the owner's registry; returns the stored row."""
        return (await self.uow.conn.execute(PUT_OWNER_SOURCE, row)).one()

    # ---- the desk
    def add_desk_task(
        self, department: str, application_id: str, indicator: str, material: dict, supplement_deadline: Any
    ) -> None:
        """A supplemented item waits for an officer (one task per material, however often it is delivered).
        The column `deadline` is the applicant's supplement deadline."""
        self.uow.later(
            ADD_DESK_TASK,
            dict(
                department=department,
                application_id=application_id,
                indicator=indicator,
                material=material,
                material_id=material["id"],
                deadline=supplement_deadline,
                state=DeskTaskState.PENDING.value,
            ),
        )

    async def desk_task(self, department: str, task_id: int, *, for_update: bool = False) -> Any:
        statement = DESK_TASK_FOR_UPDATE if for_update else DESK_TASK
        return (await self.uow.conn.execute(statement, {"task_id": task_id, "department": department})).first()

    async def desk_queue(self, department: str, state: str, after: int, limit: int) -> list[Any]:
        """Up to `limit` of the department's tasks in `state` after task `after`, oldest first."""
        return list(
            (
                await self.uow.conn.execute(
                    DESK_QUEUE, {"department": department, "state": state, "after": after, "limit": limit}
                )
            ).all()
        )

    async def decide_desk_task(self, task_id: int, decision: dict, decided_by: str, decided_at: datetime) -> None:
        await self.uow.conn.execute(
            DECIDE_DESK_TASK,
            {"task_id": task_id, "decision": decision, "decided_by": decided_by, "decided_at": decided_at},
        )

    # ---- dishonesty records owed to the credit registry
    async def add_credit_report(self, report: dict[str, Any]) -> None:
        """Owe the credit registry a record (once per act: a second decision on it adds nothing)."""
        await self.uow.conn.execute(ADD_CREDIT_REPORT, report)

    async def pending_credit_reports(self, limit: int) -> list[Any]:
        """The oldest records not yet sent, locked (another reporter skips them)."""
        return list((await self.uow.conn.execute(PENDING_CREDIT_REPORTS, {"limit": limit})).all())

    async def credit_report_sent(self, report_id: int, sent_at: datetime) -> None:
        await self.uow.conn.execute(CREDIT_REPORT_SENT, {"report_id": report_id, "sent_at": sent_at})

    async def credit_report_failed(self, report_id: int, error: str) -> None:
        await self.uow.conn.execute(CREDIT_REPORT_FAILED, {"report_id": report_id, "error": error[:500]})

    # ---- the audit chains
    async def lock_chain_head(self, department: str) -> str:
        """The hash at the head of the department's chain, locked until commit (its first: the genesis)."""
        rows = await self.uow.fetch(LOCK_HEAD, {"dept": department})
        if not rows:  # the department's first query ever: start its chain
            await self.uow.conn.execute(START_CHAIN, {"department": department, "last_hash": GENESIS})
            rows = await self.uow.fetch(LOCK_HEAD, {"dept": department})
        head: str = rows[0][0]
        return head

    def add_audit_entry(self, entry: dict[str, Any]) -> None:
        self.uow.later(APPEND, entry)

    def move_chain_head(self, department: str, last_hash: str) -> None:
        # Once per department a transaction, at commit, to where the batch's last entry left it (not
        # once per event: a row updated ten times a batch is ten row versions for the same head).
        moves = self.uow.memo.setdefault(HEAD_MOVES, {})
        if department not in moves:
            moves[department] = {"dept": department, "last_hash": last_hash}
            self.uow.later(MOVE_HEAD, moves[department])
        moves[department]["last_hash"] = last_hash

    async def latest_anchor(self, department: str) -> Any:
        return (await self.uow.conn.execute(LATEST_ANCHOR, {"dept": department})).first()

    async def chain(self, department: str) -> AsyncIterator[Any]:
        """The department's audit entries in order, streamed (a chain can be long)."""
        async for row in await self.uow.conn.stream(CHAIN, {"dept": department}):
            yield row

    async def anchor_heads(self, departments: list[str]) -> list[Any]:
        """Record the departments' chain heads that moved (or were not published today); the rows added."""
        return list((await self.uow.conn.execute(ANCHOR, {"departments": departments})).all())

    # ---- campaigns ---------------------------------------------------------------------------
    async def campaign_draw(self, campaign_id: str) -> Any:
        return (await self.uow.conn.execute(CAMPAIGN_DRAW, {"campaign_id": campaign_id})).one_or_none()

    async def add_campaign_draw(self, draw: dict[str, Any], invitations: list[dict[str, Any]]) -> None:
        await self.uow.conn.execute(insert(campaign_draws), [draw])
        if invitations:
            await self.uow.conn.execute(insert(campaign_invitations), invitations)

    async def invited_to(self, campaign_id: str, holder_key: str) -> int | None:
        """The stratum the holder was drawn in, or None if not drawn (or withdrawn since)."""
        return await self.uow.conn.scalar(INVITATION, {"campaign_id": campaign_id, "holder_key": holder_key})

    async def forget_invitation(self, campaign_id: str, holder_key: str) -> None:
        await self.uow.conn.execute(FORGET_INVITATION, {"campaign_id": campaign_id, "holder_key": holder_key})
