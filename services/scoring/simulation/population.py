"""A population file's Arrow batches as the engine's columns, and the groups a report compares.

Columns are read as they are: dictionary labels stay integer codes, dates stay day counts,
and a list column becomes the engine's flattened items (one owner row per item).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from services.scoring.engine import measures
from services.scoring.engine.population import EMPTY, Categorical, Items, Population
from shared import names


def _column(arr: pa.Array) -> np.ndarray | Categorical:
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        arr, t = pc.dictionary_encode(arr), None
    if t is None or pa.types.is_dictionary(t):
        labels = np.asarray(arr.dictionary.cast(pa.string()).fill_null("").to_pylist() + [""], dtype=str)
        codes = arr.indices.fill_null(len(labels) - 1).to_numpy(zero_copy_only=False)
        return Categorical(codes.astype(np.int32, copy=False), labels)
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        return arr.cast(pa.date32()).to_numpy(zero_copy_only=False).astype("datetime64[D]", copy=False)
    if pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return arr.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
    raise ValueError(f"a column of type {t} cannot be scored")


def from_arrow(batch: pa.RecordBatch | pa.Table) -> Population:
    """The holders of one batch; raises ValueError naming the column that cannot be read."""
    if isinstance(batch, pa.Table):
        batch = (
            batch.combine_chunks().to_batches()[0]
            if batch.num_rows
            else pa.RecordBatch.from_pylist([], schema=batch.schema)
        )
    pop = Population(batch.num_rows)
    for name, col in zip(batch.schema.names, batch.columns, strict=True):
        try:
            if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
                owner = pc.list_parent_indices(col)
                values = col.flatten()
                # A null item is no item; a span without its start cannot be measured, so it counts nothing.
                keep = values.is_valid()
                if pa.types.is_struct(values.type) and values.type.get_field_index("start") >= 0:
                    keep = pc.and_(keep, values.field("start").is_valid())
                if keep.false_count:
                    owner, values = owner.filter(keep), values.filter(keep)
                if pa.types.is_struct(values.type):
                    fields = {
                        values.type.field(i).name: _column(values.field(i)) for i in range(values.type.num_fields)
                    }
                else:
                    fields = {"value": _column(values)}
                pop.items[name] = Items(owner.to_numpy().astype(np.int64, copy=False), fields)
            else:
                pop.scalars[name] = _column(col)
        except (pa.ArrowException, ValueError) as exc:
            raise ValueError(f"column {name!r}: {exc}") from exc
    return pop


# -- the groups a report compares -----------------------------------------------------------------
AGE_BANDS = [(18, "18–24"), (25, "25–34"), (35, "35–44"), (45, "45–54"), (55, "55+")]
EDUCATION_ORDER = ["", "high_school", "secondary_vocational", "junior_college", "bachelor", "master", "doctorate"]
RESIDENCE_BANDS = [(0, "0–2"), (3, "3–5"), (6, "6–10"), (11, "11+")]
GROUPS = {
    "age_band": {"zh": "年龄段", "en": "Age band", "labels": ["unknown"] + [b for _, b in AGE_BANDS]},
    "education": {"zh": "文化程度", "en": "Education", "labels": ["none on record"] + EDUCATION_ORDER[1:]},
    "housing": {"zh": "住房", "en": "Housing", "labels": ["owner", "registered renter", "neither"]},
    "residence_years": {"zh": "居住登记年限", "en": "Years of residence", "labels": [b for _, b in RESIDENCE_BANDS]},
}

# Bands are numbers; their unit says what they count.
_BAND_UNIT = {"age_band": "岁", "residence_years": "年"}


def group_label_zh(group: str, label: str) -> str:
    """A group's label as the report shows it: its Chinese name (shared.names), a band with its unit."""
    if label in names.GROUP_LABELS:
        return names.GROUP_LABELS[label].zh
    return f"{label}{_BAND_UNIT.get(group, '')}"


def _band(values: np.ndarray, bands: list[tuple[int, str]], first: int) -> np.ndarray:
    lows = np.array([lo for lo, _ in bands])
    return (first + np.searchsorted(lows, values, side="right") - 1).astype(np.int8)


def _education(pop: Population) -> np.ndarray:
    rank = {label: i for i, label in enumerate(EDUCATION_ORDER)}
    col = pop.scalars.get("education")
    if isinstance(col, Categorical):
        return np.array([rank.get(str(c), 0) for c in col.categories], dtype=np.int8)[col.codes]
    it = pop.items.get("education", EMPTY)
    best = np.zeros(pop.n, dtype=np.int8)
    if len(it):
        values = Categorical.encode(it.fields["value"])
        np.maximum.at(
            best, it.owner, np.array([rank.get(str(c), 0) for c in values.categories], dtype=np.int8)[values.codes]
        )
    return best


def group_codes(pop: Population, cut_off: date) -> dict[str, np.ndarray]:
    """Per group, each holder's label as an index into GROUPS[group]['labels']."""
    age = measures.age(pop.scalars["birth_date"], cut_off) if "birth_date" in pop.scalars else np.full(pop.n, np.nan)
    age_band = np.where(np.isnan(age) | (age < AGE_BANDS[0][0]), 0, _band(np.nan_to_num(age), AGE_BANDS, 1))
    own = pop.scalars.get("own_home")
    owner = np.zeros(pop.n, dtype=bool) if own is None or isinstance(own, Categorical) else np.nan_to_num(own) > 0
    renter = np.bincount(pop.items.get("rental_spans", EMPTY).owner, minlength=pop.n) > 0
    years = measures.span_years(pop.items.get("residence_spans", EMPTY), pop.n, cut_off)
    return {
        "age_band": age_band.astype(np.int8),
        "education": _education(pop),
        "housing": np.where(owner, 0, np.where(renter, 1, 2)).astype(np.int8),
        "residence_years": _band(years, RESIDENCE_BANDS, 0),
    }


# -- what an uploaded file must look like ------------------------------------------------------------
def _kind(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        return "date"
    if pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "label"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return "list"
    return str(t)


_SCALARS = {"date", "number", "label"}


def _unreadable(t: pa.DataType) -> str | None:
    """Why `from_arrow` could not read a column of this type (None: it can), from the type alone."""
    if _kind(t) in _SCALARS:
        return None
    if _kind(t) == "list":
        item = t.value_type
        if _kind(item) in _SCALARS:
            return None
        if pa.types.is_struct(item):
            bad = [f"{f.name} ({f.type})" for f in item if _kind(f.type) not in _SCALARS]
            return f"its items' fields {', '.join(bad)} cannot be scored" if bad else None
        return f"a list of {item} cannot be scored"
    return f"a column of type {t} cannot be scored"


def schema_faults(schema: pa.Schema, expected: pa.Schema) -> list[tuple[str, str]]:
    """(column, what is wrong) for each column named like a fact but not shaped like it (see `expected`),
    and for any column the engine could not read at all (every column is read)."""
    unreadable = [(f.name, why) for f in schema if (why := _unreadable(f.type))]
    known = [name for name in schema.names if name in expected.names]
    if not known:
        return unreadable + [
            ("population", f"no column names a fact the rule sets read (such as {', '.join(expected.names[1:6])})")
        ]
    faults: list[tuple[str, str]] = []
    for name in known:
        have, want = schema.field(name).type, expected.field(name).type
        if _kind(have) != _kind(want):
            faults.append((name, f"must be {_kind(want)} values ({want}), not {have}"))
        elif _kind(want) == "list":
            fields = {f.name: f.type for f in have.value_type} if pa.types.is_struct(have.value_type) else {}
            for sub in want.value_type:
                if sub.name in fields and _kind(fields[sub.name]) != _kind(sub.type):
                    faults.append((f"{name}.{sub.name}", f"must be {_kind(sub.type)} values, not {fields[sub.name]}"))
            needed = (
                {"start"}
                if "start" in want.value_type.names
                else ({"date"} if "date" in want.value_type.names else set())
            )
            if needed - set(fields):
                faults.append((name, f"each item needs {', '.join(sorted(needed - set(fields)))}"))
    told = {column.split(".")[0] for column, _ in faults}  # a fact's column is told how it should be instead
    return [(name, why) for name, why in unreadable if name not in told] + faults
