"""Publicity's periodic operations (the sweep every PUBLICITY_SWEEP_SECONDS): rounds move on, closed
campaigns' codes go, and notifications are delivered. The rounds' and objections' own operations are
in their folders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from services.publicity.campaigns import use_cases as campaigns
from services.publicity.domain import NotificationStatus
from services.publicity.notifier import DeliveryFailed, Notifier
from services.publicity.rounds import use_cases as rounds
from shared.logging import get_logger

log = get_logger("publicity")
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Swept:
    closed: list[str] = field(default_factory=list)
    final: list[str] = field(default_factory=list)


async def sweep(uow: Any, today: date, base_url: str = "") -> Swept | None:
    """Close rounds whose acceptance ended, and make final the lists whose notice ended with nothing
    open (`base_url`: publicity's, where the owner fetches the admitted list). None when another
    replica is sweeping right now."""
    if not await uow.store.take_sweep_lock():
        return None
    await campaigns.forget_closed(uow, today)
    return Swept(
        closed=await rounds.close_due(uow, today),
        final=await rounds.finalize_due(uow, today, base_url=base_url),
    )


async def tell_candidates(uow: Any, limit: int) -> int:
    """A page of a published list's candidates told their place (rounds.use_cases.tell_candidates),
    by one replica at a time. Returns how many were read (0: none left, or another replica's turn)."""
    if not await uow.store.take_sweep_lock():
        return 0
    return await rounds.tell_candidates(uow, limit)


async def deliver_notifications(uow: Any, notifier: Notifier, now: datetime, limit: int = 100) -> int:
    """Deliver what is due; a failure is retried later with backoff, and marked failed in the end.
    Rows are locked while sent, so replicas do not send one message twice. Returns how many were tried."""
    due = await uow.store.due_notifications(now, limit)
    outcomes = []
    for n in due:
        # The gateway's reference: the score version told of, or the round whose list it tells of.
        reference = f"{n.round_id}/{n.application_id}" if n.round_id else f"{n.application_id}/{n.score_version}"
        attempts = n.attempts + 1
        try:
            await notifier.send(n.phone, n.body, reference)
            values = {"status": notifier.status, "sent_at": now, "error": None, "next_attempt_at": n.next_attempt_at}
        except DeliveryFailed as exc:
            values = {
                "status": NotificationStatus.FAILED.value if attempts >= MAX_ATTEMPTS else n.status,
                "sent_at": None,
                "error": str(exc)[:500],
                "next_attempt_at": now + timedelta(seconds=min(3600, 5 * 2**attempts)),
            }
            log.warning(
                "notification not delivered", application_id=n.application_id, attempts=attempts, error=str(exc)
            )
        outcomes.append({"id": n.id, "attempts": attempts, **values})
    await uow.store.record_deliveries(outcomes)
    return len(due)
