"""Seed the demo registries with synthetic holders (`python -m services.verification.seed`).

Holders are deterministic: holder n has ID number `demo_id_number(n)` and permit
`demo_permit_number(n)`, so tests, the README's curl example and the benchmark can name them
without reading the database.

Ordinary facts come from the synthetic population, `shared.synthetic.holders.generate`: the
generator the simulation scores, so the demo registries hold the city the simulation models.
Holder n's registry rows are built from holder n's row of `generate(..., as_of=seed_as_of())`,
the first day of the current month: holders the generator has in work are in work whenever
`make run` starts (the month is recorded in `registries.seed_info`; a new month re-seeds). From
the generator come
- the birth date, which the ID number carries (its region code and sequence still come from n,
  so no two of the first 90,000 holders share a number). It is drawn as of the generator's own
  reference date (2026-10-01) whatever the month, so a demo holder's ID number never changes;
- residence registration: its start (arrival in the city) and any gap;
- social-insurance spans: the start month, months transferred in from another city, months paid
  late (back-paid);
- the highest degree (awarded in July of the year its level is usually finished, at the latest
  the July before the cut-off), the skill level or professional title, an owned home, registered
  rentals, income tax, charity donations, volunteer service, honours, blood donations (of 400 ml,
  and one of 200, summing to the generator's total), a marrow donation, and invention patents
  (first or other inventor, or transferred in);
- the residence registration by district (a Binjiang resident from the day they moved into the
  district, anyone else in their district since registering), and Binjiang's key-enterprise staff
  list (the district's own registry, served by owner_registry_server.py).
Dates the generator does not give (a title awarded, a home bought, a blood or marrow donation)
fall between the holder's arrival and the cut-off of an application made this month.

What the tests name by residue stays at its residue, whatever the generator says: tests follow
holders by number and must find them as the residue describes, whatever month it is.
- Permits are valid, except n % 97 == 13 (suspended) and n % 89 == 7 (terminated); the
  generator's permit status is not used.
- Every holder has a residence registration except n % 101 == 29 (a rental never registered: the
  item is not found and is supplemented with the contract); a holder the generator leaves
  unregistered is registered from arrival. n % 1000 == 462 has a gap: registered 2010-2014, left,
  back since 2018.
- Every holder works for `demo_credit_code(n % 7)` now (employers' applications for their staff
  rest on it): a pension span that employer pays runs to the current month; a holder the
  generator has out of work started two months ago.
- A registration and a current span start before the cut-off of an application made this month
  (a holder who arrived last month is on record from the month before), so they are on record.
- Offences, credit listings and family-planning records appear only at fixed residues, away from
  the holders the tests follow (the generator's offences are not used: low-numbered holders are
  clean); 460 and 461 have a detention on the look-back's first day and on the day before it.
- Families: an even n has a registered spouse (n % 18 == 4: the home is in the spouse's name);
  every tenth holder has a minor child who holds a permit of their own (`demo_child(n)`);
  n % 31 == 3 holds a disability certificate.
- n % 67 == 0 and the next holder are co-inventors of one patent (first and second inventor);
  n % 59 == 20 has a foreign degree (certified when n % 118 == 79): the generator's degree, or a
  master's when the generator gives the holder none.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import typer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.verification.registries import (
    binjiang_key_enterprise_staff,
    blood_donations,
    charity_donations,
    credit_listings,
    disability_certificates,
    education_degrees,
    family_planning_records,
    honours,
    housing_homes,
    housing_rentals,
    hr_qualifications,
    investments,
    patents,
    police_contacts,
    police_offences,
    police_permits,
    police_relations,
    police_residence,
    police_residence_districts,
    registry_metadata,
    social_insurance_spans,
    tax_payments,
    volunteer_records,
)
from shared import clock
from shared.calendar import cut_off_date, shift_years
from shared.identity import birth_date, credit_check_char, make_id_number
from shared.migrate import SERVICE_ROLES
from shared.settings import get_settings
from shared.synthetic.holders import DEFAULT_AS_OF, generate

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "洋",
    "艳",
    "勇",
    "军",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "华",
    "平",
]
# demo_id_number generates birth dates a block of holders at a time: one holder alone costs about as much.
BIRTH_BLOCK = 1024


def seed_as_of(today: date | None = None) -> date:
    """The generator's reference date for the demo registries: the first day of the current month."""
    return (today or clock.today()).replace(day=1)


@lru_cache(maxsize=128)
def _birth_dates(block: int) -> list[date]:
    # As of the generator's own reference date, whatever the month: ID numbers never change, so the
    # README, tests and partners can name a demo holder by number for good.
    ids = np.arange(block * BIRTH_BLOCK + 1, (block + 1) * BIRTH_BLOCK + 1)
    return generate(ids, as_of=DEFAULT_AS_OF).column("birth_date").to_pylist()


def demo_birth_date(n: int) -> date:
    block, i = divmod(n - 1, BIRTH_BLOCK)
    return _birth_dates(block)[i]


def _id_number(n: int, born: date) -> str:
    # The region code varies with n so that no two of the first 90,000 holders share a number.
    return make_id_number("330106" if n < 1000 else f"3301{10 + n // 1000 % 90:02d}", born, n)


def demo_id_number(n: int) -> str:
    """Holder n's ID number, carrying the generator's birth date (as of its reference date)."""
    return _id_number(n, demo_birth_date(n))


def demo_permit_number(n: int) -> str:
    return f"ZJ330100-{n:06d}"


def demo_phone(n: int) -> str:
    """The phone on holder n's permit (a minor child's permit carries the parent's)."""
    return f"139{n:08d}"


def demo_credit_code(k: int) -> str:
    first17 = f"91330100MA2{k:06d}"
    return first17 + credit_check_char(first17)


def demo_spouse_id_number(n: int) -> str:
    return make_id_number(
        "330102" if n < 1000 else f"3302{10 + n // 1000 % 90:02d}",
        date(1972, 1, 1) + timedelta(days=(n * 53) % 11000),
        n,
    )


def demo_child(n: int) -> dict | None:
    """The minor child of holder n (every tenth holder), who holds a permit: a guardian applies for them."""
    if n % 10:
        return None
    c = n // 10
    born = date(2014, 1, 1) + timedelta(days=(c * 11) % 2500)
    return {
        "id_number": make_id_number("330108", born, c),
        "permit_number": f"ZJ330101-{n:06d}",
        "name": SURNAMES[n % len(SURNAMES)] + "小" + GIVEN[n % len(GIVEN)][0],
    }


def demo_holder(n: int, as_of: date | None = None) -> dict:
    """Registry rows of holder n, as `seed` writes them (as of `as_of`, by default this month's seed)."""
    as_of = as_of or seed_as_of()
    return holder_rows(n, generate(np.array([n]), as_of=as_of).to_pylist()[0], as_of)


def _months_before(day: date, months: int) -> date:
    m = day.year * 12 + day.month - 1 - months
    return date(m // 12, m % 12 + 1, 1)


def _midway(a: date, b: date) -> date:
    return a + (b - a) / 2


def demo_permit_status(n: int) -> str:
    """Holder n's permit: a few are suspended or terminated, to be refused (and not scored)."""
    if n % 97 == 13:
        return "suspended"
    if n % 89 == 7:
        return "terminated"
    return "valid"


def holder_rows(n: int, facts: dict, as_of: date) -> dict:
    """Registry rows of holder n from the generator's facts (`generate(...).to_pylist()`), and the residues."""
    facts = {**facts, "birth_date": demo_birth_date(n)}  # the same person whatever the month
    id_number = _id_number(n, facts["birth_date"])
    # On record for an application made in as_of's month: begun before its cut-off.
    latest_day = cut_off_date(as_of) - timedelta(days=1)
    this_month, latest_month = as_of.replace(day=1), _months_before(as_of, 2)
    name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)]
    status = demo_permit_status(n)
    permit = {
        "permit_number": demo_permit_number(n),
        "id_number": id_number,
        "name": name,
        "status": status,
        "valid_from": date(2015, 1, 1),
        "valid_to": date(2030, 12, 31),
    }

    # Arrival: the first registration; for a holder the generator leaves unregistered, the first
    # contribution or lease, or a year ago.
    registered = sorted(facts["residence_spans"], key=lambda s: s["start"])
    known = [s["start"] for s in registered] or [
        s["start"] for s in facts["social_insurance_spans"] if not s["transferred_in"] and not s["back_paid"]
    ] + [r["start"] for r in facts["rental_spans"]]
    arrival = min(min(known, default=_months_before(as_of, 12)), latest_day)
    if not registered or registered[0]["start"] > latest_day:
        registered = [{"start": arrival, "end": None}]
    residence = [{"id_number": id_number, "start_date": s["start"], "end_date": s["end"]} for s in registered]
    if n % 101 == 29:  # no residence registration: the item is not found, the applicant supplements it
        residence = []
    if n % 1000 == 462:  # a gap: registered 2010-2014, left, back since 2018
        residence = [
            {"id_number": id_number, "start_date": date(2010, 1, 1), "end_date": date(2014, 1, 1)},
            {"id_number": id_number, "start_date": date(2018, 1, 1), "end_date": None},
        ]

    # Social insurance: the generator's spans, paid by the holder's employer (transferred-in months
    # were paid elsewhere); a current pension span by that employer for everyone.
    employer = demo_credit_code(n % 7)
    spans = [
        {
            "id_number": id_number,
            "start_month": s["start"],
            "end_month": s["end"],
            "kind": s["kind"],
            "transferred_in": s["transferred_in"],
            "back_paid": s["back_paid"],
            "employer_credit_code": None if s["transferred_in"] else employer,
        }
        for s in facts["social_insurance_spans"]
    ]
    current = [s for s in spans if not s["transferred_in"] and not s["back_paid"] and s["end_month"] >= this_month]
    for s in current:
        s["start_month"] = min(s["start_month"], latest_month)
    if not any(s["kind"] == "pension" for s in current):  # out of work in the generator: a new job
        spans.append(
            {
                "id_number": id_number,
                "start_month": latest_month,
                "end_month": this_month,
                "kind": "pension",
                "transferred_in": False,
                "back_paid": False,
                "employer_credit_code": employer,
            }
        )

    relations, permits, residences, certificates = [], [permit], residence, []
    spouse_homes = []
    if n % 2 == 0:
        spouse = demo_spouse_id_number(n)
        relations += [
            {"id_number": id_number, "relative_id_number": spouse, "relation": "spouse"},
            {"id_number": spouse, "relative_id_number": id_number, "relation": "spouse"},
        ]
        if n % 9 == 4:  # the home is in the spouse's name: it counts for the holder too
            spouse_homes.append({"id_number": spouse, "acquired_on": date(2015, 5, 1)})
    child = demo_child(n)
    if child:
        permits.append(
            {
                **permit,
                "permit_number": child["permit_number"],
                "id_number": child["id_number"],
                "name": child["name"],
                "status": "valid",
            }
        )
        residences = residences + [
            {
                "id_number": child["id_number"],
                "end_date": None,
                "start_date": max(registered[0]["start"], birth_date(child["id_number"])),
            }
        ]
        relations += [
            {"id_number": child["id_number"], "relative_id_number": id_number, "relation": "parent"},
            {"id_number": id_number, "relative_id_number": child["id_number"], "relation": "child"},
        ]
    # The registration by district: Binjiang's residents from the day they moved into the district
    # (the generator's district record), everyone else in their district since registering.
    districts = []
    if residence:
        district_spans = facts.get("district_residence_spans") or []
        if district_spans:
            districts = [
                {
                    "id_number": id_number,
                    "district": "binjiang",
                    "start_date": min(s["start"], latest_day),
                    "end_date": s["end"],
                }
                for s in district_spans
            ]
        elif facts.get("district"):
            districts = [
                {
                    "id_number": id_number,
                    "district": facts["district"],
                    "start_date": residence[-1]["start_date"],
                    "end_date": None,
                }
            ]
    key_enterprise = (
        [{"id_number": id_number, "employer_credit_code": employer}] if facts.get("key_enterprise_employee") else []
    )
    if n % 31 == 3:
        certificates.append({"id_number": id_number, "grade": "2", "valid_to": date(2030, 12, 31)})
    records = other_records(n, id_number, facts, arrival, as_of)
    records["homes"] += spouse_homes
    return {
        "permit": permit,
        "permits": permits,
        "contacts": [{"id_number": p["id_number"], "phone": demo_phone(n)} for p in permits],
        "residence": residences,
        "districts": districts,
        "key_enterprise": key_enterprise,
        "spans": spans,
        "relations": relations,
        "certificates": certificates,
        **records,
    }


# Offences at fixed residues, away from the holders the tests follow: holder n has
# (case, act) when n % modulus == residue. 400/401/... keep them off the first few hundred.
OFFENCES = [
    (499, 400, "criminal"),
    (503, 401, "drug_rehab"),
    (97, 50, "detention"),
    (509, 402, "custody_education"),
    (1009, 403, "serious_crime"),
    (1013, 404, "banned_org"),
]
LOOKBACK_YEARS = 5  # hangzhou-2021's look-back: offences count from the same day five years before the cut-off
# The age at which each level is usually finished: a degree is awarded that July.
GRADUATION_AGE = {
    "high_school": 18,
    "secondary_vocational": 18,
    "junior_college": 21,
    "bachelor": 22,
    "master": 25,
    "doctorate": 29,
}
FOREIGN_LEVEL = "master"  # n % 59 == 20 with no degree in the generator
BLOOD_DONATION_ML = 400  # the usual whole-blood donation (200 for the remainder)


def other_records(n: int, id_number: str, facts: dict, arrival: date, as_of: date) -> dict[str, list[dict]]:
    """The other departments' registry rows of holder n: the generator's facts, and the residues' edge cases."""
    cut_off = cut_off_date(as_of)
    latest_day = cut_off - timedelta(days=1)
    row = {"id_number": id_number}
    out: dict[str, list[dict]] = {
        k: []
        for k in (
            "offences",
            "qualifications",
            "degrees",
            "homes",
            "rentals",
            "tax",
            "donations",
            "volunteering",
            "honours",
            "blood",
            "family_planning",
            "credit",
            "patents",
            "investments",
        )
    }
    for modulus, residue, case in OFFENCES:
        if n % modulus == residue:
            out["offences"].append({**row, "case": case, "act": f"{case}-{n}", "date": date(2024, 3, 1)})
    if n % 1000 in (460, 461):  # the look-back boundary of an application made today: on it, and the day before
        first_day = shift_years(cut_off_date(clock.today()), -LOOKBACK_YEARS) - timedelta(days=n % 1000 - 460)
        out["offences"].append({**row, "case": "detention", "act": f"boundary-{n}", "date": first_day})

    born = facts["birth_date"]
    foreign = n % 59 == 20  # a foreign degree, certified only for every other such holder
    level = facts["education"] or (FOREIGN_LEVEL if foreign else None)
    if level:
        last_july = date(cut_off.year if cut_off.month > 7 else cut_off.year - 1, 7, 1)
        awarded = min(date(born.year + GRADUATION_AGE[level], 7, 1), last_july)
        out["degrees"].append(
            {**row, "level": level, "awarded_on": awarded, "foreign": foreign, "certified": foreign and n % 118 == 79}
        )
    if facts["skill_title"]:  # awarded at work in the city (from 20 on)
        since = max(arrival, shift_years(born, 20))
        out["qualifications"].append(
            {
                **row,
                "level": facts["skill_title"],
                "awarded_on": _midway(since if since < latest_day else arrival, latest_day),
            }
        )
    if facts["own_home"]:
        out["homes"].append({**row, "acquired_on": _midway(arrival, latest_day)})
    out["rentals"] += [
        {**row, "start_date": r["start"], "end_date": r["end"], "registered": True} for r in facts["rental_spans"]
    ]
    out["tax"] += [{**row, "date": t["date"], "yuan": round(t["yuan"])} for t in facts["income_tax"]]
    out["donations"] += [{**row, "date": c["date"], "yuan": round(c["yuan"])} for c in facts["charity_donations"]]
    out["volunteering"] += [{**row, "date": v["date"], "hours": round(v["hours"])} for v in facts["volunteer_service"]]
    out["honours"] += [{**row, "matter": h["matter"], "level": h["level"], "date": h["date"]} for h in facts["honours"]]

    # Blood: donations of 400 ml (the last of 200 when the total asks), spread over the years in the city.
    whole, rest = divmod(round(facts["blood_donated_ml"]), BLOOD_DONATION_ML)
    portions = [BLOOD_DONATION_ML] * whole + ([rest] if rest else [])
    for i, portion in enumerate(portions):
        out["blood"].append(
            {
                **row,
                "kind": "blood",
                "ml": portion,
                "date": arrival + (latest_day - arrival) * (i + 1) / (len(portions) + 1),
            }
        )
    if facts["marrow_donated"]:
        out["blood"].append({**row, "kind": "marrow", "ml": 0, "date": _midway(arrival, latest_day)})
    if n % 223 == 101:
        out["family_planning"].append({**row, "act": f"fp-{n}", "date": date(2023, 5, 1)})
    if n % 211 == 100:
        out["credit"].append({**row, "act": f"credit-{n}", "listed_on": date(2024, 1, 15), "lifted_on": None})

    if n % 67 == 0:  # co-inventors: holder n first, holder n + 1 second on the same patent
        out["patents"].append(
            {
                **row,
                "patent_number": f"ZL2023{n:06d}",
                "inventor_order": 1,
                "transferred_in": False,
                "granted_on": date(2023, 9, 1),
            }
        )
    if n % 67 == 1 and n > 1:
        out["patents"].append(
            {
                **row,
                "patent_number": f"ZL2023{n - 1:06d}",
                "inventor_order": 2,
                "transferred_in": False,
                "granted_on": date(2023, 9, 1),
            }
        )
    out["patents"] += [
        {
            **row,
            "patent_number": p["patent"],
            "granted_on": p["date"],
            "inventor_order": 2 if p["role"] == "other_inventor" else 1,
            "transferred_in": p["role"] == "transferred_in",
        }
        for p in facts["patents"]
    ]
    out["investments"] += [
        {**row, "enterprise_credit_code": i["enterprise"], "tax_year": i["year"], "tax_yuan": round(i["yuan"])}
        for i in facts["investment_tax"]
    ]
    return out


# Bump when the registries' tables or the synthetic population change: the seed then starts over.
SEED_VERSION = 10
TABLES = {
    "permits": police_permits,
    "contacts": police_contacts,
    "residence": police_residence,
    "districts": police_residence_districts,
    "key_enterprise": binjiang_key_enterprise_staff,
    "spans": social_insurance_spans,
    "relations": police_relations,
    "certificates": disability_certificates,
    "offences": police_offences,
    "qualifications": hr_qualifications,
    "degrees": education_degrees,
    "homes": housing_homes,
    "rentals": housing_rentals,
    "tax": tax_payments,
    "donations": charity_donations,
    "volunteering": volunteer_records,
    "honours": honours,
    "blood": blood_donations,
    "family_planning": family_planning_records,
    "credit": credit_listings,
    "patents": patents,
    "investments": investments,
}
SEED_INFO = "CREATE TABLE registries.seed_info (version int NOT NULL, holders int NOT NULL, as_of date NOT NULL)"


async def seed(url: str, holders: int) -> None:
    """Holders 1..`holders` in the `registries` schema; kept when the same version, month and at least
    as many holders are already there (holder n's rows do not depend on how many are seeded)."""
    as_of = seed_as_of()
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE SCHEMA IF NOT EXISTS registries"))
        await conn.execute(text(SEED_INFO.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS")))
        have = (await conn.execute(text("SELECT * FROM registries.seed_info"))).mappings().first()
        if (
            have is not None
            and have["version"] == SEED_VERSION
            and have.get("as_of") == as_of
            and have["holders"] >= holders
        ):
            await _let_verification_read(conn)
            await engine.dispose()
            return
        await conn.execute(text("DROP SCHEMA registries CASCADE"))
        await conn.execute(text("CREATE SCHEMA registries"))
        await conn.run_sync(registry_metadata.create_all)
        await conn.execute(text(SEED_INFO))
        rows: dict[str, list[dict]] = {name: [] for name in TABLES}
        # Every holder in one call: the generator is vectorised, one holder at a time costs as much as thousands.
        for facts in generate(np.arange(1, holders + 1), as_of=as_of).to_pylist():
            h = holder_rows(facts["holder"], facts, as_of)
            for name in TABLES:
                rows[name] += h[name]
        for name, table in TABLES.items():
            for i in range(0, len(rows[name]), 5000):
                await conn.execute(table.insert(), rows[name][i : i + 5000])
        await conn.execute(
            text("INSERT INTO registries.seed_info VALUES (:v, :h, :a)"), {"v": SEED_VERSION, "h": holders, "a": as_of}
        )
        await _let_verification_read(conn)
    await engine.dispose()


async def _let_verification_read(conn) -> None:
    """The registries stand in for the departments' own systems: the verifiers' role may read them, and
    add a dishonesty listing through the credit department's interface (forgery), no more."""
    role = SERVICE_ROLES["verification"]
    if await conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}):
        await conn.execute(text(f"GRANT USAGE ON SCHEMA registries TO {role}"))
        await conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA registries TO {role}"))
        await conn.execute(text(f"GRANT INSERT ON registries.credit_listings TO {role}"))


def main(
    holders: int = typer.Option(20000, help="How many demo holders to seed"),
    database_url: str = typer.Option(None, help="Defaults to DATABASE_URL"),
) -> None:
    asyncio.run(seed(database_url or get_settings().database_url, holders))
    typer.echo(f"seeded {holders} demo holders in the registries schema")


if __name__ == "__main__":
    typer.run(main)
