"""The population file's columns as the OpenFisca system's inputs: one value per person.

An OpenFisca model takes per-person (or per-household) amounts, not lists of records, so the
item lists of the file (spans, donations, honours, offences) are reduced here to the aggregates
the variables read: days covered by the union of spans, months of insurance, sums inside the
look-back, honour matters by their highest level, cases per kind. Written with pyarrow and
NumPy, as a data team prepares a survey for OpenFisca; it shares no code with the engine, so the
benchmark's agreement check compares two independent readings of the same rules.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bench.openfisca_hangzhou.variables import (
    DEDUCTION_CASES,
    HONOUR_LEVELS,
    PATENT_ROLES,
    Education,
    PermitStatus,
    SkillTitle,
)

INSURANCE_KINDS = ("pension", "medical")  # the kinds whose months count (hangzhou-2021)
VETO_CASES = ("serious_crime", "banned_org")  # on record at any time: nothing is scored
EPOCH_MONTH = 1970 * 12
# The file's columns the inputs are derived from (the others need not be read).
COLUMNS = [
    "permit_status",
    "birth_date",
    "education",
    "skill_title",
    "employed",
    "own_home",
    "marrow_donated",
    "blood_donated_ml",
    "residence_spans",
    "rental_spans",
    "social_insurance_spans",
    "volunteer_service",
    "charity_donations",
    "income_tax",
    "investment_tax",
    "honours",
    "patents",
    "offences",
]


def _shift_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _day(d: date) -> int:
    return int(np.datetime64(d, "D").astype(np.int64))


def _ints(arr: pa.Array, missing: int) -> np.ndarray:
    """Days (date32) or numbers as int64, `missing` where null."""
    if pa.types.is_date32(arr.type):
        arr = arr.cast(pa.int32())
    return pc.fill_null(arr.cast(pa.int64()), missing).to_numpy()


def _floats(arr: pa.Array) -> np.ndarray:
    return pc.fill_null(arr.cast(pa.float64()), 0.0).to_numpy()


def _flags(arr: pa.Array) -> np.ndarray:
    return pc.fill_null(arr, False).to_numpy(zero_copy_only=False)


def _enum(arr: pa.Array, enum: type, missing: str, other: str | None = None) -> np.ndarray:
    """Dictionary labels → the enum's indices (unknown labels → `other`, null → `missing`)."""
    arr = arr if pa.types.is_dictionary(arr.type) else pc.dictionary_encode(arr)
    names = [m.name for m in enum]
    fallback = names.index(other or missing)
    table = np.array(
        [names.index(v) if v in names else fallback for v in arr.dictionary.to_pylist()] + [names.index(missing)],
        dtype=np.int16,
    )
    return table[pc.fill_null(arr.indices, len(table) - 1).to_numpy()]


def _items(batch: pa.RecordBatch, name: str) -> tuple[np.ndarray, pa.StructArray]:
    col = batch.column(name)
    return pc.list_parent_indices(col).to_numpy(), col.flatten()


def _union_length(owner: np.ndarray, start: np.ndarray, end: np.ndarray, n: int) -> np.ndarray:
    """Per owner, how much of the line the [start, end) intervals cover (overlaps once)."""
    keep = end > start
    owner, start, end = owner[keep], start[keep], end[keep]
    if len(owner) == 0:
        return np.zeros(n, dtype=np.int64)
    order = np.lexsort((start, owner))
    owner, start, end = owner[order], start[order], end[order]
    # The furthest end seen so far within the owner, through one running maximum: owners are
    # lifted apart by more than any date range.
    lift = owner * (int(end.max()) - int(start.min()) + 1)
    reach = np.maximum.accumulate(end + lift) - lift
    before = np.concatenate(([start[0]], reach[:-1]))
    first = np.concatenate(([True], owner[1:] != owner[:-1]))
    before = np.where(first, start, before)
    return np.bincount(owner, weights=np.maximum(end - np.maximum(start, before), 0), minlength=n).astype(np.int64)


def _span_days(batch: pa.RecordBatch, name: str, cut_off: int) -> np.ndarray:
    owner, spans = _items(batch, name)
    start = _ints(spans.field("start"), cut_off)  # no start: nothing measured
    end = np.minimum(_ints(spans.field("end"), cut_off), cut_off)  # open-ended: up to the cut-off
    return _union_length(owner, start, end, batch.num_rows)


def _month(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _insurance_months(batch: pa.RecordBatch, cut_off: date) -> np.ndarray:
    owner, spans = _items(batch, "social_insurance_spans")
    last = (cut_off.year * 12 + cut_off.month - 1) - EPOCH_MONTH  # the cut-off month does not count
    ok = pc.is_in(spans.field("kind").cast(pa.string()), pa.array(INSURANCE_KINDS)).fill_null(False)
    for excluded in ("transferred_in", "back_paid"):
        ok = pc.and_(ok, pc.invert(pc.fill_null(spans.field(excluded), False)))
    ok = pc.and_(ok, spans.field("start").is_valid()).to_numpy(zero_copy_only=False)
    start = _month(_ints(spans.field("start"), 0)[ok])
    end_days = spans.field("end").filter(pa.array(ok))
    end = np.where(end_days.is_null().to_numpy(zero_copy_only=False), last, _month(_ints(end_days, 0)) + 1)
    return _union_length(owner[ok], start, np.minimum(end, last), batch.num_rows)


def _sum_in_window(batch: pa.RecordBatch, name: str, amount: str, lo: int, hi: int) -> np.ndarray:
    owner, items = _items(batch, name)
    day = _ints(items.field("date"), hi)
    yuan = _floats(items.field(amount))
    inside = (day >= lo) & (day < hi)
    return np.bincount(owner[inside], weights=yuan[inside], minlength=batch.num_rows)


def _labels(arr: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(arr.cast(pa.string()), "").to_numpy(zero_copy_only=False), dtype=object)


def _counts_by(owner: np.ndarray, label: np.ndarray, labels: tuple[str, ...], n: int, prefix: str) -> dict:
    return {f"{prefix}{k}": np.bincount(owner[label == k], minlength=n) for k in labels}


def _honours(batch: pa.RecordBatch, points: dict[str, float]) -> dict[str, np.ndarray]:
    """Per person, how many honour matters reach each level as their highest."""
    owner, items = _items(batch, "honours")
    n = batch.num_rows
    level = _labels(items.field("level"))
    matter = _labels(items.field("matter"))
    rank = np.array([points.get(v, 0.0) for v in level])
    best: dict[tuple[int, str], tuple[float, str]] = {}
    for o, m, r, lv in zip(owner.tolist(), matter.tolist(), rank.tolist(), level.tolist(), strict=True):
        if (o, m) not in best or r > best[(o, m)][0]:
            best[(o, m)] = (r, lv)
    owners = np.array([o for o, _ in best], dtype=np.int64)
    levels = np.array([lv for _, lv in best.values()], dtype=object)
    return _counts_by(owners, levels, HONOUR_LEVELS, n, "honour_matters_")


def _offences(batch: pa.RecordBatch, lo: int, hi: int, deductions: dict[str, float]) -> dict[str, np.ndarray]:
    """Deduction cases in the look-back (one act once, at the largest), and vetoing cases at any time."""
    owner, items = _items(batch, "offences")
    n = batch.num_rows
    case = _labels(items.field("case"))
    act = _labels(items.field("act"))
    day = _ints(items.field("date"), hi)
    out = {"vetoing_cases": np.bincount(owner[np.isin(case, VETO_CASES)], minlength=n)}
    counted = (day >= lo) & (day < hi) & np.isin(case, DEDUCTION_CASES)
    order = list(DEDUCTION_CASES)
    winner: dict[tuple[int, str], str] = {}
    for o, a, c in zip(owner[counted].tolist(), act[counted].tolist(), case[counted].tolist(), strict=True):
        held = winner.get((o, a))
        # The largest deduction wins; on a tie the case listed first.
        if held is None or (abs(deductions[c]), -order.index(c)) > (abs(deductions[held]), -order.index(held)):
            winner[(o, a)] = c
    owners = np.array([o for o, _ in winner], dtype=np.int64)
    cases = np.array(list(winner.values()), dtype=object)
    out.update(_counts_by(owners, cases, DEDUCTION_CASES, n, "cases_"))
    return out


def person_inputs(batch: pa.RecordBatch, cut_off: date, parameters) -> dict[str, np.ndarray]:
    """Every input variable of the system for the batch's persons (`parameters`: at the cut-off)."""
    n = batch.num_rows
    c = _day(cut_off)
    lo = _day(_shift_years(cut_off, -int(parameters.lookback_years)))
    col = batch.column
    years = parameters.per_unit.investment_years
    owner, invest = _items(batch, "investment_tax")
    year = _ints(invest.field("year"), 0)
    counted = (year >= cut_off.year - years) & (year <= cut_off.year - 1)
    owner_p, patents = _items(batch, "patents")
    return {
        "permit_status": _enum(col("permit_status"), PermitStatus, "not_found", "other"),
        "birth_date": _ints(col("birth_date"), _day(date(9999, 12, 31))).astype("datetime64[D]"),
        "education": _enum(col("education"), Education, "none"),
        "skill_title": _enum(col("skill_title"), SkillTitle, "none"),
        "employed": _flags(col("employed")),
        "own_home": _flags(col("own_home")),
        "marrow_donated": _flags(col("marrow_donated")),
        "blood_donated_ml": _floats(col("blood_donated_ml")),
        "residence_days": _span_days(batch, "residence_spans", c),
        "rental_days": _span_days(batch, "rental_spans", c),
        "social_insurance_months": _insurance_months(batch, cut_off),
        "volunteer_hours": _sum_in_window(batch, "volunteer_service", "hours", lo, c),
        "charity_yuan": _sum_in_window(batch, "charity_donations", "yuan", lo, c),
        "income_tax_yuan": _sum_in_window(batch, "income_tax", "yuan", lo, c),
        "investment_tax_yuan": np.bincount(owner[counted], weights=_floats(invest.field("yuan"))[counted], minlength=n),
        **_honours(batch, {lv: float(parameters.honours[lv]) for lv in HONOUR_LEVELS}),
        **_counts_by(owner_p, _labels(patents.field("role")), PATENT_ROLES, n, "patents_"),
        **_offences(batch, lo, c, {k: float(parameters.deductions[k]) for k in DEDUCTION_CASES}),
    }
