"""The synthetic holders: every fact the indicator systems and the shipped X-modules read.

`generate(holders, seed, as_of)` returns one Arrow record batch with a row per holder: scalar
facts as columns, list facts (spans, events, items) as list-of-struct columns, named and shaped
exactly as the departments' answers (../scoring reads them as it reads an application's facts).
Holder n's facts depend only on (seed, n, as_of), so any slice can be generated on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from shared import names
from shared.synthetic.draws import Draws

GENERATOR_VERSION = 1
DEFAULT_SEED = 2021
DEFAULT_AS_OF = date(2026, 10, 1)
YEAR = 365.2425

AGE_BANDS = [(18, 24, 14), (25, 34, 38), (35, 44, 26), (45, 54, 15), (55, 64, 7)]
EDUCATION = ["", "high_school", "secondary_vocational", "junior_college", "bachelor", "master", "doctorate"]
# Highest certified level, by age band: younger holders are better schooled.
EDUCATION_WEIGHTS = {
    "under 35": [12, 14, 10, 22, 31, 9, 2],
    "35-44": [22, 18, 11, 20, 22, 6, 1],
    "45 and over": [40, 25, 10, 13, 10, 2, 0.3],
}
SKILL_TITLES = [
    "senior_worker",
    "technician",
    "senior_technician",
    "intermediate_title",
    "deputy_senior_title",
    "senior_title",
]
SKILL_WEIGHTS = [30, 20, 6, 28, 12, 4]
PERMIT_STATUSES = ["valid", "suspended", "terminated", "expired"]
PERMIT_WEIGHTS = [97.4, 1.6, 0.5, 0.5]
DISTRICTS = list(names.DISTRICTS)
DISTRICT_WEIGHTS = [12, 11, 12, 9, 13, 16, 9, 7, 6, 5]
HONOUR_LEVELS = ["district", "city", "provincial", "national"]
HONOUR_WEIGHTS = [50, 30, 15, 5]
PATENT_ROLES = ["first_inventor", "other_inventor", "transferred_in"]
PATENT_WEIGHTS = [55, 40, 5]
# Per holder and case, the chance of one case in the last eight years (some fall outside a five-year look-back).
OFFENCE_RATES = {
    "criminal": 0.0015,
    "drug_rehab": 0.0005,
    "detention": 0.005,
    "custody_education": 0.0003,
    "dishonesty": 0.004,
    "family_planning": 0.002,
    "serious_crime": 0.0001,
    "banned_org": 0.00005,
}
RATES = {
    "no_residence_registration": 0.03,
    "residence_gap": 0.07,
    "employed": 0.84,
    "past_insurance": 0.6,
    "transferred_in": 0.06,
    "back_paid": 0.02,
    "registered_rental": 0.55,
    "tax": 0.75,
    "volunteering": 0.12,
    "charity": 0.07,
    "honours": 0.006,
    "blood": 0.06,
    "marrow": 0.0003,
    "patents": 0.005,
    "investment": 0.01,
    "key_enterprise": 0.3,
}

SPAN = pa.struct([("start", pa.date32()), ("end", pa.date32())])
INSURANCE_SPAN = pa.struct(
    [
        ("start", pa.date32()),
        ("end", pa.date32()),
        ("kind", pa.string()),
        ("transferred_in", pa.bool_()),
        ("back_paid", pa.bool_()),
    ]
)
AMOUNT = pa.struct([("date", pa.date32()), ("yuan", pa.float64())])
HOURS = pa.struct([("date", pa.date32()), ("hours", pa.float64())])
HONOUR = pa.struct([("matter", pa.string()), ("level", pa.string()), ("date", pa.date32())])
PATENT = pa.struct([("patent", pa.string()), ("role", pa.string()), ("date", pa.date32())])
INVESTMENT = pa.struct([("enterprise", pa.string()), ("year", pa.int32()), ("yuan", pa.float64())])
OFFENCE = pa.struct([("case", pa.string()), ("act", pa.string()), ("date", pa.date32())])
LABEL = pa.dictionary(pa.int32(), pa.string())
SCHEMA = pa.schema(
    [
        ("holder", pa.int64()),
        ("permit_status", LABEL),
        ("birth_date", pa.date32()),
        ("district", LABEL),
        ("education", LABEL),
        ("skill_title", LABEL),
        ("employed", pa.bool_()),
        ("own_home", pa.bool_()),
        ("marrow_donated", pa.bool_()),
        ("blood_donated_ml", pa.float64()),
        ("key_enterprise_employee", pa.bool_()),
        ("district_continuous_residence_days", pa.float64()),
        ("residence_spans", pa.list_(SPAN)),
        ("district_residence_spans", pa.list_(SPAN)),
        ("social_insurance_spans", pa.list_(INSURANCE_SPAN)),
        ("rental_spans", pa.list_(SPAN)),
        ("income_tax", pa.list_(AMOUNT)),
        ("charity_donations", pa.list_(AMOUNT)),
        ("volunteer_service", pa.list_(HOURS)),
        ("honours", pa.list_(HONOUR)),
        ("patents", pa.list_(PATENT)),
        ("investment_tax", pa.list_(INVESTMENT)),
        ("offences", pa.list_(OFFENCE)),
    ]
)


@dataclass
class _Block:
    """Items of some holders (rows into the batch), one array per struct field."""

    rows: np.ndarray
    fields: dict[str, np.ndarray]


def _dates(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]")


def _month_start(days: np.ndarray) -> np.ndarray:
    return _dates(days).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _label(values: list[str], codes: np.ndarray) -> pa.DictionaryArray:
    """Labels as dictionary codes; '' is missing (null)."""
    codes = np.asarray(codes, dtype=np.int32)
    mask = np.asarray(values, dtype=object)[codes] == ""
    return pa.DictionaryArray.from_arrays(pa.array(codes, mask=mask), pa.array(values))


def _repeat(rows: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row `counts` times, with the item's index 0..count-1 beside it."""
    owner = np.repeat(rows, counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return owner, np.arange(len(owner)) - starts


def _list(n: int, kind: pa.DataType, blocks: list[_Block]) -> pa.ListArray:
    rows = np.concatenate([b.rows for b in blocks]) if blocks else np.zeros(0, dtype=np.int64)
    order = np.argsort(rows, kind="stable")
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n), out=offsets[1:])
    children = []
    for f in kind.value_type:
        col = np.concatenate([b.fields[f.name] for b in blocks])[order] if blocks else np.zeros(0)
        if f.type == pa.date32():
            children.append(pa.array(_dates(col), type=pa.date32()))
        else:
            children.append(pa.array(col, type=f.type))
    values = pa.StructArray.from_arrays(children, fields=list(kind.value_type))
    return pa.ListArray.from_arrays(pa.array(offsets), values, type=kind)


def generate(holders: np.ndarray, seed: int = DEFAULT_SEED, as_of: date = DEFAULT_AS_OF) -> pa.RecordBatch:
    """The facts of holders `holders` (their numbers), as the registries would report them on `as_of`."""
    ids = np.asarray(holders, dtype=np.int64)
    n = len(ids)
    d = Draws(seed)
    rows = np.arange(n)
    today = int(np.datetime64(as_of, "D").astype(np.int64))

    # Age and arrival in the city.
    band = d.choice("age_band", ids, [w for *_, w in AGE_BANDS])
    lo, hi = np.array([b[0] for b in AGE_BANDS]), np.array([b[1] for b in AGE_BANDS])
    age = lo[band] + np.floor(d.uniform("age", ids) * (hi[band] - lo[band] + 1))
    birth = today - np.floor(age * YEAR + d.uniform("birthday", ids) * 364).astype(np.int64) - 1
    years_here = np.maximum(np.minimum(age - 16, d.exponential("years_here", ids, 6.5)), 0.1)
    arrival = today - np.floor(years_here * YEAR).astype(np.int64)
    here = today - arrival  # days in the city

    # Education and skills.
    edu_table = np.array(list(EDUCATION_WEIGHTS.values()), dtype=float)
    edu_group = np.where(age < 35, 0, np.where(age < 45, 1, 2))
    cum = np.cumsum(edu_table, axis=1) / edu_table.sum(axis=1, keepdims=True)
    education = np.minimum((d.uniform("education", ids)[:, None] >= cum[edu_group]).sum(axis=1), len(EDUCATION) - 1)
    has_skill = d.uniform("skill", ids) < 0.10 + 0.10 * (education >= 3)
    skill = np.where(has_skill, d.choice("skill_level", ids, SKILL_WEIGHTS) + 1, 0)

    # Residence registration: most since arrival; some with a gap; a few never registered.
    registered = d.uniform("residence_none", ids) >= RATES["no_residence_registration"]
    gap = registered & (d.uniform("residence_gap", ids) < RATES["residence_gap"])
    plain = registered & ~gap
    residence = [
        _Block(rows[plain], {"start": arrival[plain], "end": np.full(plain.sum(), np.iinfo(np.int64).min)}),
        _Block(rows[gap], {"start": arrival[gap], "end": arrival[gap] + (here[gap] * 0.3).astype(np.int64)}),
        _Block(
            rows[gap],
            {
                "start": arrival[gap] + (here[gap] * 0.55).astype(np.int64),
                "end": np.full(gap.sum(), np.iinfo(np.int64).min),
            },
        ),
    ]

    # Social insurance: pension and medical from soon after arrival; ongoing while employed.
    month_now = _month_start(np.array([today]))[0]
    employed = d.uniform("employed", ids) < RATES["employed"]
    past = ~employed & (d.uniform("past_insurance", ids) < RATES["past_insurance"])
    insured = employed | past
    start = _month_start(np.minimum(arrival + d.integers("insurance_delay", ids, 0, 24) * 30, today - 31))
    end = np.where(employed, month_now, _month_start(today - d.integers("insurance_ended", ids, 4, 36) * 30))
    start = np.where(end < start, _month_start(end - 180), start)
    spans = []
    for kind in ("pension", "medical"):
        r = rows[insured]
        spans.append(
            _Block(
                r,
                {
                    "start": start[r],
                    "end": end[r],
                    "kind": np.full(len(r), kind),
                    "transferred_in": np.zeros(len(r), bool),
                    "back_paid": np.zeros(len(r), bool),
                },
            )
        )
    moved = insured & (d.uniform("transferred_in", ids) < RATES["transferred_in"])
    r = rows[moved]
    spans.append(
        _Block(
            r,
            {
                "start": _month_start(start[r] - d.integers("moved_years", ids[r], 2, 6) * 365),
                "end": _month_start(start[r] - 31),
                "kind": np.full(len(r), "pension"),
                "transferred_in": np.ones(len(r), bool),
                "back_paid": np.zeros(len(r), bool),
            },
        )
    )
    late = insured & (d.uniform("back_paid", ids) < RATES["back_paid"])
    r = rows[late]
    spans.append(
        _Block(
            r,
            {
                "start": _month_start(start[r] - d.integers("back_months", ids[r], 3, 12) * 30),
                "end": _month_start(start[r] - 1),
                "kind": np.full(len(r), "pension"),
                "transferred_in": np.zeros(len(r), bool),
                "back_paid": np.ones(len(r), bool),
            },
        )
    )

    # Housing: owning grows with years in the city and schooling; some of the others rent on a registered lease.
    p_own = np.clip(0.04 + 0.022 * years_here + 0.06 * (education >= 4), 0, 0.7)
    own = d.uniform("own_home", ids) < p_own
    rents = ~own & (d.uniform("rental", ids) < RATES["registered_rental"])
    r = rows[rents]
    lease = np.minimum(here[r], np.floor(d.exponential("lease_years", ids[r], 3.0) * YEAR).astype(np.int64) + 30)
    rentals = [_Block(r, {"start": today - lease, "end": np.full(len(r), np.iinfo(np.int64).min)})]

    # Income tax: one yearly statement per year in the city, up to five, while employed.
    payer = employed & (d.uniform("tax", ids) < RATES["tax"])
    r = rows[payer]
    owner, j = _repeat(r, np.minimum(5, np.ceil(here[r] / YEAR)).astype(np.int64))
    year_end = np.array([int(np.datetime64(date(as_of.year - 1 - k, 12, 31), "D").astype(np.int64)) for k in range(5)])
    median = 2500 * (1 + 0.5 * education[owner])
    yuan = np.round(np.exp(np.log(median) + 0.8 * d.normal("tax_yuan", ids[owner], j)))
    tax = [_Block(owner, {"date": year_end[j], "yuan": yuan})]

    def dated(stream: str, rate: float, most: int, within_years: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Some holders' items (1..most each), dated within the last `within_years`."""
        r = rows[d.uniform(stream, ids) < rate]
        owner, j = _repeat(r, d.integers(stream + ":count", ids[r], 1, most))
        when = today - d.integers(stream + ":date", ids[owner], 1, int(within_years * YEAR), j)
        return owner, j, when

    owner, j, when = dated("volunteering", RATES["volunteering"], 6, 5)
    volunteering = [_Block(owner, {"date": when, "hours": d.integers("hours", ids[owner], 2, 40, j).astype(float)})]
    owner, j, when = dated("charity", RATES["charity"], 3, 6)
    charity = [_Block(owner, {"date": when, "yuan": 50.0 * d.integers("yuan", ids[owner], 2, 100, j)})]
    owner, j, when = dated("honours", RATES["honours"], 2, 6)
    honours = [
        _Block(
            owner,
            {
                "date": when,
                "level": np.array(HONOUR_LEVELS)[d.choice("level", ids[owner], HONOUR_WEIGHTS, j)],
                "matter": np.char.add(np.char.add("M", ids[owner].astype(str)), np.char.add("-", j.astype(str))),
            },
        )
    ]
    owner, j, when = dated("patents", RATES["patents"], 3, 10)
    patents = [
        _Block(
            owner,
            {
                "date": when,
                "role": np.array(PATENT_ROLES)[d.choice("role", ids[owner], PATENT_WEIGHTS, j)],
                "patent": np.char.add(np.char.add("ZL", ids[owner].astype(str)), np.char.add("-", j.astype(str))),
            },
        )
    ]
    # Investors: one enterprise each, with the city tax it paid in each of the last five tax years.
    r = rows[d.uniform("investment", ids) < RATES["investment"]]
    owner, j = _repeat(r, np.full(len(r), 5))
    investment = [
        _Block(
            owner,
            {
                "enterprise": np.char.add("E", ids[owner].astype(str)),
                "year": (as_of.year - 1 - j).astype(np.int32),
                "yuan": np.round(np.exp(np.log(60_000) + 1.0 * d.normal("investment_yuan", ids[owner], j))),
            },
        )
    ]
    offences = []
    for case, rate in OFFENCE_RATES.items():
        r = rows[d.uniform("offence:" + case, ids) < rate]
        offences.append(
            _Block(
                r,
                {
                    "case": np.full(len(r), case),
                    "date": today - d.integers(case + ":date", ids[r], 1, int(8 * YEAR)),
                    "act": np.char.add(case + "-", ids[r].astype(str)),
                },
            )
        )

    # Where in the city: the district's own residence record, and its key enterprises.
    district = d.choice("district", ids, DISTRICT_WEIGHTS)
    in_binjiang = district == DISTRICTS.index("binjiang")
    moved_in = arrival + np.floor(d.uniform("district_since", ids) * 0.5 * here).astype(np.int64)
    r = rows[in_binjiang & registered]
    district_spans = [_Block(r, {"start": moved_in[r], "end": np.full(len(r), np.iinfo(np.int64).min)})]
    key_enterprise = in_binjiang & employed & (d.uniform("key_enterprise", ids) < RATES["key_enterprise"])

    blood = np.where(d.uniform("blood", ids) < RATES["blood"], 200.0 * d.integers("blood_ml", ids, 1, 8), 0.0)
    status = d.choice("permit_status", ids, PERMIT_WEIGHTS)
    columns = {
        "holder": pa.array(ids),
        "permit_status": _label(PERMIT_STATUSES, status),
        "birth_date": pa.array(_dates(birth), type=pa.date32()),
        "district": _label(DISTRICTS, district),
        "education": _label(EDUCATION, education),
        "skill_title": _label([""] + SKILL_TITLES, skill),
        "employed": pa.array(employed),
        "own_home": pa.array(own),
        "marrow_donated": pa.array(d.uniform("marrow", ids) < RATES["marrow"]),
        "blood_donated_ml": pa.array(blood),
        "key_enterprise_employee": pa.array(key_enterprise),
        "district_continuous_residence_days": pa.array((today - moved_in).astype(float)),
        "residence_spans": residence,
        "district_residence_spans": district_spans,
        "social_insurance_spans": spans,
        "rental_spans": rentals,
        "income_tax": tax,
        "charity_donations": charity,
        "volunteer_service": volunteering,
        "honours": honours,
        "patents": patents,
        "investment_tax": investment,
        "offences": offences,
    }
    arrays = [c if isinstance(c, pa.Array) else _list(n, SCHEMA.field(name).type, c) for name, c in columns.items()]
    return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)
