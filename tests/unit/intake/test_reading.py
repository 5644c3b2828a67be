"""Reading applications: a partner sees its own only (another's reads as unknown), the
administrator all, newest first and page by page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.intake import use_cases
from services.intake.domain import NotVisible
from shared.departments import DEPARTMENT_OF
from tests.unit.intake.builders import ADMIN, OTHER_WINDOW, WINDOW, submit
from tests.unit.intake.fake_store import FakeStore


def state(store, application_id, principal):
    return use_cases.application_state(
        store, application_id, principal, scoring_base_url="http://scoring", min_working_days=5
    )


async def test_another_partner_s_application_reads_exactly_like_an_unknown_one():
    store = FakeStore()
    s = await submit(store)
    with pytest.raises(NotVisible) as other:
        await state(store, s.application_id, OTHER_WINDOW)
    with pytest.raises(NotVisible) as unknown:
        await state(store, "APP-20250303-000000000000", OTHER_WINDOW)
    assert type(other.value) is type(unknown.value)
    assert (await state(store, s.application_id, ADMIN))["id"] == s.application_id


async def test_a_new_application_shows_every_item_pending_and_its_submission_on_the_timeline():
    store = FakeStore()
    s = await submit(store)
    seen = await state(store, s.application_id, WINDOW)
    assert seen["status"] == "submitted" and seen["score"] is None
    assert {i["state"] for i in seen["items"]} == {"pending"} and len(seen["items"]) == len(DEPARTMENT_OF)
    assert [e["event_type"] for e in seen["timeline"]] == ["application.submitted"]
    assert seen["timeline"][0]["summary"] == {"acting_as": "window", "principal": "window-xihu-1"}


async def test_a_module_owners_items_are_pending_with_the_owner_as_department_until_it_answers():
    store = FakeStore()
    s = await submit(store, modules=["binjiang-talent"])
    asked: list[list[str]] = []

    async def owner_items(modules: list[str]) -> dict[str, str]:
        asked.append(modules)
        return {"binjiang-talent/key_enterprise": "district:binjiang"}

    seen = await use_cases.application_state(
        store, s.application_id, WINDOW, scoring_base_url="http://scoring", min_working_days=5, owner_items=owner_items
    )
    item = next(i for i in seen["items"] if i["indicator"] == "binjiang-talent/key_enterprise")
    assert item == {
        "indicator": "binjiang-talent/key_enterprise",
        "department": "district:binjiang",
        "state": "pending",
        "reason": None,
    }
    assert asked == [["binjiang-talent"]] and len(seen["items"]) == len(DEPARTMENT_OF) + 1


async def test_a_partner_lists_its_own_applications_newest_first_page_by_page():
    store = FakeStore()
    mine = []
    for n in range(5):
        store.now += timedelta(minutes=1)
        mine.append((await submit(store, id_number=f"33010619900101{n:03d}X")).application_id)
    store.now += timedelta(minutes=1)
    theirs = (await submit(store, principal=OTHER_WINDOW, id_number="330106199001019999")).application_id
    page, more = await use_cases.list_applications(store, WINDOW, use_cases.ApplicationFilter(), None, 3)
    assert [r.id for r in page] == mine[::-1][:3] and more
    after = (page[-1].created_at, page[-1].id)
    rest, more = await use_cases.list_applications(store, WINDOW, use_cases.ApplicationFilter(), after, 3)
    assert [r.id for r in rest] == mine[::-1][3:] and not more
    everyone, _ = await use_cases.list_applications(store, ADMIN, use_cases.ApplicationFilter(), None, 10)
    assert [r.id for r in everyone] == [theirs, *mine[::-1]]
    await store.withdraw(mine[0])
    withdrawn, _ = await use_cases.list_applications(
        store, WINDOW, use_cases.ApplicationFilter(status="withdrawn"), None, 10
    )
    assert [r.id for r in withdrawn] == [mine[0]]
