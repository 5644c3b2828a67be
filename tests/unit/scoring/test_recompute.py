"""A determination can be reproduced from outside: each score keeps what it was made of, and
`services.scoring.recompute` recomputes it and names any difference."""

from __future__ import annotations

import copy
from datetime import timedelta

from services.scoring import domain, use_cases
from services.scoring.engine.modules import load_shipped_modules
from services.scoring.engine.rules import load_shipped
from services.scoring.recompute import recompute
from tests.unit.scoring.fake_store import FakeStore
from tests.unit.scoring.test_use_cases import TODAY, police_answer, submitted, sweep


async def scored_store() -> FakeStore:
    store = FakeStore()
    store.add_application(submitted("R-1", TODAY - timedelta(days=1), ["police", "education"]))
    await store.add_answer(police_answer("R-1", ["police", "education"], TODAY - timedelta(days=1)))
    await sweep(store)  # scored with education overdue
    await store.record_texts(use_cases.texts_of(load_shipped().values(), load_shipped_modules().values()))
    return store


async def test_a_stored_score_recomputes_to_the_same_determination_and_points():
    store = await scored_store()
    row = store.scores["R-1"][1]
    assert len(row["determination_id"]) == 64 and row["engine_version"]
    assert row["explanation"]["module_hashes"]  # the modules in force are named by their texts' hashes
    result = await recompute(store, "R-1")
    assert result.matches and result.differences == [] and result.note == ""


async def test_a_changed_stored_result_is_named():
    store = await scored_store()
    store.scores["R-1"][1]["explanation"]["total"] += 10
    store.scores["R-1"][1]["explanation"]["lines"][0]["points"] += 10
    result = await recompute(store, "R-1")
    assert not result.matches
    assert any(d.startswith("total:") for d in result.differences)
    assert any(
        d.startswith(f"line {store.scores['R-1'][1]['explanation']['lines'][0]['indicator']}:")
        for d in result.differences
    )


async def test_changed_answers_give_another_determination_id():
    store = await scored_store()
    store.scores["R-1"][1]["answers"][0]["facts"]["birth_date"] = "1960-05-01"
    result = await recompute(store, "R-1")
    assert not result.matches and any(d.startswith("determination_id:") for d in result.differences)


async def test_without_the_rule_text_nothing_is_claimed():
    store = await scored_store()
    store.texts.pop(store.scores["R-1"][1]["rule_set_hash"])
    result = await recompute(store, "R-1")
    assert not result.matches and "not kept" in result.note


def test_the_determination_id_covers_answers_rules_modules_cut_off_and_engine():
    rules = load_shipped()
    rs, modules = rules["hangzhou-2021"], load_shipped_modules()
    answers = [police_answer("R-2", ["police"], None)]
    cut_off = police_answer("R-2", ["police"], None)["cut_off_date"]
    base = domain.determination_id(answers, rs, modules, cut_off, "1")
    assert base == domain.determination_id(copy.deepcopy(answers), rs, dict(modules), cut_off, "1")
    changed = copy.deepcopy(answers)
    changed[0]["facts"]["birth_date"] = "1991-05-01"
    assert domain.determination_id(changed, rs, modules, cut_off, "1") != base
    assert domain.determination_id(answers, rules["hangzhou-2018"], modules, cut_off, "1") != base
    assert domain.determination_id(answers, rs, {}, cut_off, "1") != base
    assert domain.determination_id(answers, rs, modules, cut_off - timedelta(days=1), "1") != base
    assert domain.determination_id(answers, rs, modules, cut_off, "2") != base
