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
class Categorical:
    """Labels stored as integer codes into a small table of distinct labels.

    Matching a million education levels against six table entries is then a lookup in an
    array of six, not a million string comparisons.
    """

    codes: np.ndarray  # int32 into `categories`
    categories: np.ndarray  # distinct labels ('' for missing)

    @classmethod
    def encode(cls, values: Any) -> Categorical:
        if isinstance(values, Categorical):
            return values
        arr = np.asarray(values)
        if arr.dtype.kind != "U":
            arr = (
                np.array(["" if v is None else str(v) for v in arr], dtype=str) if len(arr) else np.zeros(0, dtype=str)
            )
        categories, codes = np.unique(arr, return_inverse=True)
        return cls(codes.ravel().astype(np.int32), categories)

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (int, np.integer)):
            return str(self.categories[self.codes[index]])
        return Categorical(self.codes[index], self.categories)

    def lookup(self, table: dict[str, float], default: float = 0.0) -> np.ndarray:
        lut = np.array([table.get(str(c), default) for c in self.categories], dtype=float)
        return lut[self.codes] if len(lut) else np.zeros(len(self.codes))

    def isin(self, labels: Any) -> np.ndarray:
        # The table is a handful of labels: a set lookup each beats np.isin's sorting, run per chunk.
        wanted = set(labels)
        mask = np.array([c in wanted for c in self.categories.tolist()], dtype=bool)
        hit: np.ndarray = mask[self.codes] if len(mask) else np.zeros(len(self.codes), dtype=bool)
        return hit

    def equals(self, label: str) -> np.ndarray:
        return self.isin([label])

    def decode(self) -> np.ndarray:
        labels: np.ndarray = self.categories[self.codes]
        return labels


# A chunk's choices of category or option: plain labels, or labels kept as codes.
Choices = np.ndarray | Categorical


@dataclass
class Items:
    owner: np.ndarray  # int64: the holder's row
    fields: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.owner)

    def where(self, mask: np.ndarray) -> Items:
        """Only the items where `mask` holds."""
        return Items(self.owner[mask], {k: v[mask] for k, v in self.fields.items()})


EMPTY = Items(np.zeros(0, dtype=np.int64), {})  # a fact nobody in the population has


@dataclass
class Population:
    n: int
    scalars: dict[str, np.ndarray] = field(default_factory=dict)
    items: dict[str, Items] = field(default_factory=dict)

    def slice(self, lo: int, hi: int) -> Population:
        """Holders lo..hi-1 as a population of their own (items must be ordered by owner)."""
        part = Population(hi - lo, {k: v[lo:hi] for k, v in self.scalars.items()})
        for name, it in self.items.items():
            a, b = np.searchsorted(it.owner, [lo, hi])
            part.items[name] = Items(it.owner[a:b] - lo, {k: v[a:b] for k, v in it.fields.items()})
        return part

    def ordered(self) -> Population:
        """The same population with every item list ordered by owner (a no-op when already so)."""
        out = Population(self.n, self.scalars)
        for name, it in self.items.items():
            if len(it.owner) > 1 and not (it.owner[1:] >= it.owner[:-1]).all():
                order = np.argsort(it.owner, kind="stable")
                it = Items(it.owner[order], {k: v[order] for k, v in it.fields.items()})
            out.items[name] = it
        return out

    @classmethod
    def from_records(cls, records: list[dict[str, Any]]) -> Population:
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
    return Categorical.encode(values)  # type: ignore[return-value]


def _items(values: list[Any]) -> Items:
    owners: list[int] = []
    rows: list[dict[str, Any]] = []
    for i, v in enumerate(values):
        for entry in v or []:
            owners.append(i)
            rows.append(entry if isinstance(entry, dict) else {"value": entry})
    names = sorted({k for r in rows for k in r})
    return Items(np.array(owners, dtype=np.int64), {k: _column(k, [r.get(k) for r in rows]) for k in names})
