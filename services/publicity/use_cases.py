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


async def deliver_notifications(uow: Any, notifier: Notifier, now: datetime, limit: int = 100) -> int:
    """Deliver what is due; a failure is retried later with backoff, and marked failed in the end.
    Rows are locked while sent, so replicas do not send one message twice. Returns how many were tried."""
    due = await uow.store.due_notifications(now, limit)
    for n in due:
        try:
            await notifier.send(n.phone, n.body, f"{n.application_id}/{n.score_version}")
            values = {"status": notifier.status, "sent_at": now, "attempts": n.attempts + 1, "error": None}
        except DeliveryFailed as exc:
            attempts = n.attempts + 1
            values = {
                "attempts": attempts,
                "error": str(exc)[:500],
                "next_attempt_at": now + timedelta(seconds=min(3600, 5 * 2**attempts)),
            }
            if attempts >= MAX_ATTEMPTS:
                values["status"] = NotificationStatus.FAILED.value
            log.warning(
                "notification not delivered", application_id=n.application_id, attempts=attempts, error=str(exc)
            )
        await uow.store.record_delivery(n.id, **values)
    return len(due)
