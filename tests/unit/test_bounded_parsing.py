"""Bounds on what an upload may cost to read: YAML aliases, and a Parquet file's lists."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from services.scoring.engine.bounded_yaml import MAX_NODES
from services.scoring.engine.rules import RULESET_DIR, RuleSetError, load_shipped, read_mapping
from services.scoring.simulation.population import schema_faults
from services.scoring.simulation.upload_limits import UploadLimits, limit_faults
from shared.synthetic.holders import SCHEMA as POPULATION_SCHEMA
from shared.synthetic.parquet import write_population

LIMITS = UploadLimits(max_holders=10_000, max_items_per_holder=50, max_decompressed_bytes=64 * 1024 * 1024)


def laughs(levels: int, fan_out: int = 9) -> str:
    return f"l0: &a0 [{', '.join(['lol'] * fan_out)}]\n" + "".join(
        f"l{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan_out)}]\n" for i in range(1, levels)
    )


def test_a_billion_laughs_is_refused_at_once():
    started = time.perf_counter()
    with pytest.raises(RuleSetError, match=r"d\.yaml: too large: .*more than 20,000 nodes"):
        read_mapping(laughs(10), "d.yaml", "a draft")
    assert time.perf_counter() - started < 0.5


def test_aliases_are_counted_as_often_as_they_are_used():
    # Level k stands for 11, 111, 1,111, … nodes: four levels make about 12,300 (under 20,000), five 123,000.
    assert read_mapping(laughs(4, fan_out=10), "d.yaml", "x")["l3"][9][9][9][9] == "lol"
    with pytest.raises(RuleSetError, match="too large"):
        read_mapping(laughs(5, fan_out=10), "d.yaml", "x")


def test_an_alias_inside_its_own_anchor_is_refused():
    with pytest.raises(RuleSetError, match="refers to the node that contains it"):
        read_mapping("a: &a [1, *a]\n", "d.yaml", "x")


def test_a_long_document_without_aliases_is_cut_short_at_the_limit():
    with pytest.raises(RuleSetError, match="too large"):
        read_mapping("a: [" + ", ".join(["1"] * (MAX_NODES + 1)) + "]\n", "d.yaml", "x")
    assert len(read_mapping("a: [" + ", ".join(["1"] * (MAX_NODES // 2)) + "]\n", "d.yaml", "x")["a"]) == MAX_NODES // 2


def test_the_shipped_rule_sets_are_far_inside_the_limit():
    assert set(load_shipped()) == {p.stem for p in RULESET_DIR.glob("*.yaml")}


def _faults(path: Path, limits: UploadLimits = LIMITS) -> list[tuple[str, str]]:
    f = pq.ParquetFile(path)
    lists = {fld.name for fld in f.schema_arrow if pa.types.is_list(fld.type)}
    return limit_faults(f.metadata, f.schema_arrow.names, lists, limits)


def test_a_generated_population_is_within_the_limits(tmp_path):
    path = tmp_path / "p.parquet"
    write_population(path, 2_000, chunk=1_000)
    assert _faults(path) == []
    # …and the same file is over limits set below what it holds.
    assert [c for c, _ in _faults(path, UploadLimits(1_000, 50, 1 << 30))] == ["population"]
    assert [c for c, _ in _faults(path, UploadLimits(10_000, 50, 1_000))] == ["population"]
    assert "income_tax" in [c for c, _ in _faults(path, UploadLimits(10_000, 1, 1 << 30))]


def test_lists_that_expand_to_millions_of_items_are_named_from_the_footer(tmp_path):
    holders, each = 100, 20_000
    n = holders * each
    spans = pa.StructArray.from_arrays(
        [pa.array(np.full(n, 18_000, dtype=np.int32)).cast(pa.date32()), pa.nulls(n, pa.date32())],
        names=["start", "end"],
    )
    pq.write_table(
        pa.table(
            {
                "birth_date": pa.nulls(holders, pa.date32()),
                "residence_spans": pa.ListArray.from_arrays(pa.array(np.arange(0, n + 1, each, dtype=np.int32)), spans),
            }
        ),
        tmp_path / "bomb.parquet",
        compression="zstd",
    )
    assert (tmp_path / "bomb.parquet").stat().st_size < 64 * 1024
    assert _faults(tmp_path / "bomb.parquet") == [
        ("residence_spans", "2,000,000 items for 100 holders in row group 0: at most 50 a holder")
    ]


def test_a_column_the_engine_cannot_read_is_named_from_the_schema():
    """Every column is read, by the job's child: one it could never read is refused before the job is queued."""
    schema = pa.schema(
        [
            ("birth_date", pa.date32()),
            ("photo", pa.binary()),
            ("notes", pa.struct([("x", pa.int8())])),
            ("income_tax", pa.list_(pa.struct([("date", pa.date32()), ("yuan", pa.float64()), ("scan", pa.binary())]))),
            ("own_home", pa.bool_()),
            ("district", pa.dictionary(pa.int8(), pa.string())),
        ]
    )
    assert schema_faults(schema, POPULATION_SCHEMA) == [
        ("photo", "a column of type binary cannot be scored"),
        ("notes", "a column of type struct<x: int8> cannot be scored"),
        ("income_tax", "its items' fields scan (binary) cannot be scored"),
    ]
    # The generator's own schema is readable throughout.
    assert schema_faults(POPULATION_SCHEMA, POPULATION_SCHEMA) == []
