"""Materials: what an upload may be for, a supplement to a returned item before (and after) its
deadline, and who may read them back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.intake import materials, use_cases
from services.intake.domain import (
    ApplicationClosed,
    ItemClosed,
    MaterialNotFound,
    NotVisible,
    SupplementDeadlinePassed,
    UnknownIndicator,
)
from services.intake.handlers import HANDLERS
from tests.fakes import FakeUnitOfWork, InMemoryBus
from tests.unit.intake.builders import APPLIED_ON, DESK, OTHER_WINDOW, PDF, WINDOW, submit, verified
from tests.unit.intake.fake_store import FakeStore

MIN_DAYS = 5
NOTICE = {
    "indicators": [{"id": "honours", "department": "civil_affairs"}, {"id": "district_bonus", "department": "housing"}]
}


def upload(application_id: str, indicator: str, department: str) -> use_cases.Upload:
    return use_cases.Upload(
        application_id,
        APPLIED_ON,
        indicator,
        department,
        PDF,
        materials.inspect(PDF, 1_000_000),
        "proof.pdf",
        WINDOW.principal,
    )


async def add(store: FakeStore, up: use_cases.Upload, today=APPLIED_ON):
    uow = FakeUnitOfWork(store)
    row = await use_cases.add_material(
        uow, up, min_working_days=MIN_DAYS, today=today, now=datetime.combine(today, datetime.min.time(), UTC)
    )
    await uow.commit()
    return row, uow.emitted


def test_an_upload_may_be_for_an_item_of_the_application_or_an_indicator_the_applicant_was_told_of():
    items = [{"indicator": "delegation", "department": "police"}, {"indicator": "tax", "department": "tax"}]
    targets = use_cases.upload_targets(NOTICE, items)
    assert targets == {"honours": "civil_affairs", "district_bonus": "housing", "delegation": "police", "tax": "tax"}
    assert use_cases.check_upload("APP-1", "verifying", "district_bonus", targets) == "housing"
    with pytest.raises(UnknownIndicator) as unknown:
        use_cases.check_upload("APP-1", "verifying", "lottery", targets)
    assert unknown.value.known == sorted(targets)
    with pytest.raises(ApplicationClosed):
        use_cases.check_upload("APP-1", "withdrawn", "tax", targets)
    assert use_cases.check_upload("APP-1", "refused", "delegation", targets) == "police"  # its proof may follow


async def test_evidence_for_a_pending_item_is_kept_and_the_department_told():
    store = FakeStore()
    application_id = (await submit(store)).application_id
    row, [told] = await add(store, upload(application_id, "honours", "civil_affairs"))
    assert row["purpose"] == "evidence" and "content" not in row
    assert store.materials[row["id"]]["content"] == PDF
    assert (told.type, told.data["department"], told.data["supplement"]) == (
        "application.material_added",
        "civil_affairs",
        False,
    )
    assert told.data["material"]["url"] == f"/v1/applications/{application_id}/materials/{row['id']}/content"
    assert store.items == {}  # nothing to put back in review
    assert store.timeline[-1]["summary"] == {"indicator": "honours", "material_id": row["id"], "supplement": False}


async def test_a_supplement_before_the_deadline_puts_the_returned_item_back_in_review():
    store = FakeStore()
    application_id = (await submit(store)).application_id
    store.now = datetime(2025, 3, 10, 9, tzinfo=UTC)  # returned a week after acceptance
    await InMemoryBus(HANDLERS, store).follow([verified(application_id, "tax", {"tax": "returned"})])
    deadline = materials.supplement_deadline(APPLIED_ON, store.now.date(), MIN_DAYS)
    row, [told] = await add(store, upload(application_id, "tax", "tax"), today=deadline)
    assert row["purpose"] == "supplement"
    assert told.data["supplement"] is True and told.data["supplement_deadline"] == deadline.isoformat()
    assert store.items[(application_id, "tax")].state == "in_review"
    assert store.items[(application_id, "tax")].reason == f"supplemented on {deadline.isoformat()}"


async def test_a_supplement_after_the_deadline_is_refused_and_the_item_stays_returned():
    store = FakeStore()
    application_id = (await submit(store)).application_id
    await InMemoryBus(HANDLERS, store).follow([verified(application_id, "tax", {"tax": "not_found"})])
    deadline = materials.supplement_deadline(APPLIED_ON, store.now.date(), MIN_DAYS)
    uow = FakeUnitOfWork(store)
    with pytest.raises(SupplementDeadlinePassed) as late:
        await use_cases.add_material(
            uow,
            upload(application_id, "tax", "tax"),
            min_working_days=MIN_DAYS,
            today=deadline + timedelta(days=1),
            now=datetime.now(UTC),
        )
    assert late.value.supplement_deadline == deadline
    assert store.items[(application_id, "tax")].state == "not_found" and store.materials == {} and uow.emitted == []


async def test_an_item_already_decided_takes_no_material():
    store = FakeStore()
    application_id = (await submit(store)).application_id
    await InMemoryBus(HANDLERS, store).follow([verified(application_id, "tax", {"tax": "passed"})])
    with pytest.raises(ItemClosed) as closed:
        await add(store, upload(application_id, "tax", "tax"))
    assert closed.value.state == "passed" and store.materials == {}


async def test_the_review_desk_reads_any_application_s_materials_and_another_partner_none():
    store = FakeStore()
    application_id = (await submit(store)).application_id
    row, _ = await add(store, upload(application_id, "honours", "civil_affairs"))
    kw = dict(scoring_base_url="http://scoring", min_working_days=MIN_DAYS)
    await use_cases.check_materials_readable(store, application_id, DESK, **kw)
    await use_cases.check_materials_readable(store, application_id, WINDOW, **kw)
    with pytest.raises(NotVisible):
        await use_cases.check_materials_readable(store, application_id, OTHER_WINDOW, **kw)
    with pytest.raises(NotVisible):
        await use_cases.check_materials_readable(store, "APP-20250303-000000000000", DESK, **kw)
    assert [m["id"] for m in await use_cases.materials_of(store, application_id)] == [row["id"]]
    assert (await use_cases.material(store, application_id, row["id"]))["sha256"] == row["sha256"]
    assert (await use_cases.material_content(store, application_id, row["id"])).content == PDF


async def test_a_material_is_found_only_under_its_own_application():
    store = FakeStore()
    mine = (await submit(store)).application_id
    other = (await submit(store, principal=OTHER_WINDOW, id_number="330106199001019999")).application_id
    row, _ = await add(store, upload(mine, "honours", "civil_affairs"))
    with pytest.raises(MaterialNotFound):
        await use_cases.material(store, other, row["id"])
    with pytest.raises(MaterialNotFound):
        await use_cases.material_content(store, other, row["id"])
