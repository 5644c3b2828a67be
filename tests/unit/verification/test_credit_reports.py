"""Forged materials leave a dishonesty record in the credit registry: owed with the desk's decision,
sent once by the credit department's reporter, waiting out an outage, audited in credit's chain."""

from __future__ import annotations

from datetime import UTC, datetime

from services.verification.audit.chain import verify_chain
from services.verification.credit_reports import report_owed
from services.verification.domain import DeskVerdict
from services.verification.seed import demo_id_number
from services.verification.use_cases import desk
from shared.outages import Unavailable
from tests.fakes import FakeUnitOfWork
from tests.unit.verification.fakes import FakeRegistries
from tests.unit.verification.test_use_cases import desk_with_task

# 2026-11-30 23:30 in UTC is already 1 December in Beijing: the listing carries Beijing's date.
DECIDED_AT = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)


async def forged_store():
    store = await desk_with_task()
    uow = FakeUnitOfWork(store)
    await desk.decide(uow, "housing", 1, desk.DeskDecision(DeskVerdict.FORGED, "altered lease"), "o", DECIDED_AT)
    return store


async def test_a_forged_decision_owes_one_dishonesty_record_dated_in_beijing():
    store = await forged_store()
    (report,) = store.credit_reports.values()
    assert report["act"].startswith("forgery-") and len(report["act"]) <= 40  # the registry's act length
    assert report["application_id"] == "APP-40" and report["id_number"] == demo_id_number(40)
    assert report["listed_on"].isoformat() == "2026-12-01" and report["state"] == "pending"
    # Confirming or returning an item owes nothing.
    other = await desk_with_task()
    await desk.decide(FakeUnitOfWork(other), "housing", 1, desk.DeskDecision(DeskVerdict.RETURN, "unreadable"), "o")
    assert other.credit_reports == {}


async def test_the_reporter_sends_each_record_once_and_audits_it_in_credits_chain():
    store = await forged_store()
    registries = FakeRegistries()
    assert await report_owed(lambda: FakeUnitOfWork(store), registries) == 1
    report = store.credit_reports[1]
    assert registries.listings == [
        {"id_number": demo_id_number(40), "act": report["act"], "listed_on": report["listed_on"]}
    ]
    assert store.credit_reports[1]["state"] == "sent"
    assert [e["fact"] for e in store.audit if e["department"] == "credit"] == ["dishonesty_reported"]
    assert (await verify_chain(FakeUnitOfWork(store), "credit")).intact
    assert await report_owed(lambda: FakeUnitOfWork(store), registries) == 0  # nothing owed any more
    assert len(registries.listings) == 1


async def test_an_outage_is_a_wait_and_a_refusal_is_recorded_and_retried():
    store = await forged_store()
    registries = FakeRegistries()
    registries.failing = Unavailable("credit registry: connection refused")
    try:
        await report_owed(lambda: FakeUnitOfWork(store), registries)
        raise AssertionError("an outage must reach the reporter's loop, which waits")
    except Unavailable:
        pass
    assert store.credit_reports[1]["state"] == "pending" and registries.listings == []
    registries.failing = ValueError("400 bad id number")
    assert await report_owed(lambda: FakeUnitOfWork(store), registries) == 0
    assert store.credit_reports[1]["state"] == "pending" and "bad id number" in store.credit_reports[1]["last_error"]
    registries.failing = None
    assert await report_owed(lambda: FakeUnitOfWork(store), registries) == 1
    assert store.credit_reports[1]["state"] == "sent" and store.credit_reports[1]["attempts"] == 2
