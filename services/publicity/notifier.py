"""Telling applicants their score. Notifications are written with the score's effect (so none is
lost), then delivered by a notifier: the outbox notifier leaves them in `publicity.notifications`
for local runs and tests to read; the SMS notifier posts them to the city's SMS gateway."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol

import httpx
from sqlalchemy import bindparam, select, update

from services.publicity.tables import notifications
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger("publicity.notifier")
MAX_ATTEMPTS = 8
DUE = (select(notifications).where(notifications.c.status == "pending",
                                   notifications.c.next_attempt_at <= bindparam("now"))
       .order_by(notifications.c.next_attempt_at).limit(bindparam("limit")).with_for_update(skip_locked=True))


class DeliveryFailed(Exception):
    pass


class Notifier(Protocol):
    status: str  # what a delivered notification is marked

    async def send(self, phone: str | None, body: str, reference: str) -> None: ...


class OutboxNotifier:
    """Delivers nowhere: the row in publicity.notifications is the message."""
    status = "recorded"

    async def send(self, phone: str | None, body: str, reference: str) -> None:
        return None


class SmsGatewayNotifier:
    status = "sent"

    def __init__(self, url: str, token: str, timeout: float = 5.0):
        self._client = httpx.AsyncClient(timeout=timeout, headers={"Authorization": f"Bearer {token}"})
        self._url = url

    async def send(self, phone: str | None, body: str, reference: str) -> None:
        if not phone:
            raise DeliveryFailed("no phone number on the application")
        try:
            response = await self._client.post(self._url, json={"phone": phone, "text": body, "reference": reference})
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"gateway unreachable: {exc!r}") from exc
        if response.status_code >= 400:
            raise DeliveryFailed(f"gateway answered {response.status_code}: {response.text[:200]}")

    async def aclose(self) -> None:
        await self._client.aclose()


def make_notifier(settings: Settings) -> Notifier:
    if settings.notifier == "sms":
        if not settings.sms_gateway_url:
            raise ValueError("NOTIFIER=sms needs SMS_GATEWAY_URL")
        return SmsGatewayNotifier(settings.sms_gateway_url, settings.sms_gateway_token)
    if settings.notifier != "outbox":
        raise ValueError(f"NOTIFIER must be 'outbox' or 'sms', not {settings.notifier!r}")
    return OutboxNotifier()


async def deliver_due(engine, notifier: Notifier, limit: int = 100) -> int:
    """Deliver what is due; a failure is retried later with backoff, and marked failed in the end.
    Rows are locked while sent (SKIP LOCKED), so replicas do not send one message twice."""
    now = datetime.now(timezone.utc)
    async with engine.begin() as conn:
        due = (await conn.execute(DUE, {"now": now, "limit": limit})).all()
        for n in due:
            try:
                await notifier.send(n.phone, n.body, f"{n.application_id}/{n.score_version}")
                values = {"status": notifier.status, "sent_at": now, "attempts": n.attempts + 1, "error": None}
            except DeliveryFailed as exc:
                attempts = n.attempts + 1
                values = {"attempts": attempts, "error": str(exc)[:500],
                          "next_attempt_at": now + timedelta(seconds=min(3600, 5 * 2 ** attempts))}
                if attempts >= MAX_ATTEMPTS:
                    values["status"] = "failed"
                log.warning("notification not delivered", application_id=n.application_id, attempts=attempts,
                            error=str(exc))
            await conn.execute(update(notifications).where(notifications.c.id == n.id).values(**values))
    return len(due)
