"""A population of holders' facts in columns: what the engine evaluates.

Scalar facts are one array with a value per holder; list facts (spans, events, items) are
flattened into `Items`: an `owner` array (the holder's row) and one array per field. A
million holders with several spans each stay a handful of NumPy arrays.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

DATE_FIELDS = {"date", "start", "end", "birth_date"}
NAT = np.datetime64("NaT", "D")


@dataclass
class Items:
    owner: np.ndarray  # int64: the holder's row
    fields: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.owner)

    def get(self, name: str, default: Any = None) -> np.ndarray:
        if name in self.fields:
            return self.fields[name]
        return np.full(len(self.owner), default, dtype=object if not isinstance(default, (int, float, bool)) else type(default))


@dataclass
class Population:
    n: int
    scalars: dict[str, np.ndarray] = field(default_factory=dict)
    items: dict[str, Items] = field(default_factory=dict)

    @classmethod
    def from_records(cls, records: list[dict[str, Any]]) -> "Population":
        """Columns from one facts document per holder (the JSON the departments and partners send)."""
        n = len(records)
        keys = sorted({k for r in records for k in r})
        pop = cls(n)
        for key in keys:
            values = [r.get(key) for r in records]
            if any(isinstance(v, (list, tuple)) for v in values):
                pop.items[key] = _items(values)
            else:
                pop.scalars[key] = _column(key, values)
        return pop


def _to_date(value: Any) -> np.datetime64:
    if value is None or value == "":
        return NAT
    if isinstance(value, date):
        return np.datetime64(value, "D")
    return np.datetime64(str(value)[:10], "D")


def _column(name: str, values: list[Any]) -> np.ndarray:
    if name in DATE_FIELDS or name.endswith("_date"):
        return np.array([_to_date(v) for v in values], dtype="datetime64[D]")
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, (bool, int, float)) for v in present):
        return np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    return np.array(values, dtype=object)


def _items(values: list[Any]) -> Items:
    owners: list[int] = []
    rows: list[dict[str, Any]] = []
    for i, v in enumerate(values):
        for entry in v or []:
            owners.append(i)
            rows.append(entry if isinstance(entry, dict) else {"value": entry})
    names = sorted({k for r in rows for k in r})
    return Items(np.array(owners, dtype=np.int64), {k: _column(k, [r.get(k) for r in rows]) for k in names})
