"""Telling applicants their score: the notifier adapters. Notifications are written with the
score's effect (so none is lost), then delivered by a notifier (use_cases.deliver_notifications):
the outbox notifier leaves them in `publicity.notifications` for local runs and tests to read; the
SMS notifier posts them to the city's SMS gateway."""

from __future__ import annotations

from typing import Protocol

import httpx

from services.publicity.domain import NotificationStatus
from services.publicity.settings import PublicitySettings


class DeliveryFailed(Exception):
    pass


class Notifier(Protocol):
    status: str  # what a delivered notification is marked

    async def send(self, phone: str | None, body: str, reference: str) -> None: ...


class OutboxNotifier:
    """Delivers nowhere: the row in publicity.notifications is the message."""

    status = NotificationStatus.RECORDED.value

    async def send(self, phone: str | None, body: str, reference: str) -> None:
        return None


class SmsGatewayNotifier:
    status = NotificationStatus.SENT.value

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


def make_notifier(settings: PublicitySettings) -> Notifier:
    if settings.notifier == "sms":
        if not settings.sms_gateway_url:
            raise ValueError("NOTIFIER=sms needs SMS_GATEWAY_URL")
        return SmsGatewayNotifier(settings.sms_gateway_url, settings.sms_gateway_token)
    if settings.notifier != "outbox":
        raise ValueError(f"NOTIFIER must be 'outbox' or 'sms', not {settings.notifier!r}")
    return OutboxNotifier()
