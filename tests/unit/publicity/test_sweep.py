"""The periodic sweep (rounds move on) and the delivery of notifications, in memory."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.publicity import use_cases
from services.publicity.notifier import DeliveryFailed, OutboxNotifier
from tests.fakes import FakeUnitOfWork
from tests.unit.publicity.events import MODULE
from tests.unit.publicity.fake_store import FakeStore


class FailingGateway:
    status = "sent"

    def __init__(self) -> None:
        self.tried: list[str] = []

    async def send(self, phone, body, reference):
        self.tried.append(reference)
        raise DeliveryFailed("gateway answered 503")


async def test_the_sweep_closes_due_rounds_and_finalises_ended_lists_but_only_one_replica_sweeps():
    store = FakeStore()
    for round_id, status, closes in (("RND-A", "accepting", date(2026, 3, 20)), ("RND-B", "notice", date(2026, 2, 1))):
        await store.add_round(
            id=round_id,
            module_id=MODULE,
            owner="education",
            name={"zh": "积分入学"},
            candidate="holder",
            quota=1,
            threshold=None,
            acceptance_opens=date(2026, 1, 1),
            acceptance_closes=closes,
            cut_off_date=date(2025, 12, 31),
            notice_working_days=5,
        )
        store.rounds[round_id].update(status=status, notice_end=date(2026, 3, 1) if status == "notice" else None)
    store.sweep_lock_free = False
    assert await use_cases.sweep(FakeUnitOfWork(store), date(2026, 3, 23)) is None
    assert store.rounds["RND-A"].status == "accepting"
    store.sweep_lock_free = True
    uow = FakeUnitOfWork(store)
    swept = await use_cases.sweep(uow, date(2026, 3, 23))
    assert (swept.closed, swept.final) == (["RND-A"], ["RND-B"])
    assert store.rounds["RND-A"].status == "notice" and store.rounds["RND-B"].status == "final"
    assert [e.type for e in uow.emitted] == ["round.finalized"]


async def test_due_notifications_are_recorded_by_the_outbox_notifier():
    store = FakeStore()
    await store.add_notification(application_id="A1", score_version=1, phone="13800000000", body="【居住证积分】…")
    now = datetime.now(UTC) + timedelta(seconds=1)
    assert await use_cases.deliver_notifications(FakeUnitOfWork(store), OutboxNotifier(), now) == 1
    [n] = store.notifications
    assert (n.status, n.attempts, n.sent_at) == ("recorded", 1, now)
    assert await use_cases.deliver_notifications(FakeUnitOfWork(store), OutboxNotifier(), now) == 0


async def test_a_failed_delivery_is_retried_later_and_given_up_in_the_end():
    store = FakeStore()
    await store.add_notification(application_id="A1", score_version=1, phone="13800000000", body="x")
    gateway = FailingGateway()
    now = datetime.now(UTC) + timedelta(seconds=1)
    await use_cases.deliver_notifications(FakeUnitOfWork(store), gateway, now)
    [n] = store.notifications
    assert (n.status, n.attempts, n.error) == ("pending", 1, "gateway answered 503")
    assert n.next_attempt_at == now + timedelta(seconds=10)
    assert await use_cases.deliver_notifications(FakeUnitOfWork(store), gateway, now) == 0  # not due yet
    for _ in range(use_cases.MAX_ATTEMPTS - 1):
        now = n.next_attempt_at
        await use_cases.deliver_notifications(FakeUnitOfWork(store), gateway, now)
    assert (n.status, n.attempts) == ("failed", use_cases.MAX_ATTEMPTS) and gateway.tried == ["A1/1"] * 8
