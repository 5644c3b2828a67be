"""Scoring's use cases on a fake store: the overdue sweep, reading scores (who sees what), rule-set
drafts and their publication, X-module versions and rankings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY

from services.scoring import access, use_cases
from services.scoring.engine.modules import MODULE_DIR, load_shipped_modules, parse_module
from services.scoring.engine.rules import RULESET_DIR, load_shipped, parse_rule_set
from shared.auth import Principal
from shared.pseudonyms import holder_key
from tests.fakes import FakeUnitOfWork
from tests.unit.scoring.fake_store import FakeStore

SALT = "unit-test-salt"
CUT_OFF = date(2026, 10, 1)
TODAY = date(2026, 11, 30)
HOLDER = {"key": "k-1", "name_masked": "张*", "id_number_masked": "3301**********0011"}


def deps() -> use_cases.Deps:
    return use_cases.Deps(load_shipped(), load_shipped_modules(), SALT)


def police_answer(app: str, expected: list[str], deadline: date | None) -> dict:
    return {
        "application_id": app,
        "department": "police",
        "expected_departments": expected,
        "cut_off_date": CUT_OFF,
        "holder": HOLDER,
        "items": [],
        "facts": {"permit_status": "valid", "birth_date": "1990-05-01"},
        "review_deadline": deadline,
    }


def submitted(app: str, deadline: date, expected: list[str], principal: str = "window", key: str = "k-1") -> dict:
    return {
        "application_id": app,
        "principal": principal,
        "holder": {**HOLDER, "key": key},
        "expected_departments": expected,
        "applied_on": deadline - timedelta(days=21),
        "cut_off_date": CUT_OFF,
        "review_deadline": deadline,
    }


# -- the overdue sweep ------------------------------------------------------------------------------
async def sweep(store: FakeStore) -> tuple[int, FakeUnitOfWork]:
    uow = FakeUnitOfWork(store)
    async with uow:
        n = await use_cases.sweep_overdue(uow, deps(), TODAY)
        await uow.commit()
    return n, uow


async def test_the_sweep_scores_applications_past_their_deadline_with_the_silent_departments_at_zero():
    store = FakeStore()
    store.add_application(submitted("S-1", TODAY - timedelta(days=1), ["police", "education"]))
    await store.add_answer(police_answer("S-1", ["police", "education"], TODAY - timedelta(days=1)))
    store.add_application(submitted("S-2", TODAY - timedelta(days=1), ["police"]))  # nobody answered at all
    store.add_application(submitted("S-3", TODAY + timedelta(days=3), ["police"]))  # not yet due
    n, uow = await sweep(store)
    assert n == 2 and sorted(store.scores) == ["S-1", "S-2"]
    assert "overdue, scored 0 until they answer: education" in store.scores["S-1"][1]["explanation"]["reason"]
    assert store.scores["S-2"][1]["holder"] == {**HOLDER, "key": "k-1"}  # the holder as submitted
    assert sorted(e.subject for e in uow.emitted) == ["S-1", "S-2"]
    assert (await sweep(store))[0] == 0  # scored now: not overdue any more


async def test_the_sweep_also_finds_applications_known_only_from_an_answer():
    store = FakeStore()
    await store.add_answer(police_answer("S-4", ["police", "tax"], TODAY - timedelta(days=2)))
    n, _ = await sweep(store)
    assert n == 1 and store.scores["S-4"][1]["cut_off_date"] == CUT_OFF


async def test_one_sweeper_at_a_time_and_withdrawn_applications_are_left_alone():
    store = FakeStore()
    store.add_application(submitted("S-5", TODAY - timedelta(days=1), ["police"]))
    store.sweep_taken = True
    assert (await sweep(store))[0] == 0 and store.scores == {}
    store.sweep_taken = False
    store.add_withdrawn("S-5", datetime.now(UTC))
    assert (await sweep(store))[0] == 0 and store.scores == {}


async def test_scheduling_without_answers_or_a_holder_is_refused():
    uow = FakeUnitOfWork(FakeStore())
    with pytest.raises(ValueError, match="no holder"):
        await use_cases.schedule_scoring(uow, deps(), "S-6", {}, ["police"], CUT_OFF)


# -- reading scores ---------------------------------------------------------------------------------
def score_row(app: str, version: int, total: float) -> dict:
    lines = [
        {"indicator": "age", "department": "police", "points": 30.0},
        {"indicator": "education", "department": "education", "points": 50.0},
    ]
    return {
        "application_id": app,
        "version": version,
        "status": "scored",
        "total": total,
        "rule_set_id": "hangzhou-2021",
        "rule_set_hash": "h",
        "cut_off_date": CUT_OFF,
        "holder": HOLDER,
        "explanation": {"total": total, "lines": lines},
        "computed_at": datetime(2026, 11, 1, tzinfo=UTC),
    }


@pytest.fixture
def scored() -> FakeStore:
    store = FakeStore()
    key = holder_key("330106197702060019", SALT)
    store.add_application(submitted("R-1", TODAY, ["police", "education"], principal="window", key=key))
    for department in ("police", "education"):
        store.received.setdefault("R-1", {})[department] = {"department": department}
    store.add_score(score_row("R-1", 1, 80.0))
    store.add_score(score_row("R-1", 2, 90.0))
    return store


async def read(store: FakeStore, principal: Principal, holder: str | None = None, version: int | None = None) -> dict:
    sight = await access.sight_of(store, "R-1", principal, holder, SALT)
    return await use_cases.read_score(store, "R-1", sight, version)


async def test_the_partner_that_submitted_reads_the_latest_score_with_every_version(scored):
    doc = await read(scored, Principal("k", "window", frozenset({"scores:read"})))
    assert doc["version"] == 2 and doc["total"] == 90.0 and doc["versions"] == [1, 2]
    assert (await read(scored, Principal("k", "window", frozenset({"scores:read"})), version=1))["total"] == 80.0


async def test_the_holder_through_an_app_and_a_department_see_what_is_theirs(scored):
    holder_app = Principal("k", "gov-app", frozenset({"scores:holder"}))
    assert (await read(scored, holder_app, "330106197702060019"))["total"] == 90.0
    police = await read(scored, Principal("k", "police-desk", frozenset({"department:police"})))
    assert [line["indicator"] for line in police["explanation"]["lines"]] == ["age"] and "total" not in police


@pytest.mark.parametrize(
    "principal, holder",
    [
        (Principal("k", "another-partner", frozenset({"scores:read"})), None),
        (Principal("k", "gov-app", frozenset({"scores:holder"})), "330106197702060027"),  # someone else's ID number
        (Principal("k", "tax-desk", frozenset({"department:tax"})), None),  # did not answer this application
    ],
)
async def test_anyone_else_gets_the_answer_of_an_unknown_application(scored, principal, holder):
    with pytest.raises(use_cases.NotVisible):
        await read(scored, principal, holder)


async def test_an_unknown_version_or_an_unscored_application_is_not_visible(scored):
    admin = Principal("k", "root", frozenset({"admin"}))
    with pytest.raises(use_cases.NotVisible):
        await read(scored, admin, version=3)
    with pytest.raises(use_cases.NotVisible):
        await use_cases.read_score(scored, "R-404", access.Sight())


# -- rule sets ----------------------------------------------------------------------------------------
def future_draft(rule_set_id: str = "hangzhou-2027", effective_from: str = "2099-01-01") -> tuple[str, object]:
    text = (RULESET_DIR / "hangzhou-2021.yaml").read_text(encoding="utf-8")
    text = text.replace("id: hangzhou-2021", f"id: {rule_set_id}", 1)
    text = "\n".join(
        f"effective_from: {effective_from}" if line.startswith("effective_from:") else line
        for line in text.splitlines()
    )
    text = "\n".join(line for line in text.splitlines() if not line.startswith("effective_to:"))
    return text, parse_rule_set(text, f"{rule_set_id}.yaml")


async def test_a_draft_is_stored_replaced_and_published_once_for_a_future_date():
    store, rule_sets = FakeStore(), load_shipped()
    text, rs = future_draft()
    await use_cases.upload_draft(store, rule_sets, rs, text, "rules-office")
    await use_cases.upload_draft(store, rule_sets, rs, text + "\n", "rules-office")  # replaced while a draft
    assert store.rule_sets["hangzhou-2027"]["state"] == "draft" and store.rule_sets["hangzhou-2027"]["source"].endswith(
        "\n"
    )
    published = await use_cases.publish_rule_set(store, rule_sets, "hangzhou-2027", "root", TODAY, parse_rule_set)
    assert published.id == "hangzhou-2027" and store.rule_sets["hangzhou-2027"]["state"] == "published"
    with pytest.raises(use_cases.Refused) as again:
        await use_cases.publish_rule_set(store, rule_sets, "hangzhou-2027", "root", TODAY, parse_rule_set)
    assert again.value.status == 409
    with pytest.raises(use_cases.Refused) as changed:
        await use_cases.upload_draft(store, rule_sets, rs, text, "rules-office")  # published: never changes
    assert changed.value.status == 409


async def test_a_rule_set_in_use_cannot_be_uploaded_and_an_unknown_draft_is_not_found():
    store, rule_sets = FakeStore(), load_shipped()
    text = (RULESET_DIR / "hangzhou-2021.yaml").read_text(encoding="utf-8")
    with pytest.raises(use_cases.Refused) as in_use:
        await use_cases.upload_draft(store, rule_sets, rule_sets["hangzhou-2021"], text, "rules-office")
    assert in_use.value.status == 409 and store.rule_sets == {}
    with pytest.raises(use_cases.NotVisible):
        await use_cases.publish_rule_set(store, rule_sets, "nothing", "root", TODAY, parse_rule_set)


async def test_a_rule_set_cannot_take_effect_today_or_in_the_past():
    store = FakeStore()
    text, rs = future_draft("hangzhou-2026b", TODAY.isoformat())
    await use_cases.upload_draft(store, {}, rs, text, "rules-office")
    with pytest.raises(use_cases.Refused) as refused:
        await use_cases.publish_rule_set(store, {}, "hangzhou-2026b", "root", TODAY, parse_rule_set)
    assert (refused.value.status, refused.value.field, refused.value.why) == (
        422,
        "effective_from",
        "must be after today",
    )
    assert store.rule_sets["hangzhou-2026b"]["state"] == "draft"


async def test_published_rule_sets_and_the_latest_module_versions_are_loaded():
    store = FakeStore()
    text, rs = future_draft()
    await use_cases.upload_draft(store, {}, rs, text, "rules-office")
    await store.mark_published(rs.id, "root")
    module_text = (MODULE_DIR / "binjiang-talent.yaml").read_text(encoding="utf-8")
    module = parse_module(module_text, "binjiang-talent.yaml")
    assert await use_cases.register_module(store, module, module_text, "binjiang") == 1
    assert await use_cases.register_module(store, module, module_text, "binjiang") == 2
    rule_sets, modules = await use_cases.load_rule_sets_and_modules(store, parse_rule_set, parse_module)
    assert list(rule_sets) == ["hangzhou-2027"] and rule_sets["hangzhou-2027"].content_hash == rs.content_hash
    assert modules["binjiang-talent"][0] == 2 and modules["binjiang-talent"][1].owner == "district:binjiang"


# -- X-modules ------------------------------------------------------------------------------------------
def test_only_the_owner_or_an_administrator_manages_a_module():
    assert use_cases.may_manage(frozenset({"module:district:binjiang"}), False, "district:binjiang")
    assert not use_cases.may_manage(frozenset({"module:district:xihu"}), False, "district:binjiang")
    assert use_cases.may_manage(frozenset(), True, "district:binjiang")


def test_candidates_are_ranked_by_their_module_total_within_the_quota():
    module = load_shipped_modules()["binjiang-talent"]
    base = {"permit_status": "valid", "birth_date": "1990-05-01"}
    candidates = [
        SimpleNamespace(id="low", facts=base, parents=None),
        SimpleNamespace(
            id="high", facts={**base, "education": ["master"], "key_enterprise_employee": True}, parents=None
        ),
        SimpleNamespace(id="mid", facts={**base, "education": ["bachelor"]}, parents=None),
    ]
    _, result, ranking = use_cases.rank_candidates(module, load_shipped(), candidates, CUT_OFF, None, 2)
    assert [c["id"] for c in ranking] == ["high", "mid", "low"]
    assert [c["rank"] for c in ranking] == [1, 2, 3] and result.round.quota == 2
    assert ranking[0]["total"] > ranking[1]["total"] > ranking[2]["total"]


def _overdue_count(department: str) -> float:
    return REGISTRY.get_sample_value("points_overdue_answers_total", {"department": department}) or 0.0


async def test_the_overdue_counter_counts_only_a_sweep_that_committed():
    store = FakeStore()
    store.add_application(submitted("S-9", TODAY - timedelta(days=1), ["police", "health"]))
    await store.add_answer(police_answer("S-9", ["police", "health"], TODAY - timedelta(days=1)))
    before, police = _overdue_count("health"), _overdue_count("police")
    rolled_back = FakeUnitOfWork(store)
    async with rolled_back:  # the sweep decided, then its transaction failed: nothing happened
        assert await use_cases.sweep_overdue(rolled_back, deps(), TODAY) == 1
    assert _overdue_count("health") == before
    n, _ = await sweep(store)
    assert n == 1 and _overdue_count("health") == before + 1
    assert _overdue_count("police") == police  # it answered
