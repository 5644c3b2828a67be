"""Objections (异议) and reviews (复核): lodged, sent to the departments for re-verification,
answered when every department asked has answered and the application has been re-scored."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, insert, select, text, update

from services.publicity import domain
from services.publicity.tables import notices, objections, round_entries, rounds, scores
from shared.db import UnitOfWork
from shared.events import Envelope
from shared.events.catalogue import ReverificationRequested

TAKE_ANSWER = text("""
UPDATE publicity.objections SET pending_departments = pending_departments - CAST(:department AS text)
WHERE id = :id AND status = 'open' RETURNING pending_departments
""")
REVIEW_WINDOWS = text("""
SELECT max(end_on) FROM (
  SELECT max(period_end) AS end_on FROM publicity.notices WHERE application_id = :app
  UNION ALL
  SELECT max(r.notice_end) FROM publicity.round_entries e JOIN publicity.rounds r ON r.id = e.round_id
  WHERE e.application_id = :app AND r.status = 'notice') w
""")


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__("too many objections")
        self.retry_after = retry_after


async def _throttle(uow: UnitOfWork, client: str, per_hour: int) -> None:
    """Objections per client per hour, counted in the database so every replica sees the same count."""
    await uow.conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"objections:{client}"))))
    since = datetime.now(timezone.utc) - timedelta(hours=1)
    recent = (await uow.conn.execute(select(objections.c.lodged_at).where(
        objections.c.client == client, objections.c.lodged_at > since).order_by(objections.c.lodged_at))).scalars().all()
    if len(recent) >= per_hour:
        raise RateLimited(max(1, int((recent[0] + timedelta(hours=1) - datetime.now(timezone.utc)).total_seconds())))


async def target_of_entry(conn, round_id: str, seq: int) -> tuple[Any, Any]:
    r = (await conn.execute(select(rounds).where(rounds.c.id == round_id))).first()
    entry = None if r is None else (await conn.execute(select(round_entries).where(
        round_entries.c.round_id == round_id, round_entries.c.seq == seq))).first()
    if entry is None:
        raise domain.ObjectionRefused(404, f"No entry {seq} in round {round_id}.", "/problems/not-found", "entry")
    return r, entry


async def lodge(uow: UnitOfWork, *, kind: str, items: list[str], reason: str, client: str, today: date,
                per_hour: int, round_id: str | None = None, seq: int | None = None, notice_id: str | None = None,
                application_id: str | None = None, contact_phone: str | None = None,
                requested_by: str = "public") -> dict[str, Any]:
    """Take an objection to a list entry or a score notice, or a holder's review request; ask the
    departments that own the items in question to verify them again."""
    if kind == "objection":
        await _throttle(uow, client, per_hour)
    if round_id is not None:
        r, entry = await target_of_entry(uow.conn, round_id, seq or 0)
        domain.objection_window(today, r.notice_end, r.status == "final")
        application_id, due_by = entry.application_id, r.notice_end
    elif notice_id is not None:
        n = (await uow.conn.execute(select(notices).where(notices.c.id == notice_id))).first()
        if n is None:
            raise domain.ObjectionRefused(404, f"No notice {notice_id}.", "/problems/not-found", "notice_id")
        domain.objection_window(today, n.period_end, False)
        application_id, due_by = n.application_id, n.period_end
    else:
        window_end = await uow.conn.scalar(REVIEW_WINDOWS, {"app": application_id})
        domain.objection_window(today, window_end, False)
        due_by = domain.review_due(today)
    score = (await uow.conn.execute(select(scores).where(scores.c.application_id == application_id))).first()
    if score is None:
        raise domain.ObjectionRefused(409, "This score is being recomputed; try again shortly.", "/problems/retry")
    departments = domain.departments_to_ask(items, score.lines)
    objection_id = domain.new_id("OBJ" if kind == "objection" else "REV", today)
    now = datetime.now(timezone.utc)
    row = dict(id=objection_id, kind=kind, application_id=application_id, round_id=round_id, seq=seq,
               notice_id=notice_id, items=items, reason=reason, contact_phone=contact_phone, client=client,
               status="open", pending_departments=departments, score_before=score.total, due_by=due_by,
               lodged_at=now)
    await uow.conn.execute(insert(objections).values(**row))
    uow.emit(Envelope.new(ReverificationRequested(
        # The kind and the id only: the objector's own words may name anyone (ID numbers, phones), and
        # stay here with the objection, where the officers read them.
        application_id=application_id, items=items, reason=f"{'异议' if kind == 'objection' else '复核'} {objection_id}",
        requested_by=requested_by, requested_at=now, request_id=objection_id),
        source="publicity", subject=application_id))
    return public_view(row)


async def take_answers(uow: UnitOfWork, answers_to: list[dict[str, str]], total: float, status: str) -> list[str]:
    """A re-score that answers re-verification requests: close each request whose departments have all answered."""
    closed = []
    for a in answers_to:
        pending = (await uow.conn.execute(TAKE_ANSWER, {"id": a["request_id"], "department": a["department"]})).scalar()
        if pending is None or pending:
            continue
        row = (await uow.conn.execute(select(objections).where(objections.c.id == a["request_id"]))).one()
        if status != "scored":
            outcome = f"核查完成：积分状态为{status}。Re-verified: the score is now {status}."
        elif total == row.score_before:
            outcome = f"核查完成，积分不变（{total:g}分）。Re-verified: the score stands at {total:g}."
        else:
            outcome = (f"核查完成，积分由{row.score_before:g}分调整为{total:g}分。"
                       f"Re-verified: the score changes from {row.score_before:g} to {total:g}.")
        await uow.conn.execute(update(objections).where(objections.c.id == row.id).values(
            status="resolved", score_after=total, outcome=outcome, resolved_at=datetime.now(timezone.utc)))
        closed.append(row.id)
    return closed


def public_view(row: Any) -> dict[str, Any]:
    """An objection as its receipt shows it: no contact, no client address."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    return {"id": get("id"), "kind": get("kind"), "status": get("status"), "round_id": get("round_id"),
            "entry": get("seq"), "notice_id": get("notice_id"), "items": get("items"),
            "due_by": get("due_by").isoformat(), "lodged_at": get("lodged_at").isoformat(),
            "outcome": get("outcome"), "score_before": get("score_before"), "score_after": get("score_after")}
