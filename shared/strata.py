"""The strata of a 模拟积分 campaign's sampling plan: the dimensions a holder is classed by on the
permit register, their labels, and which stratum a holder falls in.

Shared because two services speak it: scoring (the campaign, its report) names strata by these
labels, verification (which holds the register) classes each holder by them and draws the sample.
Pure: no I/O, no clock. The bands are the simulation report's (services/scoring/simulation/population.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from shared import names

DISTRICTS = list(names.DISTRICTS)
AGE_BANDS = [(18, "18–24"), (25, "25–34"), (35, "35–44"), (45, "45–54"), (55, "55+")]
EDUCATION_ORDER = ["high_school", "secondary_vocational", "junior_college", "bachelor", "master", "doctorate"]
RESIDENCE_BANDS = [(0, "0–2"), (3, "3–5"), (6, "6–10"), (11, "11+")]
# A holder whose district the register does not know (no district on record) is "unknown".
DIMENSIONS: dict[str, list[str]] = {
    "district": [*DISTRICTS, "unknown"],
    "age_band": ["unknown", *(b for _, b in AGE_BANDS)],
    "education": ["none on record", *EDUCATION_ORDER],
    "housing": ["owner", "registered renter", "neither"],
    "residence_years": [b for _, b in RESIDENCE_BANDS],
}
DISTRICT_ZH = {**{code: n.zh for code, n in names.DISTRICTS.items()}, "unknown": "未知"}
DIMENSION_ZH = {
    "district": "区县",
    "age_band": "年龄段",
    "education": "文化程度",
    "housing": "住房",
    "residence_years": "居住登记年限",
}

Cell = tuple[str, str, str, str, str]  # one label per dimension, in DIMENSIONS' order


def _band(value: float, bands: list[tuple[int, str]], below: str | None) -> str:
    label = below if below is not None else bands[0][1]
    for low, name in bands:
        if value >= low:
            label = name
    return label


def age_band(age: int | None) -> str:
    return "unknown" if age is None else _band(age, AGE_BANDS, "unknown")


def residence_band(years: float) -> str:
    return _band(years, RESIDENCE_BANDS, None)


def education_label(levels: Iterable[str]) -> str:
    """The highest level on record."""
    ranks = [EDUCATION_ORDER.index(x) for x in levels if x in EDUCATION_ORDER]
    return EDUCATION_ORDER[max(ranks)] if ranks else "none on record"


def housing_label(owns: bool, rents_registered: bool) -> str:
    return "owner" if owns else "registered renter" if rents_registered else "neither"


def cell_of(labels: Mapping[str, str]) -> Cell:
    return tuple(labels[d] for d in DIMENSIONS)  # type: ignore[return-value]


@dataclass(frozen=True)
class Stratum:
    """Holders whose label on each named dimension is one of those listed (a dimension not named: any)."""

    name: str
    where: Mapping[str, frozenset[str]]
    target: int

    def holds(self, cell: Cell) -> bool:
        return all(label in self.where.get(d, (label,)) for d, label in zip(DIMENSIONS, cell, strict=True))


def plan_faults(strata: Sequence[Mapping[str, object]]) -> list[tuple[str, str]]:
    """(field, what is wrong) for each stratum that names an unknown dimension or label, no target,
    or a name used twice. The field is the request's (`plan.strata[2].age_band`)."""
    faults: list[tuple[str, str]] = []
    if not strata:
        return [("plan.strata", "at least one stratum")]
    names = Counter(str(s.get("name")) for s in strata)
    for i, s in enumerate(strata):
        at = f"plan.strata[{i}]"
        if names[str(s.get("name"))] > 1:
            faults.append((f"{at}.name", f"the name {s.get('name')!r} is used by more than one stratum"))
        for d, labels in (s.get("where") or {}).items():  # type: ignore[attr-defined]
            if d not in DIMENSIONS:
                faults.append((f"{at}.where.{d}", f"no such dimension (known: {', '.join(DIMENSIONS)})"))
                continue
            unknown = [x for x in labels if x not in DIMENSIONS[d]]
            if unknown or not labels:
                faults.append(
                    (f"{at}.where.{d}", f"labels must be some of {', '.join(DIMENSIONS[d])} (not {unknown or 'none'})")
                )
    return faults


def parse(strata: Sequence[Mapping[str, object]]) -> list[Stratum]:
    """The plan's strata (check plan_faults first)."""
    return [
        Stratum(
            str(s["name"]),
            {d: frozenset(v) for d, v in (s.get("where") or {}).items()},  # type: ignore[attr-defined]
            int(s["target"]),  # type: ignore[call-overload]
        )
        for s in strata
    ]


@dataclass
class Assignment:
    """Each holder's stratum (an index into the plan, None where none or several hold them)."""

    strata: list[int | None]
    uncovered: Counter[Cell]  # cells with holders no stratum holds, and how many
    overlapping: Counter[tuple[Cell, tuple[int, ...]]]  # cells more than one stratum holds

    @property
    def covers(self) -> bool:
        return not self.uncovered and not self.overlapping


def assign(cells: Sequence[Cell], strata: Sequence[Stratum]) -> Assignment:
    """Class every holder of the register; a plan covers the register when each is in exactly one stratum."""
    out: list[int | None] = []
    uncovered: Counter[Cell] = Counter()
    overlapping: Counter[tuple[Cell, tuple[int, ...]]] = Counter()
    memo: dict[Cell, tuple[int, ...]] = {}
    for cell in cells:
        if cell not in memo:
            memo[cell] = tuple(i for i, s in enumerate(strata) if s.holds(cell))
        hits = memo[cell]
        if len(hits) == 1:
            out.append(hits[0])
            continue
        out.append(None)
        if hits:
            overlapping[(cell, hits)] += 1
        else:
            uncovered[cell] += 1
    return Assignment(out, uncovered, overlapping)


def describe(cell: Cell) -> str:
    return ", ".join(f"{d}={label}" for d, label in zip(DIMENSIONS, cell, strict=True))
