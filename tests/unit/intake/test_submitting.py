"""Submitting and withdrawing: who may act for whom, one open application per holder, what the
departments are told, and refusals that leave nothing written."""

from __future__ import annotations

from datetime import date

import pytest

from services.intake import use_cases
from services.intake.domain import (
    ApplicationInProgress,
    BarJustEnded,
    DelegationRefused,
    HolderBarred,
    MaterialRefused,
    TooLateToWithdraw,
)
from tests.fakes import FakeUnitOfWork
from tests.unit.intake.builders import (
    APPLIED_ON,
    EMPLOYER,
    GUARDIAN,
    MAX_BYTES,
    SALT,
    WINDOW,
    command,
    employers_claim,
    event_row,
    submit,
)
from tests.unit.intake.fake_store import FakeStore


async def test_a_submission_writes_the_application_and_announces_it_with_the_holder_masked():
    store = FakeStore()
    s = await submit(store)
    row = store.applications[s.application_id]
    assert (row.status, row.acting_as, row.principal, row.applied_on) == (
        "submitted",
        "window",
        "window-xihu-1",
        APPLIED_ON,
    )
    assert s.application_id.startswith("APP-20250303-")
    [announced] = store.outbox
    assert announced["event_type"] == "application.submitted" and announced["key"] == s.application_id
    data = announced["payload"]["data"]
    # The departments get the numbers their registries are keyed by; nobody downstream gets the name.
    assert data["holder"]["id_number"] == "330106199001011234" and data["holder"]["name_masked"] == "张*"
    assert "张三" not in str(announced["payload"])
    assert data["principal"] == "window-xihu-1" and data["cut_off_date"] == s.cut_off_date.isoformat()


async def test_a_holder_has_one_open_application_and_may_apply_again_after_withdrawing():
    store = FakeStore()
    first = await submit(store)
    with pytest.raises(ApplicationInProgress):
        await submit(store)
    assert list(store.applications) == [first.application_id] and len(store.outbox) == 1
    await use_cases.withdraw_application(FakeUnitOfWork(store), first.application_id, "submitted", WINDOW.principal)
    second = await submit(store)
    assert store.applications[second.application_id].status == "submitted"


async def test_a_barred_holder_is_told_until_when_and_nothing_is_written():
    store = FakeStore()
    store.bars["330106199001011234"] = type(
        "Bar", (), {"barred_until": date(2027, 5, 1), "reason": "forged materials"}
    )()
    with pytest.raises(HolderBarred) as refused:
        await submit(store)
    assert refused.value.barred_until == date(2027, 5, 1)
    assert store.applications == {} and store.outbox == []


async def test_a_bar_that_ends_between_the_two_statements_asks_to_send_again():
    class EndingBar(FakeStore):
        async def add_application(self, application, event_row):
            return False  # the insert's guard still saw the bar; the read after it does not

    with pytest.raises(BarJustEnded):
        await submit(EndingBar())


@pytest.mark.parametrize(
    "principal, claim, field",
    [
        (EMPLOYER, None, "delegation"),  # an employer must say it is one
        (WINDOW, employers_claim(), "delegation.relation"),  # only an employer's key is one
        (GUARDIAN, None, "delegation"),  # a guardian names whom it represents
    ],
)
async def test_who_may_act_for_whom(principal, claim, field):
    store = FakeStore()
    with pytest.raises(DelegationRefused) as refused:
        await submit(store, principal=principal, delegation=claim)
    assert refused.value.field == field
    assert store.applications == {} and store.materials == {}


async def test_an_employer_applies_with_the_written_authorisation_and_social_insurance_checks_it():
    store = FakeStore()
    s = await submit(store, principal=EMPLOYER, delegation=employers_claim())
    [letter] = store.materials.values()
    assert (letter["application_id"], letter["indicator"], letter["purpose"], letter["media_type"]) == (
        s.application_id,
        "delegation",
        "authorisation",
        "application/pdf",
    )
    assert s.delegation["employer_credit_code"] == "91330100MA27XXXX1X"
    assert s.delegation["authority"] == {
        "kind": "written_authorisation",
        "material_id": letter["id"],
        "sha256": letter["sha256"],
        "signed_on": "2025-02-20",
    }
    assert store.applications[s.application_id].acting_as == "employer"
    seen = await use_cases.application_state(
        store, s.application_id, EMPLOYER, scoring_base_url="http://scoring", min_working_days=5
    )
    assert {"indicator": "delegation", "department": "social_insurance", "state": "pending", "reason": None} in seen[
        "items"
    ]


async def test_an_authorisation_that_is_not_a_pdf_jpeg_or_png_is_refused_before_anything_is_written():
    store = FakeStore()
    with pytest.raises(MaterialRefused) as refused:
        use_cases.prepare_submission(
            command(delegation=employers_claim(b"<html>not a letter</html>")),
            EMPLOYER,
            today=APPLIED_ON,
            salt=SALT,
            material_max_bytes=MAX_BYTES,
        )
    assert (refused.value.field, refused.value.status) == ("delegation.authorisation.document", 415)
    assert store.applications == {} and store.materials == {}


async def test_withdrawing_records_it_and_tells_the_other_services():
    store = FakeStore()
    s = await submit(store)
    uow = FakeUnitOfWork(store)
    entry = await use_cases.withdraw_application(uow, s.application_id, "submitted", WINDOW.principal)
    await uow.commit()
    assert store.applications[s.application_id].status == "withdrawn"
    assert entry["event_type"] == "application.withdrawn" and entry["summary"] == {"principal": "window-xihu-1"}
    [told] = uow.emitted
    assert (told.type, told.subject, told.data["principal"]) == (
        "application.withdrawn",
        s.application_id,
        "window-xihu-1",
    )


async def test_a_scored_application_can_no_longer_be_withdrawn_and_nothing_is_announced():
    store = FakeStore()
    s = await submit(store)
    store.applications[s.application_id].status = "scored"
    uow = FakeUnitOfWork(store)
    with pytest.raises(TooLateToWithdraw) as refused:
        await use_cases.withdraw_application(uow, s.application_id, "scored", WINDOW.principal)
    assert refused.value.status == "scored"
    assert uow.emitted == [] and store.timeline == [] and store.applications[s.application_id].status == "scored"


def test_the_outbox_row_written_is_the_event_prepared():
    s = use_cases.prepare_submission(command(), WINDOW, today=APPLIED_ON, salt=SALT, material_max_bytes=MAX_BYTES)
    assert event_row(s.event)["payload"]["data"]["application_id"] == s.application_id == s.application["id"]
    assert s.application["today"] == APPLIED_ON and s.application["status"] == "submitted"
