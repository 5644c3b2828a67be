"""The synthetic population, drafts, and the comparison a simulation report is made of."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest

from services.scoring.engine.evaluate import SCORED, evaluate
from services.scoring.engine.rules import RuleSetError, load_shipped
from services.scoring.simulation.cli import EXAMPLE
from services.scoring.simulation.compare import Comparison, Line
from services.scoring.simulation.drafts import parse_draft
from services.scoring.simulation.population import from_arrow
from services.scoring.simulation.report import write_report
from shared.synthetic.holders import DEFAULT_AS_OF, generate
from shared.synthetic.parquet import population_info, read_batches, write_population

RULES = load_shipped()
CUT_OFF = DEFAULT_AS_OF


@pytest.fixture(scope="module")
def city():
    return generate(np.arange(1, 100_001))


def test_a_holder_has_the_same_facts_alone_in_a_chunk_or_in_the_city(city):
    assert generate(np.array([73_219])).to_pylist() == city.slice(73_218, 1).to_pylist()
    assert generate(np.arange(5, 9), seed=1).to_pylist() != city.slice(4, 4).to_pylist()  # the seed matters


def test_the_population_follows_its_documented_distributions(city):
    n = city.num_rows
    share = lambda col: pc.sum(city.column(col)).as_py() / n  # noqa: E731
    assert share("employed") == pytest.approx(0.84, abs=0.01)
    assert 0.15 < share("own_home") < 0.25
    statuses = {d["values"]: d["counts"] / n for d in pc.value_counts(city.column("permit_status")).to_pylist()}
    assert statuses["valid"] == pytest.approx(0.974, abs=0.005)
    born = city.column("birth_date").to_numpy(zero_copy_only=False).astype("datetime64[D]")
    age = (np.datetime64(CUT_OFF) - born).astype(int) / 365.2425
    assert ((age >= 25) & (age < 35)).mean() == pytest.approx(0.38, abs=0.01)
    assert age.min() >= 18 and age.max() < 65
    renters = pc.list_value_length(city.column("rental_spans")).to_numpy() > 0
    assert not (renters & city.column("own_home").to_numpy(zero_copy_only=False)).any()  # owners do not rent too
    offences = pc.list_flatten(city.column("offences")).field("case")
    assert 0.009 < len(offences) / n < 0.018


def test_a_population_file_round_trips_with_its_metadata(tmp_path):
    path = tmp_path / "p.parquet"
    info = write_population(path, 1500, seed=3, as_of=date(2026, 6, 1), chunk=1000)
    assert population_info(path) == info and info.as_of == date(2026, 6, 1)
    back = [b.to_pylist() for b in read_batches(path)]
    assert sum(back, []) == generate(np.arange(1, 1501), seed=3, as_of=date(2026, 6, 1)).to_pylist()
    with pytest.raises(ValueError, match="not a Parquet file"):
        (tmp_path / "x.parquet").write_text("id,name\n")
        population_info(tmp_path / "x.parquet")


def test_a_draft_changes_only_what_it_names():
    draft = parse_draft(EXAMPLE.read_text(encoding="utf-8"), EXAMPLE.name, RULES)
    base = RULES["hangzhou-2021"]
    assert [i.id for i in draft.indicators] == [i.id for i in base.indicators]
    assert draft.indicator("housing") != base.indicator("housing")
    assert all(draft.indicator(i.id) == i for i in base.indicators if i.id != "housing")
    fewer = parse_draft("based_on: hangzhou-2021\nid: no-tax\nremove: [tax]\n", "d.yaml", RULES)
    assert "tax" not in [i.id for i in fewer.indicators] and fewer.id == "no-tax"
    with pytest.raises(RuleSetError, match="field 'remove'.*no_such"):
        parse_draft("based_on: hangzhou-2021\nid: x\nremove: [no_such]\n", "d.yaml", RULES)
    with pytest.raises(RuleSetError, match="indicator 'housing', field 'formula"):
        parse_draft(
            "based_on: hangzhou-2021\nid: x\nindicators:\n  - {id: housing, category: basic, "
            "name: {zh: 住, en: h}, department: housing, fact: own_home, formula: {kind: flag}}\n",
            "d.yaml",
            RULES,
        )


def _compare(batch, draft, **kw) -> dict:
    c = Comparison(RULES["hangzhou-2021"], draft, CUT_OFF, **kw)
    for lo in range(0, batch.num_rows, 30_000):  # in chunks, as from a file
        c.add(from_arrow(batch.slice(lo, 30_000)))
    return c.summary()


def test_the_same_rules_change_nothing(city):
    s = _compare(city.slice(0, 20_000), RULES["hangzhou-2021"])
    assert s["change"]["unchanged"] == 20_000 and s["change"]["gainers"] == s["change"]["losers"] == 0
    assert all(r["mean_change"] == 0 and r["holders_changed"] == 0 for r in s["indicators"])
    assert s["score"]["before"] == s["score"]["after"]


def test_the_comparison_agrees_with_scoring_everyone_at_once(city):
    batch = city.slice(0, 60_000)
    draft = parse_draft(EXAMPLE.read_text(encoding="utf-8"), EXAMPLE.name, RULES)
    s = _compare(batch, draft, line=Line(threshold=150, quota=5_000))
    pop = from_arrow(batch)
    before, after = evaluate(RULES["hangzhou-2021"], pop, CUT_OFF), evaluate(draft, pop, CUT_OFF)
    delta = after.totals - before.totals
    assert s["change"]["gainers"] == int((delta > 0).sum()) and s["change"]["losers"] == int((delta < 0).sum())
    housing = next(r for r in s["indicators"] if r["indicator"] == "housing")
    assert housing["share_of_change"] == pytest.approx(1.0)
    assert housing["holders_changed"] == int((delta != 0).sum())
    for side, ev in (("before", before), ("after", after)):
        ok = (ev.status_code == SCORED) & (ev.totals >= 150)
        top = np.sort(ev.totals[ok])[::-1]
        assert s["line"][side]["qualified"] == min(5_000, ok.sum())
        assert s["line"][side]["lowest_qualifying_score"] == top[min(5_000, len(top)) - 1]
    for group in s["groups"].values():
        assert sum(r["holders"] for r in group["labels"]) == 60_000
        assert sum(r["newly_qualified"] for r in group["labels"]) == s["line"]["newly_qualified"]
    renters = next(r for r in s["groups"]["housing"]["labels"] if r["label"] == "registered renter")
    assert renters["mean_change"] > 0 and renters["losers"] == 0


def test_a_module_compares_module_totals_and_takes_its_round():
    from services.scoring.engine.modules import load_shipped_modules

    modules = load_shipped_modules()
    batch = generate(np.arange(1, 20_001))
    draft = parse_draft(EXAMPLE.read_text(encoding="utf-8"), EXAMPLE.name, RULES)
    s = _compare(batch, draft, module=modules["settlement"])  # no line given: the module's round of 2023
    assert s["line"]["threshold"] == 100 and s["line"]["quota"] is None
    assert s["scores_are"].startswith("module totals")
    s = _compare(batch, draft, module=modules["binjiang-talent"], line=Line(threshold=120))
    assert s["module"]["id"] == "binjiang-talent"
    rows = {r["indicator"]: r for r in s["indicators"]}
    assert rows["binjiang-talent/district_residence"]["mean_before"] > 0  # the module's own points are rows
    for side in ("before", "after"):  # and the rows add up to the module totals compared
        total = sum(r[f"mean_{side}"] for r in s["indicators"]) * s["holders"]
        assert total == pytest.approx(s["score"][side]["mean"] * s["score"][side]["holders"], rel=1e-6)
    base = evaluate(RULES["hangzhou-2021"], from_arrow(batch), CUT_OFF)
    assert s["score"]["before"]["mean"] > float(base.totals[base.status_code == SCORED].mean())  # module points added


def test_group_breakdowns_are_each_groups_own_sums(city):
    from services.scoring.simulation.population import GROUPS, group_codes

    batch = city.slice(0, 40_000)
    draft = parse_draft("based_on: hangzhou-2021\nid: d\nremove: [tax, volunteering]\n", "d.yaml", RULES)
    s = _compare(batch, draft)
    pop = from_arrow(batch)
    ev = evaluate(RULES["hangzhou-2021"], pop, CUT_OFF)
    scored = ev.status_code == SCORED
    codes = group_codes(pop, CUT_OFF)
    tax = [i.id for i in RULES["hangzhou-2021"].indicators].index("tax")
    for g, c in codes.items():
        labels = [r["label"] for r in s["groups"][g]["labels"]]
        for i, label in enumerate(GROUPS[g]["labels"]):
            if label not in labels:
                continue
            mine = c == i
            row = s["groups"][g]["labels"][labels.index(label)]
            expected = -float(np.where(scored & mine, ev.counted[tax], 0).sum()) / mine.sum()
            assert row["indicators"].get("tax", 0.0) == pytest.approx(expected, abs=1e-4), (g, label)
            assert row["holders"] == mine.sum()


def test_uploaded_columns_may_hold_nulls():
    import pyarrow as pa

    spans = pa.array(
        [[{"start": date(2015, 3, 1), "end": None}, None], [{"start": None, "end": date(2021, 1, 1)}], None],
        type=pa.list_(pa.struct([("start", pa.date32()), ("end", pa.date32())])),
    )
    batch = pa.RecordBatch.from_pydict(
        {"residence_spans": spans, "education": pa.array(["bachelor", None, None]).dictionary_encode()}
    )
    pop = from_arrow(batch)
    assert pop.items["residence_spans"].owner.tolist() == [0]  # a null item, a span without a start: nothing
    assert from_arrow(batch.slice(1, 2)).items["residence_spans"].owner.tolist() == []
    ev = evaluate(RULES["hangzhou-2021"], pop, CUT_OFF)
    residence = [i.id for i in RULES["hangzhou-2021"].indicators].index("residence")
    assert ev.values[residence].tolist() == [11.0, 0.0, 0.0]


def test_drafts_of_the_wrong_shape_are_refused_by_field():
    cases = {
        "based_on: [x]\nid: d\n": "based_on",
        "based_on: hangzhou-2021\n": "id",
        "based_on: hangzhou-2021\nid: hangzhou-2021\n": "id",
        "based_on: hangzhou-2021\nid: d\nremove: 5\n": "remove",
        "based_on: hangzhou-2021\nid: d\nremove: [[tax]]\n": "remove",
        "based_on: hangzhou-2021\nid: d\nindicators: [{id: [a]}]\n": "indicators",
    }
    for text, field in cases.items():
        with pytest.raises(RuleSetError, match=f"field '{field}'"):
            parse_draft(text, "d.yaml", RULES)


def test_unreadable_population_metadata_is_a_clear_error(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    for meta in (b"[]", b'{"as_of": 5}', b'{"seed": "x"}', b"{not json"):
        path = tmp_path / "m.parquet"
        pq.write_table(pa.table({"own_home": [True]}).replace_schema_metadata({b"points.population": meta}), path)
        with pytest.raises(ValueError, match="metadata cannot be read"):
            population_info(path)


def test_the_report_holds_the_charts_and_every_figure(city, tmp_path):
    draft = parse_draft(EXAMPLE.read_text(encoding="utf-8"), EXAMPLE.name, RULES)
    s = _compare(city.slice(0, 10_000), draft, line=Line(quota=1_000))
    html = write_report(s, tmp_path / "r")
    page = html.read_text(encoding="utf-8")
    assert page.count("<svg") == 3 + len(s["groups"])  # distribution, crossing, indicators, one per group
    for label in ("登记租房", "25–34岁", "本科", "11+年", "合法稳定住所"):
        assert label in page
    # Groups, indicators and statuses by their names, never their codes.
    for code in ("registered renter", "bachelor", "none on record", ">scored<", ">housing "):
        assert code not in page, code
    # The headline states who gains and who loses a place, and who gains and loses points.
    line = s["line"]
    headline = re.search(r'<p class="headline" id="headline">(.*?)</p>', page, re.S).group(1)
    assert f"{line['newly_qualified']:,} 人新达线" in headline
    assert f"{line['no_longer_qualified']:,} 人不再达线" in headline
    assert f"{s['change']['losers']:,} 人得分降低" in headline
    # Red says a loss: never on a zero.
    if s["change"]["losers"] == 0:
        assert '<b class="loss">0</b>' not in page and '<span class="loss">0 人得分降低' not in headline
    # Both cut-off lines are in the key with their values, however close they fall.
    before, after = line["before"]["lowest_qualifying_score"], line["after"]["lowest_qualifying_score"]
    key = re.search(r'<ul class="key" id="distribution-key">(.*?)</ul>', page, re.S).group(1)
    if before == after:
        assert f"入围线（前后相同）{before:g} 分" in key
    else:
        assert f"现行入围线 {before:g} 分" in key and f"草案入围线 {after:g} 分" in key
    assert json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8")) == json.loads(json.dumps(s))
    assert not list(Path(tmp_path / "r").glob("*.partial"))


def test_a_population_nobody_can_be_scored_in_still_gets_a_report(tmp_path):
    import pyarrow as pa

    batch = generate(np.arange(1, 50))
    batch = batch.set_column(
        batch.schema.get_field_index("permit_status"),
        "permit_status",
        pa.array(["terminated"] * batch.num_rows).dictionary_encode(),
    )
    s = _compare(batch, RULES["hangzhou-2021"], line=Line(quota=5))
    assert s["status"]["before"]["void"] == 49 and s["score"]["before"]["holders"] == 0
    assert s["line"]["before"] == {"qualified": 0, "lowest_qualifying_score": None}
    assert "—" in write_report(s, tmp_path / "r").read_text(encoding="utf-8")
