"""What an uploaded population may hold, judged from the Parquet file's metadata alone.

A Parquet file compresses repeated values to almost nothing: a file of a few kilobytes can hold
list columns of tens of millions of items, which cost gigabytes once read. The footer says how
many rows each row group has, how many values each column chunk holds and how large each is
decompressed, so the service refuses such a file without reading a single column; the columns
themselves are read only by the job's child process (job_runner.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow.parquet as pq


@dataclass(frozen=True)
class UploadLimits:
    max_holders: int
    max_items_per_holder: int  # in any one list column, on average over each row group
    max_decompressed_bytes: int  # the whole file, every column chunk decompressed


def _top_level(path_in_schema: str, names: list[str]) -> str:
    """The column a leaf belongs to ("income_tax.list.element.yuan" → "income_tax"); names may hold dots."""
    return max(
        (n for n in names if path_in_schema == n or path_in_schema.startswith(n + ".")),
        key=len,
        default=path_in_schema.split(".")[0],
    )


def limit_faults(
    meta: pq.FileMetaData, names: list[str], lists: set[str], limits: UploadLimits
) -> list[tuple[str, str]]:
    """(column or "population", what is over its limit); `lists` names the list columns."""
    faults: dict[str, str] = {}
    if meta.num_rows > limits.max_holders:
        faults["population"] = f"{meta.num_rows:,} holders: at most {limits.max_holders:,}"
    decompressed = 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        items: dict[str, int] = {}
        for c in range(group.num_columns):
            chunk = group.column(c)
            decompressed += chunk.total_uncompressed_size
            column = _top_level(chunk.path_in_schema, names)
            if column in lists:  # each leaf of a list of structs holds one value per item
                items[column] = max(items.get(column, 0), chunk.num_values)
        most = limits.max_items_per_holder * max(group.num_rows, 1)
        for column, n in items.items():
            if n > most and column not in faults:
                faults[column] = (
                    f"{n:,} items for {group.num_rows:,} holders in row group {g}: "
                    f"at most {limits.max_items_per_holder} a holder"
                )
    if decompressed > limits.max_decompressed_bytes and "population" not in faults:
        faults["population"] = f"{decompressed:,} bytes once decompressed: at most {limits.max_decompressed_bytes:,}"
    return list(faults.items())
