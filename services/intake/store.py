"""Intake's store: every SQL statement of the service, one method by intent.

Statements are built once at import and executed with parameters: on the hot paths (the
submission, the consumer's batches) building a SQLAlchemy statement per call cost more CPU than
running it. A `Store` lives on a unit of work (`uow.store`: its transaction); `Store.outside(engine)`
is the same intents outside any transaction, each on a connection of its own: the reads, and
the submission's one-statement fast path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import Date, String, and_, bindparam, case, exists, func, insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.intake.domain import ApplicationInProgress, ApplicationStatus, ItemState
from services.intake.tables import (
    application_items,
    applications,
    holder_bars,
    idempotency_keys,
    materials,
    outbox,
    rate_limits,
    timeline,
)
from shared.db import OneStatement
from shared.idempotency import Idempotency

# --- the submission ------------------------------------------------------------------------------
_COLUMNS = [
    "id",
    "holder_id_number",
    "holder_name",
    "holder_phone",
    "permit_number",
    "intent",
    "principal",
    "acting_as",
    "declared_facts",
    "family",
    "delegation",
    "modules",
    "consent",
    "applied_on",
    "cut_off_date",
    "status",
]
# One statement: the application is added unless the holder is barred. Its items start
# "pending" and its first timeline entry is the row itself, so nothing else is written.
ADD_APPLICATION = (
    insert(applications)
    .from_select(
        _COLUMNS,
        select(*[bindparam(c, type_=applications.c[c].type) for c in _COLUMNS]).where(
            ~exists().where(
                holder_bars.c.holder_id_number == bindparam("holder_id_number"),
                holder_bars.c.barred_until > bindparam("today"),
            )
        ),
    )
    .returning(applications.c.id)
)
_EVENT_COLUMNS = ["event_id", "topic", "key", "event_type", "payload"]
# ... and its application.submitted event goes into the outbox in the same statement, so the
# application and the promise to announce it are written together or not at all.
ADD_APPLICATION_AND_EVENT = (
    insert(outbox)
    .from_select(
        _EVENT_COLUMNS,
        select(*[bindparam(f"event_{c}", type_=outbox.c[c].type) for c in _EVENT_COLUMNS]).select_from(
            ADD_APPLICATION.cte("added")
        ),
    )
    .returning(outbox.c.event_id)
)
SUBMIT = OneStatement(ADD_APPLICATION_AND_EVENT)
OPEN_PER_HOLDER = "uq_applications_open_per_holder"
BARRED = select(holder_bars).where(
    holder_bars.c.holder_id_number == bindparam("holder"), holder_bars.c.barred_until > bindparam("today")
)
IDEMPOTENCY = Idempotency(idempotency_keys)
# The upload limits' counters (shared.ratelimit runs its own statements on them).
RATE_LIMITS = rate_limits

# --- the partner's other writes ------------------------------------------------------------------
ADD_TIMELINE = insert(timeline)
ADD_MATERIAL = insert(materials)
WITHDRAW = (
    update(applications)
    .where(
        applications.c.id == bindparam("application_id"),
        applications.c.status.in_([ApplicationStatus.SUBMITTED.value, ApplicationStatus.VERIFYING.value]),
    )
    .values(status=ApplicationStatus.WITHDRAWN.value, updated_at=func.now())
    .returning(applications.c.id)
)
ITEM_FOR_UPDATE = (
    select(application_items)
    .where(
        application_items.c.application_id == bindparam("application_id"),
        application_items.c.indicator == bindparam("indicator"),
    )
    .with_for_update()
)
BACK_IN_REVIEW = pg_insert(application_items)
BACK_IN_REVIEW = BACK_IN_REVIEW.on_conflict_do_update(
    index_elements=[application_items.c.application_id, application_items.c.indicator],
    set_={
        "state": BACK_IN_REVIEW.excluded.state,
        "reason": BACK_IN_REVIEW.excluded.reason,
        "updated_at": BACK_IN_REVIEW.excluded.updated_at,
    },
)

# --- reads ---------------------------------------------------------------------------------------
APPLICATION = select(applications).where(applications.c.id == bindparam("application_id"))
ITEMS = (
    select(application_items)
    .where(application_items.c.application_id == bindparam("application_id"))
    .order_by(application_items.c.indicator)
)
TIMELINE = (
    select(timeline)
    .where(timeline.c.application_id == bindparam("application_id"))
    .order_by(timeline.c.at, timeline.c.id)
)
APPLICATION_EXISTS = select(applications.c.id).where(applications.c.id == bindparam("application_id"))
_LISTED = [c for c in materials.c if c.name != "content"]  # a listing never carries the bytes
MATERIALS = (
    select(*_LISTED)
    .where(materials.c.application_id == bindparam("application_id"))
    .order_by(materials.c.uploaded_at, materials.c.id)
)
_ONE_MATERIAL = and_(
    materials.c.application_id == bindparam("application_id"), materials.c.id == bindparam("material_id")
)
MATERIAL = select(*_LISTED).where(_ONE_MATERIAL)
MATERIAL_CONTENT = select(materials.c.content, materials.c.media_type, materials.c.sha256).where(_ONE_MATERIAL)

# --- the event handlers' writes (deferred to the batch's commit: nothing there reads them back) --
# Items have no row until a department answers (until then they read as pending).
SET_ITEM = pg_insert(application_items)
# The time only moves when the state does: a supplement deadline counts from the return itself,
# not from a later answer that repeats it.
SET_ITEM = SET_ITEM.on_conflict_do_update(
    index_elements=[application_items.c.application_id, application_items.c.indicator],
    set_={
        "state": SET_ITEM.excluded.state,
        "reason": SET_ITEM.excluded.reason,
        "updated_at": case(
            (application_items.c.state != SET_ITEM.excluded.state, func.now()), else_=application_items.c.updated_at
        ),
    },
)
MARK_VERIFYING = (
    update(applications)
    .where(applications.c.id == bindparam("application_id"), applications.c.status == ApplicationStatus.SUBMITTED.value)
    .values(status=ApplicationStatus.VERIFYING.value, updated_at=func.now())
)
# Versions only move forward: a late redelivery of version 1 never hides version 2.
SET_SCORE = (
    update(applications)
    .where(
        applications.c.id == bindparam("application_id"),
        applications.c.status != ApplicationStatus.WITHDRAWN.value,
        func.coalesce(applications.c.score_version, 0) < bindparam("version"),
    )
    .values(
        status=bindparam("status"),
        score_version=bindparam("version"),
        score_status=bindparam("score_status"),
        score_total=bindparam("total"),
        rule_set_id=bindparam("rule_set"),
        updated_at=func.now(),
    )
)
# A later bar never shortens an earlier one. The holder is found by the application: the bus
# carries no ID number downstream of the departments, and intake knows its own applicants.
BAR_HOLDER = pg_insert(holder_bars).from_select(
    ["holder_id_number", "barred_until", "reason", "application_id"],
    select(
        applications.c.holder_id_number,
        bindparam("barred_until", type_=Date),
        bindparam("reason", type_=String),
        applications.c.id,
    ).where(applications.c.id == bindparam("application_id")),
)
BAR_HOLDER = BAR_HOLDER.on_conflict_do_update(
    index_elements=[holder_bars.c.holder_id_number],
    set_={
        "barred_until": func.greatest(holder_bars.c.barred_until, BAR_HOLDER.excluded.barred_until),
        "reason": BAR_HOLDER.excluded.reason,
        "application_id": BAR_HOLDER.excluded.application_id,
    },
)
SET_NOTICE = (
    update(applications)
    .where(applications.c.id == bindparam("application_id"))
    .values(notice_url=bindparam("url"), updated_at=func.now())
)


class Store:
    def __init__(self, uow: Any, engine: AsyncEngine | None = None) -> None:
        self.uow = uow  # None: outside a transaction (see `outside`)
        self._engine = engine

    @classmethod
    def outside(cls, engine: AsyncEngine) -> Store:
        """The store outside a unit of work: every intent is a statement (or a read) of its own."""
        return cls(None, engine)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        if self.uow is not None:
            yield self.uow.conn
        else:
            assert self._engine is not None
            async with self._engine.connect() as conn:
                yield conn

    # --- the submission ---

    async def add_application(self, application: dict[str, Any], event_row: dict[str, Any]) -> bool:
        """Add the application and its application.submitted outbox row, unless the holder is
        barred (then False). Outside a transaction it is one statement straight on the driver:
        atomic by itself, one round trip (the hot path of POST /v1/applications)."""
        params = {**application, **{f"event_{k}": v for k, v in event_row.items()}}
        try:
            if self.uow is None:
                assert self._engine is not None
                return await SUBMIT.fetchrow(self._engine, params) is not None
            return (await self.uow.conn.execute(ADD_APPLICATION_AND_EVENT, params)).first() is not None
        except IntegrityError as exc:
            if OPEN_PER_HOLDER in str(exc.orig):
                raise ApplicationInProgress() from exc
            raise

    async def holder_bar(self, holder_id_number: str, today: date) -> Any:
        async with self._connection() as conn:
            return (await conn.execute(BARRED, {"holder": holder_id_number, "today": today})).first()

    async def add_material(self, row: dict[str, Any]) -> None:
        await self.uow.conn.execute(ADD_MATERIAL, row)

    # --- Idempotency-Key: claimed and answered in the request's own transaction ---

    async def claim_request(
        self, request: Request, principal: str, body_digest: str | None = None
    ) -> JSONResponse | None:
        return await IDEMPOTENCY.claim(self.uow.conn, request, principal, body_digest)

    async def remember_response(self, request: Request, principal: str, status_code: int, body: Any) -> None:
        await IDEMPOTENCY.remember(self.uow.conn, request, principal, status_code, body)

    # --- the partner's other writes ---

    async def withdraw(self, application_id: str) -> bool:
        """False when the application is past withdrawing (scored, or further)."""
        return (await self.uow.conn.execute(WITHDRAW, {"application_id": application_id})).first() is not None

    async def add_timeline(self, entry: dict[str, Any]) -> None:
        await self.uow.conn.execute(ADD_TIMELINE, entry)

    async def item_for_update(self, application_id: str, indicator: str) -> Any:
        """The item's row, locked until commit (None while no department has answered)."""
        return (
            await self.uow.conn.execute(ITEM_FOR_UPDATE, {"application_id": application_id, "indicator": indicator})
        ).first()

    async def put_back_in_review(
        self, application_id: str, indicator: str, department: str, reason: str, at: datetime
    ) -> None:
        await self.uow.conn.execute(
            BACK_IN_REVIEW,
            {
                "application_id": application_id,
                "indicator": indicator,
                "department": department,
                "state": ItemState.IN_REVIEW.value,
                "reason": reason,
                "updated_at": at,
            },
        )

    # --- reads ---

    async def application(self, application_id: str) -> tuple[Any, list[Any], list[Any]] | None:
        """The application's row, its answered items and its timeline, read on one connection."""
        async with self._connection() as conn:
            row = (await conn.execute(APPLICATION, {"application_id": application_id})).first()
            if row is None:
                return None
            items = (await conn.execute(ITEMS, {"application_id": application_id})).all()
            events = (await conn.execute(TIMELINE, {"application_id": application_id})).all()
        return row, items, events

    async def application_exists(self, application_id: str) -> bool:
        async with self._connection() as conn:
            return await conn.scalar(APPLICATION_EXISTS, {"application_id": application_id}) is not None

    async def applications_page(
        self,
        *,
        principal: str | None,
        status: str | None,
        intent: str | None,
        applied_from: date | None,
        applied_to: date | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Any]:
        """Newest first, keyset-paged after (created_at, id); `principal` None: everyone's."""
        a = applications
        q = select(a.c.id, a.c.status, a.c.intent, a.c.applied_on, a.c.score_total, a.c.score_version, a.c.created_at)
        if principal is not None:
            q = q.where(a.c.principal == principal)
        if status:
            q = q.where(a.c.status == status)
        if intent:
            q = q.where(a.c.intent == intent)
        if applied_from:
            q = q.where(a.c.applied_on >= applied_from)
        if applied_to:
            q = q.where(a.c.applied_on <= applied_to)
        if after:
            q = q.where(tuple_(a.c.created_at, a.c.id) < tuple_(*after))
        q = q.order_by(a.c.created_at.desc(), a.c.id.desc()).limit(limit)
        async with self._connection() as conn:
            return list((await conn.execute(q)).all())

    async def materials_of(self, application_id: str) -> list[dict[str, Any]]:
        async with self._connection() as conn:
            return [dict(r._mapping) for r in await conn.execute(MATERIALS, {"application_id": application_id})]

    async def material(self, application_id: str, material_id: str) -> dict[str, Any] | None:
        async with self._connection() as conn:
            row = (await conn.execute(MATERIAL, {"application_id": application_id, "material_id": material_id})).first()
        return None if row is None else dict(row._mapping)

    async def material_content(self, application_id: str, material_id: str) -> Any:
        async with self._connection() as conn:
            return (
                await conn.execute(MATERIAL_CONTENT, {"application_id": application_id, "material_id": material_id})
            ).first()

    # --- the event handlers' writes: deferred, each statement once for the consumer's whole batch ---

    def set_item_state(
        self, application_id: str, indicator: str, department: str, state: str, reason: str | None
    ) -> None:
        self.uow.later(
            SET_ITEM,
            {
                "application_id": application_id,
                "indicator": indicator,
                "department": department,
                "state": state,
                "reason": reason,
            },
        )

    def mark_verifying(self, application_id: str) -> None:
        self.uow.later(MARK_VERIFYING, {"application_id": application_id})

    def set_score(
        self, application_id: str, *, version: int, status: str, total: float | None, rule_set_id: str | None
    ) -> None:
        self.uow.later(
            SET_SCORE,
            {
                "application_id": application_id,
                "version": version,
                "status": status,
                "score_status": status,
                "total": total,
                "rule_set": rule_set_id,
            },
        )

    def bar_holder(self, application_id: str, barred_until: date, reason: str) -> None:
        self.uow.later(BAR_HOLDER, {"application_id": application_id, "barred_until": barred_until, "reason": reason})

    def set_notice(self, application_id: str, url: str) -> None:
        self.uow.later(SET_NOTICE, {"application_id": application_id, "url": url})

    def note_on_timeline(self, entry: dict[str, Any]) -> None:
        self.uow.later(ADD_TIMELINE, entry)
