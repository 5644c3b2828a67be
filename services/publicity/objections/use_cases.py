"""The objections' and reviews' operations: lodge one (and ask the departments to verify again),
take the departments' answers as scores are recomputed, and an officer's answer by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.publicity import domain
from services.publicity.domain import ObjectionKind, ObjectionStatus, RoundStatus
from shared.events import Envelope
from shared.events.catalogue import ReverificationRequested


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__("too many objections")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Lodge:
    """An objection (to a list entry, or to a score notice) or a holder's review request."""

    kind: ObjectionKind
    items: list[str]
    reason: str
    client: str  # a hash of the client's address, for the rate limit only
    round_id: str | None = None
    seq: int | None = None
    notice_id: str | None = None
    application_id: str | None = None
    contact_phone: str | None = None
    requested_by: str = "public"


async def _throttle(uow: Any, client: str, per_hour: int, now: datetime) -> None:
    """Objections per client per hour, counted in the database so every replica sees the same count."""
    recent = await uow.store.lodged_since(client, now - timedelta(hours=1))
    if len(recent) >= per_hour:
        raise RateLimited(max(1, int((recent[0] + timedelta(hours=1) - datetime.now(UTC)).total_seconds())))


async def lodge(uow: Any, command: Lodge, *, today: date, per_hour: int) -> dict[str, Any]:
    """Take an objection to a list entry or a score notice, or a holder's review request; ask the
    departments that own the items in question to verify them again. Returns the receipt."""
    store = uow.store
    kind = ObjectionKind(command.kind)
    application_id = command.application_id
    if kind == ObjectionKind.OBJECTION:
        await _throttle(uow, command.client, per_hour, datetime.now(UTC))
    if command.round_id is not None:
        r = await store.round(command.round_id)
        entry = None if r is None else await store.entry(command.round_id, command.seq or 0)
        if entry is None:
            raise domain.NotFound(f"No entry {command.seq or 0} in round {command.round_id}.", "entry")
        domain.objection_window(today, r.notice_end, r.status == RoundStatus.FINAL)
        application_id, due_by = entry.application_id, r.notice_end
    elif command.notice_id is not None:
        n = await store.notice(command.notice_id)
        if n is None:
            raise domain.NotFound(f"No notice {command.notice_id}.", "notice_id")
        domain.objection_window(today, n.period_end, False)
        application_id, due_by = n.application_id, n.period_end
    else:
        domain.objection_window(today, await store.review_window_end(application_id), False)
        due_by = domain.review_due(today)
    score = await store.score(application_id)
    if score is None:
        raise domain.ObjectionRefused(409, "This score is being recomputed; try again shortly.", "/problems/retry")
    departments = domain.departments_to_ask(
        command.items, score.lines, score.modules, public=kind == ObjectionKind.OBJECTION
    )
    objection_id = domain.new_id("OBJ" if kind == ObjectionKind.OBJECTION else "REV", today)
    now = datetime.now(UTC)
    row = dict(
        id=objection_id,
        kind=kind.value,
        application_id=application_id,
        round_id=command.round_id,
        seq=command.seq,
        notice_id=command.notice_id,
        items=command.items,
        reason=command.reason,
        contact_phone=command.contact_phone,
        client=command.client,
        status=ObjectionStatus.OPEN.value,
        pending_departments=departments,
        # A list entry shows the module's total (its owner's points included): compared as such.
        score_before=_module_total(score, r.module_id) if command.round_id is not None else score.total,
        due_by=due_by,
        lodged_at=now,
    )
    await store.add_objection(**row)
    uow.emit(
        Envelope.new(
            ReverificationRequested(
                # The kind and the id only: the objector's own words may name anyone (ID numbers, phones), and
                # stay here with the objection, where the officers read them.
                application_id=application_id,
                items=command.items,
                reason=f"{'异议' if kind == ObjectionKind.OBJECTION else '复核'} {objection_id}",
                requested_by=command.requested_by,
                requested_at=now,
                request_id=objection_id,
            ),
            source="publicity",
            subject=application_id,
        )
    )
    return row


async def request_review(
    uow: Any,
    *,
    application_id: str,
    id_number: str,
    salt: str | None,
    items: list[str],
    reason: str,
    client: str,
    requested_by: str,
    today: date,
    per_hour: int,
) -> dict[str, Any]:
    """The holder's review (复核) of their own score: the ID number must be the application's holder's."""
    if await uow.store.holder_key(application_id) != domain.candidate_key(id_number, salt):
        # Someone else's application answers like a missing one.
        raise domain.NotFound(f"No score of this holder under {application_id}.")
    return await lodge(
        uow,
        Lodge(
            kind=ObjectionKind.REVIEW,
            items=items,
            reason=reason,
            client=client,
            application_id=application_id,
            requested_by=requested_by,
        ),
        today=today,
        per_hour=per_hour,
    )


def _module_total(score: Any, module_id: str) -> float:
    return float((score.modules or {}).get(module_id, {}).get("total", score.total))


async def take_answers(
    uow: Any,
    answers_to: list[dict[str, str]],
    base_total: float,
    status: str,
    module_totals: dict[str, float] | None = None,
) -> list[str]:
    """A re-score that answers re-verification requests: close each request whose departments have all
    answered. An objection to a list entry compares the module's total (`module_totals`), as the list shows it."""
    closed = []
    for a in answers_to:
        pending = await uow.store.take_department_answer(a["request_id"], a["department"])
        if pending is None or pending:
            continue
        row = await uow.store.objection(a["request_id"])
        total = base_total
        if row.round_id is not None and module_totals:
            r = await uow.store.round(row.round_id)
            total = module_totals.get(r.module_id, base_total) if r is not None else base_total
        outcome = domain.outcome_text(status, total, row.score_before)
        await uow.store.update_objection(
            row.id,
            status=ObjectionStatus.RESOLVED.value,
            score_after=total,
            outcome=outcome,
            resolved_at=datetime.now(UTC),
        )
        closed.append(row.id)
    return closed


async def answer(uow: Any, objection_id: str, outcome: str, answered_by: str) -> Any:
    """An officer answers an open objection or review by hand; returns it answered."""
    row = await uow.store.answer_open_objection(
        objection_id,
        status=ObjectionStatus.ANSWERED.value,
        outcome=outcome,
        answered_by=answered_by,
        resolved_at=datetime.now(UTC),
    )
    if row is None:
        existing = await uow.store.objection(objection_id)
        if existing is None:
            raise domain.NotFound(f"No objection {objection_id}.")
        raise domain.ObjectionRefused(409, f"Objection {objection_id} is {existing.status}.")
    return row
