"""The engine beside OpenFisca (bench/openfisca_hangzhou): both read the same population file and
must give every holder the same total, or the benchmark's ratio compares different things."""

from __future__ import annotations

import numpy as np
import pytest

from bench import peer
from bench.openfisca_hangzhou import HangzhouSystem
from bench.openfisca_hangzhou.run import totals as openfisca_totals
from services.scoring.engine.evaluate import SCORED, evaluate, evaluate_totals, facts_read
from services.scoring.engine.rules import load_shipped
from services.scoring.simulation.population import from_arrow
from shared.synthetic.parquet import population_info, read_batches, write_population

HOLDERS = 6_000


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    path = tmp_path_factory.mktemp("peer") / "population.parquet"
    write_population(path, HOLDERS, chunk=2_500)  # three record batches, the last one short
    return path


@pytest.fixture(scope="module")
def rule_set():
    return load_shipped()["hangzhou-2021"]


def test_openfisca_and_the_engine_agree_on_every_holder(population, rule_set):
    cut_off = population_info(population).as_of
    theirs = openfisca_totals(HangzhouSystem(), read_batches(population, 2_500), cut_off)
    full = [evaluate(rule_set, from_arrow(b), cut_off) for b in read_batches(population, 2_500)]
    ours = np.concatenate([ev.totals for ev in full])
    assert len(theirs) == len(ours) == HOLDERS
    assert np.array_equal(theirs, ours), np.nonzero(theirs != ours)[0][:10]
    # Not trivially so: most holders score, a few are not scored at all, and deductions occur.
    status = np.concatenate([ev.status_code for ev in full])
    assert (ours[status == SCORED] > 0).mean() > 0.9
    assert (status != SCORED).sum() > 0 and (ours[status != SCORED] == 0).all()
    assert len(np.unique(ours)) > 100


def test_the_totals_road_gives_the_full_evaluations_totals(population, rule_set):
    cut_off = population_info(population).as_of
    columns = facts_read(rule_set)
    for whole, read in zip(read_batches(population, 2_500), read_batches(population, 2_500, columns), strict=True):
        assert set(read.schema.names) == set(columns) and "district" in whole.schema.names
        expected = evaluate(rule_set, from_arrow(whole), cut_off).totals
        # Several chunks per batch: buffers reused across indicators and chunks leave nothing behind.
        got = evaluate_totals(rule_set, from_arrow(read), cut_off, chunk=1_000)
        assert np.array_equal(got, expected)


def test_the_benchmark_checks_both_sides_on_the_same_file(population):
    r = peer.compare(population, runs=2, rounds=2)
    assert r["holders"] == HOLDERS and r["holders_disagreeing"] == 0 and r["rounds_agree"]
    for side in ("engine", "openfisca"):
        runs = [s for process in r[side]["runs_s"] for s in process]
        assert len(runs) == 4 and r[side]["best_s"] == min(runs)
        assert r[side]["first_s"] == min(process[0] for process in r[side]["runs_s"])
        assert r[side]["peak_rss_mib"] > 0 and 0 < r[side]["best_cpu_s"] <= r[side]["first_cpu_s"] * 5
        assert {"read", "derive", "evaluate"} <= set(r[side]["first_phases"])
    assert r["ratio_best"] == pytest.approx(r["openfisca"]["best_s"] / r["engine"]["best_s"], rel=0.02)
    assert "holders whose totals differ: 0" in peer.summary(r)
