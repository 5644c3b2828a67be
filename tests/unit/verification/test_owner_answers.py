"""A module owner's verifier over fakes: its registry's answer as items, typed, audited, answered again."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from services.verification.owners import OwnerFact, OwnerModule, owner_answer, owner_module
from services.verification.registries_http import RegistryError
from services.verification.use_cases import owner_answers, owner_sources
from shared.events.catalogue import ReverificationRequested
from tests.fakes import FakeUnitOfWork
from tests.unit.verification.fakes import FakeStore, submitted

OWNER = "district:binjiang"
TALENT = OwnerModule(
    "binjiang-talent", OWNER, (OwnerFact("binjiang-talent/key_enterprise", "key_enterprise_employee", "boolean"),)
)


class Catalogue:
    def __init__(self, *modules: OwnerModule) -> None:
        self.modules = {m.id: m for m in modules}

    async def owners_modules(self, owner: str, named: list[str]) -> list[OwnerModule]:
        return [m for n in named if (m := self.modules.get(n)) and m.owner == owner and m.facts]


class Registry:
    """The owner's registry: answers in turn (a value, or an exception to raise)."""

    def __init__(self, *answers: Any) -> None:
        self.answers, self.asked = list(answers), []

    async def facts(self, owner, source, id_number, cut_off, names):
        self.asked.append((owner, source.url, id_number, names))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def registered(store: FakeStore) -> FakeStore:
    store.sources[OWNER] = SimpleNamespace(owner=OWNER, url="http://registry/v1/facts", credential="s" * 20)
    return store


def test_a_module_as_scoring_publishes_it_reduces_to_the_owners_facts():
    doc = {
        "id": "binjiang-talent",
        "owner": OWNER,
        "fact_sources": {
            "key_enterprise": {"name": "key_enterprise_employee", "type": "boolean", "source": "owner"},
            "district_residence": {"name": "district_residence_spans", "type": "spans", "source": "derived"},
        },
    }
    assert owner_module(doc) == TALENT


@pytest.mark.parametrize(
    ("answer", "state", "facts"),
    [
        ({"facts": {"key_enterprise_employee": True}}, "passed", {"key_enterprise_employee": True}),
        ({"facts": {"key_enterprise_employee": False}}, "passed", {"key_enterprise_employee": False}),
        ({"facts": {}}, "not_found", {}),
        ({"facts": {"key_enterprise_employee": None}}, "not_found", {}),
        ({"facts": {"key_enterprise_employee": "yes"}}, "returned", {}),
        ({"facts": {"key_enterprise_employee": 1}}, "returned", {}),
        ({"facts": ["key_enterprise_employee"]}, "returned", {}),
        ("<html>maintenance</html>", "returned", {}),
        (None, "returned", {}),
    ],
)
def test_an_answer_becomes_items_and_only_well_typed_facts_count(answer, state, facts):
    result = owner_answer(list(TALENT.facts), answer)
    assert [i["state"] for i in result.items] == [state] and result.facts == facts
    if state == "returned":
        assert result.items[0]["reason"]  # the applicant is told why


async def test_the_owner_answers_an_application_naming_its_module_in_one_audited_look_up():
    store = registered(FakeStore())
    uow = FakeUnitOfWork(store)
    registry = Registry({"facts": {"key_enterprise_employee": True}})
    data = submitted(30, modules=["binjiang-talent", "settlement"])
    assert await owner_answers.answer_for_owner(uow, OWNER, Catalogue(TALENT), registry, data)
    assert len(registry.asked) == 1 and registry.asked[0][3] == ["key_enterprise_employee"]
    (event,) = (e.data for e in uow.emitted)
    assert event["department"] == OWNER and event["modules"] == ["binjiang-talent", "settlement"]
    assert [(i["indicator"], i["state"]) for i in event["items"]] == [("binjiang-talent/key_enterprise", "passed")]
    assert event["facts"] == {"key_enterprise_employee": True}
    assert [e["department"] for e in store.audit] == [OWNER]
    assert store.audit[0]["requester"] == f"verifier:{OWNER} (application)"


async def test_the_owner_ignores_applications_naming_none_of_its_modules():
    uow = FakeUnitOfWork(registered(FakeStore()))
    xihu = OwnerModule("xihu-talent", "district:xihu", TALENT.facts)
    registry = Registry()
    for modules in ([], ["settlement"], ["xihu-talent"]):
        data = submitted(31, modules=modules)
        assert not await owner_answers.answer_for_owner(uow, OWNER, Catalogue(TALENT, xihu), registry, data)
    assert uow.emitted == [] and registry.asked == []


async def test_without_a_registered_source_the_items_are_not_found_and_nothing_is_asked():
    uow = FakeUnitOfWork(FakeStore())
    registry = Registry()
    data = submitted(32, modules=["binjiang-talent"])
    assert await owner_answers.answer_for_owner(uow, OWNER, Catalogue(TALENT), registry, data)
    (item,) = uow.emitted[0].data["items"]
    assert item["state"] == "not_found" and "registered no source" in item["reason"] and registry.asked == []


async def test_a_registry_refusing_the_question_returns_the_items_with_its_reason():
    store = registered(FakeStore())
    uow = FakeUnitOfWork(store)
    registry = Registry(RegistryError("/v1/facts: 401 unknown credential"))
    assert await owner_answers.answer_for_owner(
        uow, OWNER, Catalogue(TALENT), registry, submitted(33, modules=["binjiang-talent"])
    )
    (item,) = uow.emitted[0].data["items"]
    assert item["state"] == "returned" and item["reason"] == "the owner's registry refused the question"
    assert len(store.audit) == 1  # the question is on the chain all the same


async def test_a_re_verification_asks_the_registry_again_for_the_items_in_question():
    store = registered(FakeStore())
    uow = FakeUnitOfWork(store)
    registry = Registry({"facts": {"key_enterprise_employee": True}}, {"facts": {"key_enterprise_employee": False}})
    data = submitted(34, modules=["binjiang-talent"])
    await owner_answers.answer_for_owner(uow, OWNER, Catalogue(TALENT), registry, data)
    request = ReverificationRequested(
        application_id=data.application_id,
        request_id="OBJ-1",
        items=["binjiang-talent/key_enterprise"],
        reason="异议 OBJ-1",
        requested_by="publicity:objection",
        requested_at=datetime.now(UTC),
    )
    assert await owner_answers.reverify_for_owner(uow, OWNER, Catalogue(TALENT), registry, request)
    again = uow.emitted[-1].data
    assert again["in_answer_to"] == "OBJ-1" and again["facts"] == {"key_enterprise_employee": False}
    assert [e["requester"] for e in store.audit][-1].startswith(f"verifier:{OWNER} (re-verification")
    # An objection naming only departments' items is not the owner's.
    other = request.model_copy(update={"items": ["education"]})
    assert not await owner_answers.reverify_for_owner(uow, OWNER, Catalogue(TALENT), registry, other)


async def test_the_credential_is_never_in_what_is_shown():
    uow = FakeUnitOfWork(FakeStore())
    view = await owner_sources.register_source(
        uow, OWNER, "http://registry/v1/facts", "a-secret-credential-1234", "demo", datetime.now(UTC)
    )
    assert view["credential_set"] is True and "a-secret-credential-1234" not in str(view)
    assert await owner_sources.read_source(uow, OWNER) == view
