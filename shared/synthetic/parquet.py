"""Populations on disk: one Parquet file, a row per holder, written and read in chunks.

The generator's seed, reference date and version travel in the file's metadata, so a report
can say which population it scored and the same file can be generated again bit for bit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from shared.synthetic.holders import DEFAULT_AS_OF, DEFAULT_SEED, GENERATOR_VERSION, SCHEMA, generate

CHUNK = 1 << 18
META_KEY = b"points.population"


@dataclass(frozen=True)
class PopulationInfo:
    holders: int
    seed: int | None = None  # None: not generated here (an uploaded population)
    as_of: date | None = None
    generator_version: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "holders": self.holders,
            "seed": self.seed,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "generator_version": self.generator_version,
        }


def write_population(
    path: Path,
    holders: int,
    seed: int = DEFAULT_SEED,
    as_of: date = DEFAULT_AS_OF,
    chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None,
) -> PopulationInfo:
    """Holders 1..`holders`, generated chunk by chunk (memory stays flat) into `path`."""
    info = PopulationInfo(holders, seed, as_of, GENERATOR_VERSION)
    schema = SCHEMA.with_metadata({META_KEY: json.dumps(info.as_dict()).encode()})
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with pq.ParquetWriter(partial, schema, compression="zstd") as writer:
        for lo in range(1, holders + 1, chunk):
            batch = generate(np.arange(lo, min(holders, lo + chunk - 1) + 1), seed, as_of)
            writer.write_batch(batch, row_group_size=chunk)
            if progress:
                progress(len(batch))
    partial.replace(path)  # a crash leaves no half-written population under the real name
    return info


def population_info(path: Path) -> PopulationInfo:
    """What a population file holds; raises ValueError when it is not a Parquet file."""
    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValueError(f"not a Parquet file: {exc}") from exc
    raw = (meta.metadata or {}).get(META_KEY)
    try:
        doc = json.loads(raw) if raw else {}
        seed, as_of, version = doc.get("seed"), doc.get("as_of"), doc.get("generator_version")
        if not (seed is None or isinstance(seed, int)) or not (version is None or isinstance(version, int)):
            raise ValueError("seed and generator_version must be integers")
        return PopulationInfo(meta.num_rows, seed, date.fromisoformat(as_of) if as_of is not None else None, version)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"the file's population metadata cannot be read: {exc}") from exc


# Labels inside item lists (an insurance span's kind, an offence's case…) are read as the dictionary
# codes the file stores them as: no string is made per item. Identifiers beside them (an act, a
# matter) have as many values as items and stay strings.
ITEM_LABELS = {"kind", "level", "role", "case"}


def read_batches(path: Path, chunk: int = CHUNK, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    """The file's holders, at most `chunk` at a time; only `columns` (those present) when given.

    A batch never spans two row groups: each row group codes its labels with a dictionary of its own.
    """
    meta = pq.read_metadata(path)  # the footer, read once: it gives the schema and opens the file
    schema = meta.schema
    leaves = [schema.column(i) for i in range(len(schema))]
    labels = [c.path for c in leaves if c.physical_type == "BYTE_ARRAY" and c.path.split(".")[-1] in ITEM_LABELS]
    file = pq.ParquetFile(path, metadata=meta, read_dictionary=[p for p in labels if "." in p])
    if columns is not None:
        columns = [c for c in columns if c in file.schema_arrow.names]
    batches = (
        batch
        for group in range(file.num_row_groups)
        for batch in file.iter_batches(batch_size=chunk, row_groups=[group], columns=columns)
    )
    yield from _read_ahead(batches)


def _read_ahead(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Each next batch is read in a thread while the caller works on this one: Parquet decoding
    releases the GIL, so on two cores reading and scoring overlap instead of taking turns."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet-read-ahead") as reader:
        pending = reader.submit(next, batches, None)
        while (batch := pending.result()) is not None:
            pending = reader.submit(next, batches, None)
            yield batch
