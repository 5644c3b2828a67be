"""Verification's handlers, delivered events in memory: what a department stores and answers."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.verification.domain import DeskTaskState, ItemState
from services.verification.handlers import Deps, handlers
from services.verification.seed import demo_id_number, demo_permit_number
from shared.events import Envelope
from shared.events.catalogue import MaterialAdded, MaterialRef, ReverificationRequested, parse_data
from shared.masking import mask_name
from tests.fakes import InMemoryBus
from tests.unit.verification.fakes import CUT_OFF, FakeRegistries, FakeStore, submitted

HOLDER = demo_id_number(10)
PERMIT = demo_permit_number(10)


def police_registries(status: str = "valid") -> FakeRegistries:
    return FakeRegistries(
        permits={PERMIT: {"id_number": HOLDER, "name": "李四", "status": status, "valid_to": date(2030, 1, 1)}},
        residence={HOLDER: [{"start_date": date(2015, 3, 1), "end_date": None}]},
        records={"police_records": {"offences": []}},
    )


def bus_for(department: str, registries: FakeRegistries, store: FakeStore | None = None) -> InMemoryBus:
    return InMemoryBus(handlers(Deps({department: registries})), store or FakeStore())


def event(data, source: str = "intake") -> Envelope:
    return Envelope.new(data, source=source, subject=data.application_id)


def states(items: list[dict]) -> dict[str, str]:
    return {i["indicator"]: i["state"] for i in items}


async def test_the_police_answer_an_application_once_under_the_permits_name():
    registries = police_registries()
    bus = bus_for("police", registries)
    application = event(submitted(10))

    emitted = await bus.deliver(application)
    again = await bus.deliver(application)  # redelivered: the inbox drops it

    assert [e.type for e in emitted] == ["verification.completed"] and again == []
    answer = emitted[0].data
    assert answer["department"] == "police" and answer["application_id"] == "APP-10"
    assert states(answer["items"])["permit"] == "passed" and states(answer["items"])["residence"] == "passed"
    assert answer["holder"]["name_masked"] == mask_name("李四")  # the registry's name, not the one typed in
    stored = bus.store.results[("APP-10", "police")]
    assert states(stored["items"]) == states(answer["items"]) and stored["facts"]["permit_status"] == "valid"
    assert [e["fact"] for e in bus.store.audit] == ["permit", "residence", "offences"]
    assert {e["requester"] for e in bus.store.audit} == {"verifier:police (application)"}
    assert len([q for q in registries.asked if q[0] == "police"]) == 1


async def test_departments_sharing_a_verifier_answer_together_each_once():
    registries = police_registries()
    registries.spans[HOLDER] = [
        {
            "start_month": date(2016, 1, 1),
            "end_month": date(2025, 12, 1),
            "kind": "pension",
            "transferred_in": False,
            "back_paid": False,
            "employer_credit_code": None,
        }
    ]
    bus = InMemoryBus(
        handlers(Deps({"police": registries, "social_insurance": registries, "tax": registries})), FakeStore()
    )
    application = event(submitted(10, departments=("police", "social_insurance")))

    emitted = await bus.deliver(application)

    # One event for both departments expected (tax is not), each answer what its own event would say.
    (answer,) = emitted
    assert (answer.type, answer.version) == ("verification.completed", 2)
    each = parse_data(answer).each()
    assert [a.department for a in each] == ["police", "social_insurance"]
    assert {a.application_id for a in each} == {"APP-10"} and each[0].holder.name_masked == mask_name("李四")
    assert "permit" in {i.indicator for i in each[0].items} and each[1].facts["social_insurance_spans"]
    assert set(bus.store.results) == {("APP-10", "police"), ("APP-10", "social_insurance")}

    # The same application delivered to a verifier grouped otherwise (a new consumer group reading
    # from the start): the departments that answered already answer nothing again.
    again = InMemoryBus(handlers(Deps({"police": registries, "social_insurance": registries})), bus.store)
    assert await again.deliver(event(submitted(10, departments=("police", "social_insurance")))) == []


async def test_an_application_not_expected_of_a_department_is_left_alone():
    bus = bus_for("tax", FakeRegistries())
    assert await bus.deliver(event(submitted(10, departments=("police",)))) == []
    assert bus.store.results == {} and bus.store.audit == []


def supplement(
    indicator: str = "residence", department: str = "police", material_id: str = "M-1", is_supplement: bool = True
) -> MaterialAdded:
    return MaterialAdded(
        application_id="APP-10",
        indicator=indicator,
        department=department,
        material=MaterialRef(
            id=material_id, media_type="application/pdf", size=3, sha256="0" * 64, url=f"/v1/materials/{material_id}"
        ),
        supplement=is_supplement,
        supplement_deadline=date(2026, 12, 1),
        added_at=datetime.now(UTC),
    )


async def test_a_supplement_waits_at_the_desk_and_its_item_shows_in_review():
    registries = FakeRegistries(permits={}, records={"police_records": {"offences": []}})  # no residence on record
    bus = bus_for("police", registries)
    await bus.deliver(event(submitted(10)))
    assert states(bus.store.results[("APP-10", "police")]["items"])["residence"] == "not_found"

    assert await bus.deliver(event(supplement())) == []
    await bus.deliver(event(supplement()))  # the same material delivered again (another event): still one task

    (task,) = bus.store.tasks.values()
    assert (task["department"], task["indicator"], task["state"]) == ("police", "residence", DeskTaskState.PENDING)
    assert task["deadline"] == date(2026, 12, 1) and task["material"]["id"] == "M-1"
    items = {i["indicator"]: i for i in bus.store.results[("APP-10", "police")]["items"]}
    assert items["residence"]["state"] == ItemState.IN_REVIEW and items["residence"]["reason"] == "supplemented"
    assert items["permit"]["state"] == ItemState.RETURNED  # the others stand


async def test_materials_not_for_the_departments_desk_make_no_task():
    bus = bus_for("police", police_registries())
    await bus.deliver(event(supplement(department="education")))
    await bus.deliver(event(supplement(material_id="M-2", is_supplement=False)))
    assert bus.store.tasks == {}


async def test_a_reverification_answers_again_for_the_items_in_question_only():
    registries = police_registries()
    bus = bus_for("police", registries)
    await bus.deliver(event(submitted(10)))
    kept = bus.store.results[("APP-10", "police")]["items"]
    forged = next(i for i in kept if i["indicator"] == "criminal")
    forged.update(state="forged", reason="an officer found the record forged")
    registries.permits[PERMIT]["status"] = "terminated"  # the registry has changed since
    registries.residence[HOLDER] = []

    request = ReverificationRequested(
        application_id="APP-10",
        request_id="OBJ-1",
        items=["permit", "criminal"],
        reason="the holder objects",
        requested_by="publicity",
        requested_at=datetime.now(UTC),
    )
    (answer,) = await bus.deliver(event(request, source="publicity"))

    assert answer.type == "verification.completed" and answer.data["in_answer_to"] == "OBJ-1"
    now = states(bus.store.results[("APP-10", "police")]["items"])
    assert now["permit"] == "returned"  # looked up again
    assert now["residence"] == "passed"  # not in question: stands, though the registry changed
    assert now["criminal"] == "forged"  # in question, but an officer's finding of a forgery stands
    assert bus.store.results[("APP-10", "police")]["facts"]["permit_status"] == "terminated"
    assert bus.store.results[("APP-10", "police")]["facts"]["residence_spans"] != []
    assert "verifier:police (re-verification: the holder objects)" in {e["requester"] for e in bus.store.audit}


async def test_a_reverification_of_other_departments_items_or_an_unanswered_application_does_nothing():
    bus = bus_for("police", police_registries())
    request = ReverificationRequested(
        application_id="APP-10",
        items=["tax"],
        reason="r",
        requested_by="publicity",
        requested_at=datetime.now(UTC),
    )
    await bus.deliver(event(submitted(10)))
    assert await bus.deliver(event(request, source="publicity")) == []
    unanswered = request.model_copy(update={"application_id": "APP-11", "items": ["permit"]})
    assert await bus.deliver(event(unanswered, source="publicity")) == []
    assert [e["application_id"] for e in bus.store.audit] == ["APP-10"] * 3  # only the first answer asked


async def test_one_consumer_group_per_department_each_answers_for_its_own():
    store = FakeStore()
    police = bus_for("police", police_registries(), store)
    social = bus_for("social_insurance", FakeRegistries(spans={}), store)
    application = event(submitted(10, departments=("police", "social_insurance")))
    await police.deliver(application)
    await social.deliver(application)
    assert set(store.results) == {("APP-10", "police"), ("APP-10", "social_insurance")}
    assert states(store.results[("APP-10", "social_insurance")]["items"]) == {
        "social_insurance": "not_found",
        "employment": "not_found",
    }
    assert CUT_OFF.isoformat() in str(store.audit[-1]["query"])
