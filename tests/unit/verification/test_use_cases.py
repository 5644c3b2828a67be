"""Verification's use cases with a fake unit of work: answers, the desk, results, the audit chains."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

import pytest

from services.verification.audit.anchors import anchor, anchor_now
from services.verification.audit.chain import append, verify_chain
from services.verification.domain import DeskTaskState, DeskVerdict, ItemState
from services.verification.seed import demo_credit_code, demo_id_number, demo_spouse_id_number
from services.verification.use_cases import answers, desk, results
from services.verification.use_cases.errors import (
    AlreadyDecided,
    FactsRefused,
    MaterialAltered,
    NoEarlierAnswer,
    NotVisible,
)
from shared.events.catalogue import Delegation, FamilyMember, Representative
from tests.fakes import FakeUnitOfWork
from tests.unit.verification.fakes import APPLIED_ON, FakeMaterials, FakeRegistries, FakeStore, submitted

PDF = b"%PDF-1.4 a scan of a rental contract"


def states(items: list[dict]) -> dict[str, str]:
    return {i["indicator"]: i["state"] for i in items}


# ---- answering ---------------------------------------------------------------------------
async def test_an_employers_delegation_holds_when_the_employer_pays_for_the_holder_now():
    code = demo_credit_code(1)
    holder = demo_id_number(20)
    spans = [
        {
            "start_month": date(2020, 1, 1),
            "end_month": APPLIED_ON.replace(day=1),
            "kind": "pension",
            "transferred_in": False,
            "back_paid": False,
            "employer_credit_code": code,
        }
    ]
    uow = FakeUnitOfWork(FakeStore())
    application = submitted(
        20, departments=("social_insurance",), delegation=Delegation(relation="employer", employer_credit_code=code)
    )
    assert await answers.answer_application(uow, "social_insurance", FakeRegistries(spans={holder: spans}), application)
    other = submitted(
        20,
        departments=("social_insurance",),
        delegation=Delegation(relation="employer", employer_credit_code=demo_credit_code(2)),
    )
    other = other.model_copy(update={"application_id": "APP-20b"})
    await answers.answer_application(uow, "social_insurance", FakeRegistries(spans={holder: spans}), other)

    first, second = (e.data for e in uow.emitted)
    assert states(first["items"]) == {"social_insurance": "passed", "employment": "passed", "delegation": "passed"}
    assert states(second["items"])["delegation"] == "returned"
    assert [e["fact"] for e in uow.store.audit] == ["social_insurance", "employment"] * 2


async def test_a_relatives_delegation_rests_on_the_household_registry():
    holder, spouse = demo_id_number(30), demo_id_number(31)
    registries = FakeRegistries(records={"police_records": {"offences": []}}, relations={(holder, spouse): ["spouse"]})
    uow = FakeUnitOfWork(FakeStore())
    claimed = Delegation(relation="parent", grounds="elderly", representative=Representative(id_number=spouse))
    await answers.answer_application(uow, "police", registries, submitted(30, delegation=claimed))

    (answer,) = uow.emitted
    delegation = next(i for i in answer.data["items"] if i["indicator"] == "delegation")
    assert delegation["state"] == "returned" and "registered: spouse" in delegation["reason"]
    assert ("relation", holder, spouse) in registries.asked
    assert "household_relation" in [e["fact"] for e in uow.store.audit]


async def test_housing_counts_the_familys_homes_and_records_what_the_applicant_declared():
    holder, spouse = demo_id_number(40), demo_spouse_id_number(40)
    registries = FakeRegistries(
        records={"housing": {"homes": [{"id_number": spouse, "acquired_on": "2019-05-01"}], "rentals": []}}
    )
    uow = FakeUnitOfWork(FakeStore())
    application = submitted(
        40,
        departments=("housing",),
        declared_facts={"own_home": False},
        family=[FamilyMember(relation="spouse", id_number=spouse, name_masked="李*", id_number_masked="1*****")],
    )
    await answers.answer_application(uow, "housing", registries, application)

    assert registries.asked == [("records", "housing", holder, (holder, spouse))]
    stored = uow.store.results[("APP-40", "housing")]
    assert stored["facts"]["own_home"] is True
    assert stored["items"] == [{"indicator": "housing", "state": "passed", "reason": None, "declared": False}]
    assert uow.store.audit[0]["query"]["people"] == [holder, spouse]


# ---- the audit chains --------------------------------------------------------------------
async def test_a_batch_extends_a_chain_with_one_lock_and_the_chain_checks_out():
    store = FakeStore()
    uow = FakeUnitOfWork(store)
    for n in range(3):
        await append(uow, "tax", f"APP-{n}", "verifier:tax (application)", [("payments", {"id_number": "x"}, [n])])
    await append(uow, "education", "APP-0", "verifier:education (application)", [("degrees", {}, [])])

    assert store.head_locks == 2  # one per department, not one per event
    assert [e["prev_hash"] for e in store.audit[1:3]] == [e["hash"] for e in store.audit[0:2]]
    assert store.audit[0]["response"] == {"sha256": hashlib.sha256(b"[0]").hexdigest(), "records": 1}
    later = FakeUnitOfWork(store)  # the next transaction goes on from where the last one left the head
    await append(later, "tax", "APP-9", "verifier:tax (application)", [("payments", {}, [])])
    assert store.audit[-1]["prev_hash"] == store.audit[2]["hash"]
    check = await verify_chain(FakeUnitOfWork(store), "tax")
    assert check.intact and check.entries_checked == 4 and check.last_entry == 5


async def test_an_edited_entry_breaks_the_chain_where_it_is_and_a_cut_tail_shows_against_the_anchor():
    store = FakeStore()
    uow = FakeUnitOfWork(store)
    for n in range(3):
        await append(uow, "tax", f"APP-{n}", "verifier:tax (application)", [("payments", {}, [n])])
    assert await anchor(uow, ["tax", "education"]) == 1  # education has no chain yet
    (published,) = uow.emitted
    assert published.type == "audit.chain_anchored" and published.data["entry_id"] == 3
    assert await anchor(uow, ["tax"]) == 0  # nothing moved, and today's anchor is published

    store.audit[1]["requester"] = "someone else"
    broken = await verify_chain(FakeUnitOfWork(store), "tax")
    assert not broken.intact and broken.first_broken_entry == 2 and broken.entries_checked == 1

    store.audit[1]["requester"] = "verifier:tax (application)"
    del store.audit[2]
    cut = await verify_chain(FakeUnitOfWork(store), "tax")
    assert not cut.intact and cut.first_broken_entry is None and cut.anchored_entry == 3
    assert "tail was cut off" in cut.reason


# ---- the desk ----------------------------------------------------------------------------
async def desk_with_task(indicator: str = "housing", department: str = "housing") -> FakeStore:
    """A store where the department answered APP-40 and the applicant supplemented `indicator`."""
    store = FakeStore()
    uow = FakeUnitOfWork(store)
    registries = FakeRegistries(records={"housing": {"homes": [], "rentals": []}})
    await answers.answer_application(uow, department, registries, submitted(40, departments=(department,)))
    material = {
        "id": "M-1",
        "media_type": "application/pdf",
        "size": len(PDF),
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "url": "/v1/materials/M-1",
    }
    store.add_desk_task(department, "APP-40", indicator, material, date(2026, 12, 1))
    return store


async def test_the_desk_queue_pages_through_the_departments_pending_tasks():
    store = FakeStore()
    for n in range(5):
        store.add_desk_task("housing", f"APP-{n}", "housing", {"id": f"M-{n}"}, None)
    store.add_desk_task("tax", "APP-9", "tax", {"id": "M-9"}, None)
    uow = FakeUnitOfWork(store)

    page, following = await desk.desk_queue(uow, "housing", DeskTaskState.PENDING, 0, 2)
    assert [t.application_id for t in page] == ["APP-0", "APP-1"] and following == 2
    page, following = await desk.desk_queue(uow, "housing", DeskTaskState.PENDING, 4, 2)
    assert [t.application_id for t in page] == ["APP-4"] and following is None
    with pytest.raises(NotVisible):
        await desk.desk_task(uow, "housing", 6)  # the tax department's


async def test_opening_a_material_checks_it_against_its_upload_and_audits_the_opening():
    store = await desk_with_task()
    audited = len(store.audit)
    materials = FakeMaterials({"/v1/materials/M-1": PDF})
    opened = await desk.open_material(lambda: FakeUnitOfWork(store), materials, "housing", 1, "officer:housing-1")
    assert opened.content == PDF and opened.media_type == "application/pdf"
    assert opened.sha256 == hashlib.sha256(PDF).hexdigest()
    entry = store.audit[audited]
    assert (entry["requester"], entry["fact"], entry["query"]) == (
        "officer:housing-1",
        "material",
        {"material_id": "M-1", "indicator": "housing"},
    )

    tampered = FakeMaterials({"/v1/materials/M-1": PDF + b"!"})
    with pytest.raises(MaterialAltered):
        await desk.open_material(lambda: FakeUnitOfWork(store), tampered, "housing", 1, "officer:housing-1")
    with pytest.raises(NotVisible):
        await desk.open_material(lambda: FakeUnitOfWork(store), materials, "tax", 1, "officer:tax-1")
    assert len(store.audit) == audited + 1 and materials.fetched == ["/v1/materials/M-1"]


async def test_a_confirmation_revises_the_departments_answer_once():
    store = await desk_with_task()
    uow = FakeUnitOfWork(store)
    rentals = [{"start": "2024-01-01", "end": None}]
    await desk.decide(
        uow, "housing", 1, desk.DeskDecision(DeskVerdict.CONFIRM, None, {"rental_spans": rentals}), "officer:housing-1"
    )

    (answer,) = [e for e in uow.emitted if e.type == "verification.completed"]
    assert states(answer.data["items"]) == {"housing": "passed"}
    assert answer.data["facts"]["rental_spans"] == rentals and answer.data["holder"]["name_masked"]
    task = store.tasks[1]
    assert task["state"] == DeskTaskState.DECIDED and task["decided_by"] == "officer:housing-1"
    assert task["decision"]["decision"] == "confirm"
    assert task["decision"]["material_sha256"] == task["material"]["sha256"]
    assert store.results[("APP-40", "housing")]["facts"]["rental_spans"] == rentals
    with pytest.raises(AlreadyDecided):
        await desk.decide(FakeUnitOfWork(store), "housing", 1, desk.DeskDecision(DeskVerdict.RETURN, "no"), "o")


@pytest.mark.parametrize(
    "verdict, state", [(DeskVerdict.RETURN, ItemState.RETURNED), (DeskVerdict.FORGED, ItemState.FORGED)]
)
async def test_a_returned_or_forged_item_carries_the_officers_reason(verdict, state):
    store = await desk_with_task()
    uow = FakeUnitOfWork(store)
    await desk.decide(uow, "housing", 1, desk.DeskDecision(verdict, "the contract is not registered"), "o")
    (item,) = store.results[("APP-40", "housing")]["items"]
    assert item == {"indicator": "housing", "state": state, "reason": "the contract is not registered"}


async def test_a_decision_is_refused_without_an_answer_to_revise_or_with_facts_not_of_its_item():
    store = await desk_with_task()
    with pytest.raises(FactsRefused, match="income_tax is not facts of the housing item"):
        await desk.decide(
            FakeUnitOfWork(store), "housing", 1, desk.DeskDecision(DeskVerdict.CONFIRM, None, {"income_tax": []}), "o"
        )
    with pytest.raises(FactsRefused, match="confirming housing means saying what the material proves"):
        await desk.decide(FakeUnitOfWork(store), "housing", 1, desk.DeskDecision(DeskVerdict.CONFIRM), "o")
    with pytest.raises(NotVisible):
        await desk.decide(FakeUnitOfWork(store), "tax", 1, desk.DeskDecision(DeskVerdict.RETURN, "no"), "o")
    store.results.clear()
    with pytest.raises(NoEarlierAnswer):
        await desk.decide(FakeUnitOfWork(store), "housing", 1, desk.DeskDecision(DeskVerdict.RETURN, "no"), "o")
    assert store.tasks[1]["state"] == DeskTaskState.PENDING


# ---- results -----------------------------------------------------------------------------
async def test_a_department_reads_its_own_result_and_nothing_else():
    store = await desk_with_task()
    uow = FakeUnitOfWork(store)
    result = await results.department_result(uow, "housing", "APP-40")
    assert result["department"] == "housing" and states(result["items"]) == {"housing": "not_found"}
    datetime.fromisoformat(result["verified_at"])
    with pytest.raises(NotVisible):
        await results.department_result(uow, "tax", "APP-40")
    check = await results.check_audit_chain(uow, "housing")
    assert check.intact and check.entries_checked == 2


async def test_anchoring_now_commits_the_heads_and_publishes_the_days_first():
    store = FakeStore()
    uow = FakeUnitOfWork(store)
    await append(uow, "credit", "APP-1", "verifier:credit (application)", [("listings", {}, [])])
    units: list[FakeUnitOfWork] = []

    def new_uow() -> FakeUnitOfWork:
        units.append(FakeUnitOfWork(store))
        return units[-1]

    assert await anchor_now(new_uow, ["credit"]) == 1
    assert units[0].committed and [e.type for e in units[0].emitted] == ["audit.chain_anchored"]
    assert store.anchors[0]["entry_id"] == 1 and store.anchors[0]["hash"] == store.audit[0]["hash"]
