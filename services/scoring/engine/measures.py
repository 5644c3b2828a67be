"""Measures: raw fact → the number a formula scores (spans → full years or months, birth dates →
ages, dated amounts → sums), each kind with its vectorised rule and its one-holder reference.

All counting stops before the cut-off date (spans are clipped to it, events on or after it
do not count); the look-back window starts the same day `lookback_years` earlier, inclusive.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from services.scoring.engine.population import EMPTY, Categorical, Items, Population
from services.scoring.engine.schema import Strict
from shared.calendar import shift_years

# The unit a summed field is counted in, as a reader names it.
FIELD_UNITS = {"hours": "小时", "yuan": "元", "ml": "毫升", "days": "天"}


class Intervals:
    """A union of half-open integer intervals (days, months), kept merged: how much a new one adds."""

    def __init__(self) -> None:
        self.parts: list[tuple[int, int]] = []

    def add(self, lo: int, hi: int) -> int:
        """Add [lo, hi); the number of its points not already covered."""
        if hi <= lo:
            return 0
        overlap = sum(max(0, min(hi, b) - max(lo, a)) for a, b in self.parts)
        merged = [(a, b) for a, b in self.parts if b < lo or a > hi]
        touching = [(a, b) for a, b in self.parts if not (b < lo or a > hi)]
        merged.append((min([lo, *(a for a, _ in touching)]), max([hi, *(b for _, b in touching)])))
        self.parts = sorted(merged)
        return (hi - lo) - overlap

    @property
    def length(self) -> int:
        return sum(b - a for a, b in self.parts)


def record(item: Any, counted: str | None, left_out: str | None) -> dict[str, Any]:
    """One record as an explanation accounts for it: what of it counted, or why it was left out."""
    return {"record": item, "counted": counted, "left_out": left_out}


def remainder(text: str) -> dict[str, Any]:
    """What a total lost to the unit (a part year, a part month), as a line of its own."""
    return {"record": None, "counted": None, "left_out": text}


def account_of(spec: Measure | None, raw: Any, cut_off: date, lookback_years: int) -> list[dict[str, Any]]:
    """The records behind a measured fact (none for a bare value or an age)."""
    account = getattr(spec, "account", None)
    return account(raw, cut_off, lookback_years) if account is not None else []


def unit_of(spec: Measure | None) -> str:
    """The unit a measure counts in ("年", "个月"), or "" for a bare number."""
    return spec.unit_name if spec is not None else ""


def basis_of(spec: Measure | None) -> str:
    """What a measure counts over, in words ("回溯期内累计"), or "" where the unit says it all."""
    return spec.basis if spec is not None else ""


def truthy(values: np.ndarray) -> np.ndarray:
    """True, or a positive number; missing (None/NaN) is false."""
    if values.dtype == object:
        return np.array([v is True or (isinstance(v, (int, float)) and v == v and v > 0) for v in values], dtype=bool)
    return values > 0  # NaN compares false


def lookback_start(cut_off: date, years: int) -> date:
    return shift_years(cut_off, -years)


def _days(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype="datetime64[D]").view(np.int64)  # no copy for day-typed columns


def union_length(owner: np.ndarray, start: np.ndarray, end: np.ndarray, n: int) -> np.ndarray:
    """Per owner, the length of the union of [start, end) intervals: gaps summed, overlaps once."""
    keep = end > start
    if not keep.all():
        owner, start, end = owner[keep], start[keep], end[keep]
    if len(owner) == 0:
        return np.zeros(n, dtype=np.int64)
    # Lift each owner's intervals above the previous owner's, by more than any date range: one int64
    # line then orders (owner, start) and one running maximum serves every owner at once.
    base = int(start.min())
    lift = owner * (int(end.max()) - base + 1) - base
    lo, hi = start + lift, end + lift
    if len(lo) > 1 and not (lo[1:] >= lo[:-1]).all():
        order = np.argsort(lo, kind="stable")  # a radix sort for integers: ten times quicker here
        owner, lo, hi = owner[order], lo[order], hi[order]
    # What each interval adds: its part beyond the furthest end reached before it (an earlier owner's
    # reach lies below this owner's lifted line, so it never counts against it).
    reach = np.maximum.accumulate(hi)
    counted = hi - lo
    counted[1:] = hi[1:] - np.maximum(lo[1:], reach[:-1])
    np.maximum(counted, 0, out=counted)
    return np.bincount(owner, weights=counted, minlength=n).astype(np.int64)


def span_years(items: Items, n: int, cut_off: date) -> np.ndarray:
    """Full years in the spans before the cut-off: days → months (30 days) → years (12 months)."""
    if len(items) == 0:
        return np.zeros(n)
    c = np.datetime64(cut_off, "D").astype(np.int64)
    start = _days(items.fields["start"])
    end = items.fields.get("end")
    end = np.full(len(items), c) if end is None else np.where(np.isnat(end), c, _days(end))
    days = union_length(items.owner, start, np.minimum(end, c), n)
    return ((days // 30) // 12).astype(float)


@lru_cache(maxsize=1)
def _months_by_day() -> tuple[int, np.ndarray]:
    """(first day, the month since 1970 of every day from 1900 to 2200): built once per process."""
    days = np.arange(np.datetime64("1900-01-01", "D"), np.datetime64("2200-01-01", "D"))
    table = days.astype("datetime64[M]").astype(np.int64)
    table.setflags(write=False)
    return int(days[0].astype(np.int64)), table


def _month_index(values: np.ndarray) -> np.ndarray:
    """Months since 1970 of each date (NaT → NaT's integer). Calendar conversion is slow per
    element, so each day's month is looked up in a table built once (dates outside it, if any,
    convert through a table of the range they cover)."""
    days = _days(values)
    valid = ~np.isnat(np.asarray(values, dtype="datetime64[D]"))
    every = bool(valid.all())
    if not every and not valid.any():
        return days
    known = days if every else days[valid]
    lo, hi = int(known.min()), int(known.max())
    first, table = _months_by_day()
    if not (first <= lo and hi < first + len(table)):
        first = lo
        table = np.arange(lo, hi + 1).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    if every:
        months: np.ndarray = table[days - first]
        return months
    return np.where(valid, table[np.clip(days - first, lo - first, hi - first)], days)


def insurance_months(items: Items, n: int, cut_off: date, insurance: list[str]) -> np.ndarray:
    """Distinct months before the cut-off month, of the given kinds, not transferred in or back-paid."""
    if len(items) == 0:
        return np.zeros(n)
    kind = items.fields.get("kind")
    ok = Categorical.encode(kind).isin(insurance) if kind is not None else np.ones(len(items), dtype=bool)
    for excluded in ("transferred_in", "back_paid"):
        if excluded in items.fields:
            ok &= ~truthy(items.fields[excluded])
    last = np.datetime64(cut_off, "M").astype(np.int64)  # exclusive: the cut-off month does not count
    start = _month_index(items.fields["start"])
    end_field = items.fields.get("end")
    end = (
        np.full(len(items), last)
        if end_field is None
        else np.where(np.isnat(end_field), last, _month_index(end_field) + 1)
    )
    return union_length(items.owner[ok], start[ok], np.minimum(end[ok], last), n).astype(float)


@lru_cache(maxsize=64)
def _age_thresholds(cut_off: date) -> np.ndarray:
    """The birth dates that make 130 … 0 years on the cut-off date (the same for every holder of a
    cut-off: built once, not for every batch of a consumer or every estimate)."""
    days = np.array([lookback_start(cut_off, a) for a in range(130, -1, -1)], dtype="datetime64[D]")
    days.setflags(write=False)
    return days


@lru_cache(maxsize=64)
def _age_by_day(cut_off: date) -> np.ndarray:
    """Age on the cut-off date of a holder born on each day from 130 years before it to the cut-off date
    itself: one lookup per holder instead of a binary search among the thresholds."""
    thresholds = _age_thresholds(cut_off)
    days = np.arange(thresholds[0], np.datetime64(cut_off, "D") + 1)
    ages = (130 - np.searchsorted(thresholds, days, side="left")).astype(float)
    ages.setflags(write=False)
    return ages


def age(birth: np.ndarray, cut_off: date) -> np.ndarray:
    """Completed years on the cut-off date (NaN where the birth date is unknown).

    A holder is at least A years old when born on or before the cut-off date A years
    earlier; those 131 dates give, once per cut-off, the age of a birth on every day between them.
    """
    b = np.asarray(birth, dtype="datetime64[D]")
    table = _age_by_day(cut_off)
    first = _age_thresholds(cut_off)[0].astype(np.int64)
    # Born before the first threshold: 130 (as old as counted); after the cut-off or unknown: NaN below.
    result: np.ndarray = table[np.clip(b.view(np.int64) - first, 0, len(table) - 1)]
    result[np.isnat(b) | (b > np.datetime64(cut_off, "D"))] = np.nan
    return result


def in_window(dates: np.ndarray, cut_off: date, lookback_years: int) -> np.ndarray:
    # Compared as day numbers: NaT is the smallest int64, below any window, so it is outside too.
    d = _days(dates)
    lo = np.datetime64(lookback_start(cut_off, lookback_years), "D").astype(np.int64)
    inside: np.ndarray = (d >= lo) & (d < np.datetime64(cut_off, "D").astype(np.int64))
    return inside


def sum_in_lookback(items: Items, n: int, cut_off: date, lookback_years: int, field: str) -> np.ndarray:
    if len(items) == 0 or field not in items.fields:
        return np.zeros(n)
    ok = in_window(items.fields["date"], cut_off, lookback_years)
    amounts = np.asarray(items.fields[field], dtype=float)
    ok &= ~np.isnan(amounts)
    return np.bincount(items.owner[ok], weights=amounts[ok], minlength=n)


def yearly_mean(items: Items, n: int, cut_off: date, years: int, field: str) -> np.ndarray:
    """The mean per year of `field` over the last `years` full calendar years before the cut-off."""
    if len(items) == 0 or field not in items.fields or "year" not in items.fields:
        return np.zeros(n)
    last = cut_off.year - 1  # the cut-off is a month's first day: the year before it is complete
    year = np.asarray(items.fields["year"], dtype=float)
    amounts = np.asarray(items.fields[field], dtype=float)
    ok = (year >= last - years + 1) & (year <= last) & ~np.isnan(amounts)
    total: np.ndarray = np.bincount(items.owner[ok], weights=amounts[ok], minlength=n) / years
    return total


# -- the kinds: each measures a whole population (vectorised) and one holder (the reference) --
def as_date(v: Any) -> date | None:
    """A date as facts carry it (a date, or ISO text with or without a time)."""
    if v is None or isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


def as_day(v: Any) -> date:
    """A date that must be there (a span's start, an event's day): missing is bad input."""
    day = as_date(v)
    if day is None:
        raise ValueError("a required date is missing")
    return day


class SpanYears(Strict):
    """Full years in spans of dates before the cut-off; gaps summed, overlaps once (30 days = 1 month,
    12 months = 1 year)."""

    kind: Literal["span_years"]
    basis: ClassVar[str] = ""
    unit_name: ClassVar[str] = "年"

    def of_population(self, fact: str, pop: Population, cut_off: date, lookback_years: int) -> np.ndarray:
        return span_years(pop.items.get(fact, EMPTY), pop.n, cut_off)

    def of_holder(self, raw: Any, cut_off: date, lookback_years: int) -> float:
        covered: set[int] = set()
        for s in raw or []:
            start, end = as_day(s["start"]), as_date(s.get("end")) or cut_off
            covered.update(range(start.toordinal(), min(end, cut_off).toordinal()))
        return float((len(covered) // 30) // 12)

    def account(self, raw: Any, cut_off: date, lookback_years: int) -> list[dict[str, Any]]:
        """Each span: the days it adds, or why it adds none; then what the remainder under a year lost."""
        out: list[dict[str, Any]] = []
        covered = Intervals()
        for s in raw or []:
            start, end = as_day(s["start"]), as_date(s.get("end")) or cut_off
            lo, hi = start.toordinal(), min(end, cut_off).toordinal()
            days, new = max(0, hi - lo), covered.add(lo, hi)
            why = []
            if start >= cut_off:
                why.append("开始于截止日以后，不计")
            elif end > cut_off:
                why.append("截止日以后的部分不计")
            if days and new < days:
                why.append(f"与其他记录重叠的{days - new}天只计一次")
            out.append(record(s, f"{new}天" if new else None, "；".join(why) or None))
        total = covered.length
        months = total // 30
        if total and months % 12:
            out.append(remainder(f"合计{total}天，折合{months}个月；不足一年的{months % 12}个月不计"))
        return out


class InsuranceMonths(Strict):
    """Distinct contribution months before the cut-off month, of the listed insurance kinds;
    transferred-in and back-paid months excluded."""

    kind: Literal["insurance_months"]
    basis: ClassVar[str] = ""
    unit_name: ClassVar[str] = "个月"
    insurance: list[str] = Field(min_length=1)

    def of_population(self, fact: str, pop: Population, cut_off: date, lookback_years: int) -> np.ndarray:
        return insurance_months(pop.items.get(fact, EMPTY), pop.n, cut_off, self.insurance)

    def of_holder(self, raw: Any, cut_off: date, lookback_years: int) -> float:
        last = cut_off.year * 12 + cut_off.month - 1
        months: set[int] = set()
        for s in raw or []:
            if s.get("kind") not in self.insurance or s.get("transferred_in") or s.get("back_paid"):
                continue
            start, end = as_day(s["start"]), as_date(s.get("end"))
            stop = last if end is None else min(end.year * 12 + end.month, last)
            months.update(range(start.year * 12 + start.month - 1, stop))
        return float(len(months))

    def account(self, raw: Any, cut_off: date, lookback_years: int) -> list[dict[str, Any]]:
        """Each span: the months it adds, or why none count (another insurance, transferred in, back-paid)."""
        last = cut_off.year * 12 + cut_off.month - 1
        out: list[dict[str, Any]] = []
        counted = Intervals()
        for s in raw or []:
            if s.get("kind") not in self.insurance:
                out.append(record(s, None, "该险种的缴费月数不计分"))
                continue
            if s.get("transferred_in") or s.get("back_paid"):
                out.append(record(s, None, "转入的月份不计" if s.get("transferred_in") else "补缴的月份不计"))
                continue
            start, end = as_day(s["start"]), as_date(s.get("end"))
            stop = last if end is None else min(end.year * 12 + end.month, last)
            first = start.year * 12 + start.month - 1
            months, new = max(0, stop - first), counted.add(first, stop)
            why = []
            if end is None or end.year * 12 + end.month > last:
                why.append("截止日所在月及以后的月份不计")
            if months and new < months:
                why.append(f"与其他记录同月的{months - new}个月只计一次")
            out.append(record(s, f"{new}个月" if new else None, "；".join(why) or None))
        return out


class Age(Strict):
    """Completed years of age on the cut-off date, from a birth date."""

    kind: Literal["age"]
    basis: ClassVar[str] = ""
    unit_name: ClassVar[str] = "岁"

    def of_population(self, fact: str, pop: Population, cut_off: date, lookback_years: int) -> np.ndarray:
        col = pop.scalars.get(fact)
        return age(col, cut_off) if col is not None else np.full(pop.n, np.nan)

    def of_holder(self, raw: Any, cut_off: date, lookback_years: int) -> float:
        b = as_date(raw)
        if b is None:
            return float("nan")
        return float(cut_off.year - b.year - ((cut_off.month, cut_off.day) < (b.month, b.day)))


class SumInLookback(Strict):
    """Sum of a field of dated items inside the look-back window."""

    kind: Literal["sum_in_lookback"]
    field: str = "amount"
    basis: ClassVar[str] = "回溯期内累计"

    @property
    def unit_name(self) -> str:
        return FIELD_UNITS.get(self.field, "")

    def of_population(self, fact: str, pop: Population, cut_off: date, lookback_years: int) -> np.ndarray:
        return sum_in_lookback(pop.items.get(fact, EMPTY), pop.n, cut_off, lookback_years, self.field)

    def of_holder(self, raw: Any, cut_off: date, lookback_years: int) -> float:
        lo = lookback_start(cut_off, lookback_years)
        return float(sum(i.get(self.field) or 0 for i in raw or [] if lo <= as_day(i["date"]) < cut_off))

    def account(self, raw: Any, cut_off: date, lookback_years: int) -> list[dict[str, Any]]:
        lo = lookback_start(cut_off, lookback_years)
        return [
            record(i, f"{i.get(self.field) or 0:g}{self.unit_name}", None)
            if lo <= as_day(i["date"]) < cut_off
            else record(
                i, None, f"早于回溯期（{lo.isoformat()}起）不计" if as_day(i["date"]) < lo else "截止日及以后的不计"
            )
            for i in raw or []
        ]


class YearlyMean(Strict):
    """The mean per year of a field of yearly items (`year`, e.g. an enterprise's tax) over the last
    `years` full calendar years before the cut-off; a year without an item counts as 0."""

    kind: Literal["yearly_mean"]
    field: str = "yuan"
    years: int = Field(3, ge=1, le=10)

    @property
    def basis(self) -> str:
        return f"按截止日前{self.years}个完整年度的年均值，"

    @property
    def unit_name(self) -> str:
        return FIELD_UNITS.get(self.field, "")

    def of_population(self, fact: str, pop: Population, cut_off: date, lookback_years: int) -> np.ndarray:
        return yearly_mean(pop.items.get(fact, EMPTY), pop.n, cut_off, self.years, self.field)

    def of_holder(self, raw: Any, cut_off: date, lookback_years: int) -> float:
        last = cut_off.year - 1
        inside = [i.get(self.field) or 0 for i in raw or [] if last - self.years < int(i["year"]) <= last]
        return float(sum(inside)) / self.years

    def account(self, raw: Any, cut_off: date, lookback_years: int) -> list[dict[str, Any]]:
        last = cut_off.year - 1
        first = last - self.years + 1
        return [
            record(i, f"{i.get(self.field) or 0:g}{self.unit_name}", None)
            if first <= int(i["year"]) <= last
            else record(i, None, f"不在计算的{first}至{last}年度内")
            for i in raw or []
        ]


Measure = Annotated[SpanYears | InsuranceMonths | Age | SumInLookback | YearlyMean, Field(discriminator="kind")]


def measure(spec: Measure | None, fact: str, pop: Population, cut_off: date, lookback_years: int) -> np.ndarray:
    """The number an indicator scores, one per holder (NaN or 0 where the fact is absent)."""
    if spec is not None:
        return spec.of_population(fact, pop, cut_off, lookback_years)
    n = pop.n
    col = pop.scalars.get(fact)
    if col is None or isinstance(col, Categorical):
        return np.zeros(n)
    if col.dtype == object:
        return np.array([1.0 if v is True else (float(v) if isinstance(v, (int, float)) else 0.0) for v in col])
    v = col.astype(float)  # a copy: the caller may zero its NaNs in place
    np.copyto(v, 0.0, where=np.isnan(v))
    return v


def measure_one(spec: Measure | None, fact: str, facts: dict[str, Any], cut_off: date, lookback_years: int) -> float:
    """The same number for one holder, in plain Python (the reference the engine is checked against)."""
    raw = facts.get(fact)
    if spec is not None:
        return spec.of_holder(raw, cut_off, lookback_years)
    if raw is None:
        return 0.0
    return float(raw) if isinstance(raw, (int, float)) else 0.0
