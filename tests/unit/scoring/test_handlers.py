"""Scoring's handlers on the in-memory bus and a fake store: answers kept, scored once all
departments have answered (one version per change), withdrawn applications never scored."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.scoring import use_cases
from services.scoring.domain import review_deadline
from services.scoring.engine.modules import load_shipped_modules
from services.scoring.engine.rules import load_shipped
from services.scoring.handlers import HANDLERS, handlers
from shared import clock
from shared.events import Envelope
from shared.events.catalogue import (
    ApplicationSubmitted,
    ApplicationWithdrawn,
    Holder,
    HolderRef,
    VerificationCompleted,
    VerificationsCompleted,
    parse_data,
)
from shared.pseudonyms import holder_key
from tests.fakes import FakeUnitOfWork, InMemoryBus
from tests.unit.scoring.fake_store import FakeStore

SALT = "unit-test-salt"
CUT_OFF = date(2026, 10, 1)  # hangzhou-2021 in force
APPLIED = clock.today()  # its review deadline is weeks away
HOLDER = HolderRef(key="k-1", name_masked="张*", id_number_masked="3301**********0011")
EXPECTED = ["police", "education"]
POLICE_FACTS = {
    "permit_status": "valid",
    "birth_date": "1990-05-01",
    "residence_spans": [{"start": "2015-03-01", "end": None}],
}


def deps() -> use_cases.Deps:
    return use_cases.Deps(load_shipped(), load_shipped_modules(), SALT)


def answer(
    app: str,
    department: str,
    facts: dict,
    *,
    in_answer_to: str | None = None,
    applied_on: date | None = APPLIED,
    state: str = "passed",
) -> Envelope:
    item = {"police": "residence", "education": "education"}[department]
    return Envelope.new(
        VerificationCompleted(
            application_id=app,
            department=department,
            expected_departments=EXPECTED,
            cut_off_date=CUT_OFF,
            holder=HOLDER,
            items=[{"indicator": item, "state": state}],
            facts=facts,
            verified_at=datetime.now(UTC),
            applied_on=applied_on,
            in_answer_to=in_answer_to,
        ),
        source="verification",
        subject=app,
    )


def scores_of(bus: InMemoryBus, app: str) -> list:
    return [e.data for e in bus.of_type("score.computed") if e.subject == app]


@pytest.fixture
def bus() -> InMemoryBus:
    return InMemoryBus(handlers(deps()), FakeStore())


def test_one_handler_per_event_type():
    assert set(HANDLERS) == {
        "application.submitted",
        "verification.completed",
        "application.withdrawn",
        "round.closing",
        "round.finalized",
        "campaign.facts_verified",
    }


async def test_an_application_is_scored_once_every_expected_department_has_answered(bus):
    assert await bus.deliver(answer("A-1", "police", POLICE_FACTS)) == []
    assert set(bus.store.received["A-1"]) == {"police"} and "A-1" not in bus.store.scores
    emitted = await bus.deliver(answer("A-1", "education", {"education": ["bachelor"]}))
    (score,) = [e.data for e in emitted]
    assert score["application_id"] == "A-1" and score["score_version"] == 1 and score["status"] == "scored"
    stored = bus.store.scores["A-1"][1]
    assert stored["total"] == score["total"] > 50  # the bachelor's 50 points and more
    assert {line["indicator"]: line["points"] for line in stored["explanation"]["lines"]}["education"] == 50
    # The facts stay in scoring: the event's lines carry points and labels only.
    assert all(line.get("fact_value") is None and "fact" not in line for line in score["lines"])
    assert stored["holder"] == HOLDER.model_dump() and stored["cut_off_date"] == CUT_OFF


async def test_departments_answering_together_score_as_their_answers_one_by_one(bus):
    one_by_one = [answer("A-1", "police", POLICE_FACTS), answer("A-1", "education", {"education": ["bachelor"]})]
    for e in one_by_one:
        await bus.deliver(e)
    each = [parse_data(e) for e in one_by_one]
    together = VerificationsCompleted(
        application_id="A-2",
        expected_departments=EXPECTED,
        cut_off_date=CUT_OFF,
        applied_on=APPLIED,
        answers=[
            {
                "department": a.department,
                "holder": a.holder,
                "items": a.items,
                "facts": a.facts,
                "verified_at": a.verified_at,
            }
            for a in each
        ],
    )
    (score,) = [e.data for e in await bus.deliver(Envelope.new(together, source="verification", subject="A-2"))]
    assert (score["application_id"], score["score_version"]) == ("A-2", 1)
    assert set(bus.store.received["A-2"]) == {"police", "education"}
    assert score["total"] == scores_of(bus, "A-1")[0]["total"] > 50


async def test_the_same_answer_again_scores_nothing_new_and_a_changed_one_makes_the_next_version(bus):
    await bus.deliver(answer("A-2", "police", POLICE_FACTS))
    await bus.deliver(answer("A-2", "education", {"education": ["bachelor"]}))
    assert await bus.deliver(answer("A-2", "education", {"education": ["bachelor"]})) == []
    emitted = await bus.deliver(answer("A-2", "education", {"education": ["master"]}))
    assert [e.data["score_version"] for e in emitted] == [2]
    assert bus.store.received["A-2"]["education"]["facts"] == {"education": ["master"]}
    assert bus.store.scores["A-2"][2]["total"] - bus.store.scores["A-2"][1]["total"] == 20  # master 70, bachelor 50


async def test_a_re_verification_is_scored_even_unchanged_and_names_the_request_it_answers(bus):
    await bus.deliver(answer("A-3", "police", POLICE_FACTS))
    await bus.deliver(answer("A-3", "education", {"education": ["bachelor"]}))
    emitted = await bus.deliver(answer("A-3", "education", {"education": ["bachelor"]}, in_answer_to="RV-1"))
    (score,) = [e.data for e in emitted]
    assert score["score_version"] == 2
    assert score["answers_to"] == [{"request_id": "RV-1", "department": "education"}]


async def test_past_the_review_deadline_the_silent_department_scores_zero_for_now(bus):
    long_ago = date(2025, 1, 6)
    emitted = await bus.deliver(answer("A-4", "police", POLICE_FACTS, applied_on=long_ago))
    (score,) = [e.data for e in emitted]
    assert "overdue, scored 0 until they answer: education" in score["reason"]
    lines = {line["indicator"]: line for line in bus.store.scores["A-4"][1]["explanation"]["lines"]}
    assert lines["education"]["points"] == 0


async def test_a_submitted_application_is_kept_with_its_deadline_and_the_holder_by_key_only(bus):
    holder = Holder(
        id_number="330102199001010011", permit_number="P1", name_masked="张*", id_number_masked="3301**********0011"
    )
    await bus.deliver(
        Envelope.new(
            ApplicationSubmitted(
                application_id="A-5",
                holder=holder,
                applied_on=APPLIED,
                cut_off_date=CUT_OFF,
                expected_departments=EXPECTED,
                principal="demo-window",
            ),
            source="intake",
            subject="A-5",
        )
    )
    row = bus.store.applications["A-5"]
    assert row["principal"] == "demo-window" and row["review_deadline"] == review_deadline(APPLIED) > APPLIED
    # No key on the event (one from before intake sent it): derived here, and no ID number kept.
    assert row["holder"]["key"] == holder_key("330102199001010011", SALT)
    assert "id_number" not in row["holder"]


async def test_a_withdrawn_application_is_never_scored(bus):
    await bus.deliver(answer("A-6", "police", POLICE_FACTS))
    await bus.deliver(
        Envelope.new(
            ApplicationWithdrawn(application_id="A-6", withdrawn_at=datetime.now(UTC), principal="demo-window"),
            source="intake",
            subject="A-6",
        )
    )
    assert "A-6" in bus.store.withdrawn
    assert await bus.deliver(answer("A-6", "education", {"education": ["bachelor"]})) == []
    assert "A-6" not in bus.store.scores


async def test_one_batch_scores_its_applications_together_at_commit_and_withdrawn_ones_not_at_all():
    store, d = FakeStore(), deps()
    table = handlers(d)
    for app in ("B-1", "B-2"):
        await store.add_answer(
            {
                "application_id": app,
                "department": "police",
                "expected_departments": EXPECTED,
                "cut_off_date": CUT_OFF,
                "holder": HOLDER.model_dump(),
                "items": [],
                "facts": POLICE_FACTS,
                "review_deadline": None,
            }
        )
    uow = FakeUnitOfWork(store)
    async with uow:
        for app in ("B-1", "B-2"):
            event = answer(app, "education", {"education": ["bachelor"]})
            await table["verification.completed"](uow, event, parse_data(event))
        withdraw = ApplicationWithdrawn(application_id="B-2", withdrawn_at=datetime.now(UTC), principal="demo-window")
        # Withdrawn later in the same batch, but scheduled already: still scored (as the consumer does).
        await table["application.withdrawn"](uow, None, withdraw)
        assert store.scores == {}  # nothing scored before commit
        await uow.commit()
    assert sorted(store.scores) == ["B-1", "B-2"]
    assert [e.subject for e in uow.emitted] == ["B-1", "B-2"]


def owner_answer(app: str, facts: dict, *, applied_on: date = APPLIED, state: str = "passed") -> Envelope:
    return Envelope.new(
        VerificationCompleted(
            application_id=app,
            department="district:binjiang",
            expected_departments=EXPECTED,
            cut_off_date=CUT_OFF,
            holder=HOLDER,
            items=[{"indicator": "binjiang-talent/key_enterprise", "state": state}],
            facts=facts,
            verified_at=datetime.now(UTC),
            applied_on=applied_on,
            modules=["binjiang-talent"],
        ),
        source="verification",
        subject=app,
    )


def with_modules(event: Envelope, modules: list[str]) -> Envelope:
    data = parse_data(event).model_copy(update={"modules": modules})
    return Envelope.new(data, source=event.source, subject=event.subject)


async def test_an_application_naming_a_districts_module_waits_for_the_district_too(bus):
    modules = ["binjiang-talent"]
    assert await bus.deliver(with_modules(answer("M-1", "police", POLICE_FACTS), modules)) == []
    assert await bus.deliver(with_modules(answer("M-1", "education", {"education": ["bachelor"]}), modules)) == []
    emitted = await bus.deliver(owner_answer("M-1", {"key_enterprise_employee": True}))
    (score,) = [e.data for e in emitted]
    assert score["modules"]["binjiang-talent"]["module_points"] == 10
    assert score["modules"]["binjiang-talent"]["owner_items"] == ["binjiang-talent/key_enterprise"]


async def test_a_district_silent_past_the_deadline_scores_zero_then_its_late_answer_re_scores(bus):
    long_ago, modules = date(2025, 1, 6), ["binjiang-talent"]
    await bus.deliver(with_modules(answer("M-2", "police", POLICE_FACTS, applied_on=long_ago), modules))
    emitted = await bus.deliver(
        with_modules(answer("M-2", "education", {"education": ["bachelor"]}, applied_on=long_ago), modules)
    )
    first = [e.data for e in emitted][-1]
    assert "overdue, scored 0 until they answer: district:binjiang" in first["reason"]
    assert first["modules"]["binjiang-talent"]["module_points"] == 0
    late = await bus.deliver(owner_answer("M-2", {"key_enterprise_employee": True}, applied_on=long_ago))
    (second,) = [e.data for e in late]
    assert second["score_version"] == first["score_version"] + 1
    assert second["modules"]["binjiang-talent"]["module_points"] == 10
