"""The scoring engine on a synthetic population, beside a per-person Python loop.

Run as its own process (`python -m bench.engine`) so its peak memory is its own.
"""

from __future__ import annotations

import json
import resource
import time
from datetime import date

import numpy as np
import typer

from services.scoring.engine import reference
from services.scoring.engine.evaluate import evaluate
from services.scoring.engine.population import Categorical, Items, Population
from services.scoring.engine.rules import load_shipped

CUT_OFF = date(2026, 10, 1)
EDUCATION = np.array(["", "high_school", "junior_college", "bachelor", "master", "doctorate"])
SKILLS = np.array(["", "senior_worker", "technician", "intermediate_title", "senior_title"])
CASES = np.array(
    ["criminal", "drug_rehab", "detention", "custody_education", "dishonesty", "family_planning", "serious_crime"]
)
DAY0 = np.datetime64("1990-01-01", "D")


def _cat(categories: np.ndarray, codes: np.ndarray) -> Categorical:
    return Categorical(np.asarray(codes).astype(np.int32), categories)


def _items(rng, n: int, per_holder: float, **fields) -> Items:
    count = rng.poisson(per_holder, n)
    owner = np.repeat(np.arange(n, dtype=np.int64), count)
    return Items(owner, {k: make(rng, len(owner)) for k, make in fields.items()})


def _days(lo: int, hi: int):
    return lambda rng, m: DAY0 + rng.integers(lo, hi, m).astype("timedelta64[D]")


def _months(lo: int, hi: int):
    return lambda rng, m: (np.datetime64("1990-01", "M") + rng.integers(lo, hi, m).astype("timedelta64[M]")).astype(
        "datetime64[D]"
    )


def synthetic(n: int, seed: int = 7) -> Population:
    rng = np.random.default_rng(seed)
    pop = Population(n)
    pop.scalars = {
        "permit_status": _cat(np.array(["valid", "suspended"]), (rng.random(n) >= 0.98)),
        "birth_date": np.datetime64("1958-01-01", "D") + rng.integers(0, 18000, n).astype("timedelta64[D]"),
        "education": _cat(EDUCATION, rng.integers(0, len(EDUCATION), n)),
        "skill_title": _cat(SKILLS, rng.integers(0, len(SKILLS), n)),
        "employed": (rng.random(n) < 0.8).astype(float),
        "own_home": (rng.random(n) < 0.3).astype(float),
        "marrow_donated": (rng.random(n) < 0.001).astype(float),
        "blood_donated_ml": np.where(rng.random(n) < 0.1, rng.integers(200, 4000, n), 0).astype(float),
    }
    pop.items = {
        "residence_spans": _items(
            rng,
            n,
            1.3,
            start=_days(0, 13000),
            end=lambda r, m: np.where(
                r.random(m) < 0.6, np.datetime64("NaT", "D"), DAY0 + r.integers(6000, 13500, m).astype("timedelta64[D]")
            ),
        ),
        "social_insurance_spans": _items(
            rng,
            n,
            1.8,
            start=_months(60, 430),
            end=_months(200, 445),
            kind=lambda r, m: _cat(np.array(["pension", "medical"]), r.random(m) >= 0.7),
            transferred_in=lambda r, m: (r.random(m) < 0.05).astype(float),
            back_paid=lambda r, m: (r.random(m) < 0.02).astype(float),
        ),
        "rental_spans": _items(
            rng, n, 0.4, start=_days(8000, 13000), end=lambda r, m: np.full(m, np.datetime64("NaT", "D"))
        ),
        "volunteer_service": _items(
            rng, n, 0.5, date=_days(10000, 13400), hours=lambda r, m: r.integers(1, 120, m).astype(float)
        ),
        "charity_donations": _items(
            rng, n, 0.3, date=_days(10000, 13400), yuan=lambda r, m: r.integers(100, 8000, m).astype(float)
        ),
        "income_tax": _items(
            rng, n, 0.8, date=_days(10000, 13400), yuan=lambda r, m: r.integers(1000, 90000, m).astype(float)
        ),
        "honours": _items(
            rng,
            n,
            0.05,
            matter=lambda r, m: _cat(np.array(["a", "b", "c"]), r.integers(0, 3, m)),
            level=lambda r, m: _cat(np.array(["city", "district", "national", "provincial"]), r.integers(0, 4, m)),
        ),
        "patents": _items(
            rng, n, 0.02, role=lambda r, m: _cat(np.array(["first_inventor", "other_inventor"]), r.integers(0, 2, m))
        ),
        "offences": _items(
            rng,
            n,
            0.03,
            date=_days(8000, 13400),
            act=lambda r, m: _cat(np.array(["a", "b"]), r.integers(0, 2, m)),
            case=lambda r, m: _cat(CASES, r.integers(0, len(CASES), m)),
        ),
    }
    return pop


def records(pop: Population, holders: range) -> list[dict]:
    """The same people as per-person JSON-like documents, for the loop."""
    out = []
    by_owner = {name: _split(it, holders) for name, it in pop.items.items()}
    for i in holders:
        doc = {}
        for name, col in pop.scalars.items():
            if isinstance(col, Categorical):
                doc[name] = col[i] or None
                continue
            v = col[i]
            doc[name] = (
                (None if np.isnat(v) else str(v))
                if col.dtype.kind == "M"
                else (
                    str(v)
                    if col.dtype.kind == "U"
                    else (bool(v) if name in ("employed", "own_home", "marrow_donated") else float(v))
                )
            )
            if doc[name] == "":
                doc[name] = None
        for name, rows in by_owner.items():
            doc[name] = rows.get(i, [])
        out.append(doc)
    for doc in out:
        for key in ("education", "skill_title"):
            doc[key] = [doc[key]] if doc[key] else []
    return out


def _split(it: Items, holders: range) -> dict[int, list[dict]]:
    rows: dict[int, list[dict]] = {}
    sel = np.nonzero((it.owner >= holders.start) & (it.owner < holders.stop))[0]
    for j in sel:
        row = {}
        for k, col in it.fields.items():
            v = col[j]
            if isinstance(col, Categorical):
                row[k] = v
            elif col.dtype.kind == "M":
                row[k] = None if np.isnat(v) else str(v)
            elif col.dtype.kind == "U":
                row[k] = str(v)
            else:
                row[k] = bool(v) if k in ("transferred_in", "back_paid") else float(v)
        rows.setdefault(int(it.owner[j]), []).append(row)
    return rows


def main(
    holders: int = typer.Option(1_000_000),
    loop_sample: int = typer.Option(20_000),
    rule_set: str = typer.Option("hangzhou-2021"),
) -> None:
    rs = load_shipped()[rule_set]
    pop = synthetic(holders)
    runs = []
    for _ in range(5):  # the first run also pays for the kernel mapping fresh memory in
        started = time.perf_counter()
        result = evaluate(rs, pop, CUT_OFF)
        totals = result.totals
        runs.append(time.perf_counter() - started)
    engine_s = min(runs)
    sample = records(pop, range(loop_sample))
    started = time.perf_counter()
    loop_totals = [reference.score(rs, facts, CUT_OFF)["total"] for facts in sample]
    loop_s = time.perf_counter() - started
    agree = bool(np.allclose(totals[:loop_sample], loop_totals))
    engine_rate, loop_rate = holders / engine_s, loop_sample / loop_s
    print(
        json.dumps(
            {
                "holders": holders,
                "rule_set": rule_set,
                "engine_seconds": round(engine_s, 3),
                "engine_seconds_first_run": round(runs[0], 3),
                "engine_holders_per_s": round(engine_rate),
                "loop_sample": loop_sample,
                "loop_holders_per_s": round(loop_rate),
                "speedup": round(engine_rate / loop_rate, 1),
                "loop_and_engine_agree": agree,
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "mean_total": round(float(totals.mean()), 2),
                "vetoed": int((result.status == "vetoed").sum()),
            }
        )
    )


if __name__ == "__main__":
    typer.run(main)
