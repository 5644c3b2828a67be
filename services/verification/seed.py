"""Seed the demo registries with synthetic holders (`python -m services.verification.seed`).

Holders are deterministic: holder n has ID number `demo_id_number(n)` and permit
`demo_permit_number(n)`, so tests, the README's curl example and the benchmark can
name them without reading the database. Families and employers are as deterministic:
holder n works for `demo_credit_code(n % 7)`; an even n has a registered spouse; every tenth
holder has a minor child who holds a permit of their own (`demo_child(n)`); holders with
n % 31 == 3 hold a disability certificate; n % 101 == 29 have no residence registration. Edge
cases: n % 1000 == 462 has a gap in residence; 460 and 461 a detention on the look-back's first
day and the day before it; n % 67 == 0 and the next holder are co-inventors; n % 5 == 0 has
transferred-in insurance months; n % 59 == 20 a foreign degree (certified when n % 118 == 79).
"""
from __future__ import annotations

import asyncio
import random
from datetime import date, timedelta

import typer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.verification.registries import (blood_donations, charity_donations, credit_listings,
                                              disability_certificates, education_degrees, family_planning_records,
                                              honours, housing_homes, housing_rentals, hr_qualifications, patents,
                                              police_offences, police_permits, police_relations, police_residence,
                                              registry_metadata, social_insurance_spans, tax_payments,
                                              volunteer_records)
from shared.calendar import cut_off_date, shift_years
from shared.identity import credit_check_char, make_id_number
from shared.settings import get_settings

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英", "华", "平"]


def demo_id_number(n: int) -> str:
    born = date(1970, 1, 1) + timedelta(days=(n * 37) % 12000)
    # The region code varies with n so that no two of the first 90,000 holders share a number.
    return make_id_number("330106" if n < 1000 else f"3301{10 + n // 1000 % 90:02d}", born, n)


def demo_permit_number(n: int) -> str:
    return f"ZJ330100-{n:06d}"


def demo_credit_code(k: int) -> str:
    first17 = f"91330100MA2{k:06d}"
    return first17 + credit_check_char(first17)


def demo_spouse_id_number(n: int) -> str:
    return make_id_number("330102" if n < 1000 else f"3302{10 + n // 1000 % 90:02d}",
                          date(1972, 1, 1) + timedelta(days=(n * 53) % 11000), n)


def demo_child(n: int) -> dict | None:
    """The minor child of holder n (every tenth holder), who holds a permit: a guardian applies for them."""
    if n % 10:
        return None
    c = n // 10
    born = date(2014, 1, 1) + timedelta(days=(c * 11) % 2500)
    return {"id_number": make_id_number("330108", born, c), "permit_number": f"ZJ330101-{n:06d}",
            "name": SURNAMES[n % len(SURNAMES)] + "小" + GIVEN[n % len(GIVEN)][0]}


def demo_holder(n: int) -> dict:
    """Registry rows of holder n: permit, residence registration, social insurance."""
    rng = random.Random(n)
    id_number = demo_id_number(n)
    name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)]
    status = "valid"
    if n % 97 == 13:
        status = "suspended"
    elif n % 89 == 7:
        status = "terminated"
    permit = {"permit_number": demo_permit_number(n), "id_number": id_number, "name": name, "status": status,
              "valid_from": date(2015, 1, 1), "valid_to": date(2030, 12, 31)}
    res_start = date(2005 + rng.randrange(0, 18), rng.randrange(1, 13), 1)
    # n % 101 == 29: no residence registration (a rental never registered): the item is not found
    # and the applicant supplements it with the contract.
    residence = [] if n % 101 == 29 else [{"id_number": id_number, "start_date": res_start, "end_date": None}]
    if n % 1000 == 462:  # a gap: registered 2010-2014, left, back since 2018
        residence = [{"id_number": id_number, "start_date": date(2010, 1, 1), "end_date": date(2014, 1, 1)},
                     {"id_number": id_number, "start_date": date(2018, 1, 1), "end_date": None}]
    si_start = date(res_start.year + rng.randrange(0, 3), rng.randrange(1, 13), 1)
    spans = [{"id_number": id_number, "start_month": si_start, "end_month": date(2026, 10, 1), "kind": "pension",
              "transferred_in": False, "back_paid": False, "employer_credit_code": demo_credit_code(n % 7)}]
    if n % 5 == 0:  # some months transferred in from elsewhere: they must not count
        spans.append({"id_number": id_number, "start_month": date(2003, 1, 1), "end_month": date(2004, 12, 1),
                      "kind": "pension", "transferred_in": True, "back_paid": False, "employer_credit_code": None})
    relations, permits, residences, certificates = [], [permit], residence, []
    spouse_homes = []
    if n % 2 == 0:
        spouse = demo_spouse_id_number(n)
        relations += [{"id_number": id_number, "relative_id_number": spouse, "relation": "spouse"},
                      {"id_number": spouse, "relative_id_number": id_number, "relation": "spouse"}]
        if n % 9 == 4:  # the home is in the spouse's name: it counts for the holder too
            spouse_homes.append({"id_number": spouse, "acquired_on": date(2015, 5, 1)})
    child = demo_child(n)
    if child:
        permits.append({**permit, "permit_number": child["permit_number"], "id_number": child["id_number"],
                        "name": child["name"], "status": "valid"})
        residences = residences + [{"id_number": child["id_number"], "start_date": res_start, "end_date": None}]
        relations += [{"id_number": child["id_number"], "relative_id_number": id_number, "relation": "parent"},
                      {"id_number": id_number, "relative_id_number": child["id_number"], "relation": "child"}]
    if n % 31 == 3:
        certificates.append({"id_number": id_number, "grade": "2", "valid_to": date(2030, 12, 31)})
    records = other_records(n, id_number, rng, res_start)
    records["homes"] += spouse_homes
    return {"permit": permit, "permits": permits, "residence": residences, "spans": spans, "relations": relations,
            "certificates": certificates, **records}


# Offences at fixed residues, away from the holders the tests follow: holder n has
# (case, act) when n % modulus == residue. 400/401/... keep them off the first few hundred.
OFFENCES = [(499, 400, "criminal"), (503, 401, "drug_rehab"), (97, 50, "detention"), (509, 402, "custody_education"),
            (1009, 403, "serious_crime"), (1013, 404, "banned_org")]
LOOKBACK_YEARS = 5  # hangzhou-2021's look-back: offences count from the same day five years before the cut-off
DEGREES = [("high_school", 25), ("secondary_vocational", 10), ("junior_college", 25), ("bachelor", 30), ("master", 8),
           ("doctorate", 2)]
QUALIFICATIONS = ["senior_worker", "technician", "senior_technician", "intermediate_title", "deputy_senior_title",
                  "senior_title"]


def other_records(n: int, id_number: str, rng: random.Random, since: date) -> dict[str, list[dict]]:
    """The other departments' registry rows of holder n, with plausible rates and a few edge cases."""
    def day(start_year: int, end_year: int = 2026) -> date:
        return date(rng.randrange(start_year, end_year), rng.randrange(1, 13), rng.randrange(1, 29))

    row = {"id_number": id_number}
    out: dict[str, list[dict]] = {k: [] for k in ("offences", "qualifications", "degrees", "homes", "rentals", "tax",
                                                  "donations", "volunteering", "honours", "blood", "family_planning",
                                                  "credit", "patents")}
    for modulus, residue, case in OFFENCES:
        if n % modulus == residue:
            out["offences"].append({**row, "case": case, "act": f"{case}-{n}", "date": date(2024, 3, 1)})
    if n % 1000 in (460, 461):  # the look-back boundary of an application made today: on it, and the day before
        first_day = shift_years(cut_off_date(date.today()), -LOOKBACK_YEARS) - timedelta(days=n % 1000 - 460)
        out["offences"].append({**row, "case": "detention", "act": f"boundary-{n}", "date": first_day})
    if rng.random() < 0.85:
        level = rng.choices([d for d, _ in DEGREES], [w for _, w in DEGREES])[0]
        foreign = n % 59 == 20  # a foreign degree, certified only for every other such holder
        out["degrees"].append({**row, "level": level, "awarded_on": day(1995, 2020), "foreign": foreign,
                               "certified": foreign and n % 118 == 79})
    if rng.random() < 0.2:
        out["qualifications"].append({**row, "level": rng.choice(QUALIFICATIONS), "awarded_on": day(2005, 2024)})
    if rng.random() < 0.3:
        out["homes"].append({**row, "acquired_on": day(2010, 2025)})
    elif rng.random() < 0.6:
        start = day(2012, 2024)
        out["rentals"].append({**row, "start_date": start, "end_date": None, "registered": rng.random() < 0.85})
    if rng.random() < 0.7:
        for year in range(2021, 2026):
            out["tax"].append({**row, "date": date(year, 12, 31), "yuan": rng.randrange(500, 30000)})
    if rng.random() < 0.1:
        out["donations"].append({**row, "date": day(2020), "yuan": rng.randrange(200, 5000)})
    if rng.random() < 0.15:
        out["volunteering"] += [{**row, "date": day(2021), "hours": rng.randrange(4, 40)} for _ in range(rng.randrange(1, 6))]
    if rng.random() < 0.02:
        out["honours"].append({**row, "matter": f"matter-{n}", "level": rng.choice(["national", "provincial", "city",
                                                                                    "district"]), "date": day(2021)})
    if rng.random() < 0.1:
        out["blood"] += [{**row, "kind": "blood", "ml": rng.choice([200, 300, 400]), "date": day(2019)}
                         for _ in range(rng.randrange(1, 4))]
    if n % 211 == 17:
        out["blood"].append({**row, "kind": "marrow", "ml": 0, "date": date(2023, 6, 1)})
    if n % 223 == 101:
        out["family_planning"].append({**row, "act": f"fp-{n}", "date": date(2023, 5, 1)})
    if n % 211 == 100:
        out["credit"].append({**row, "act": f"credit-{n}", "listed_on": date(2024, 1, 15), "lifted_on": None})
    if n % 67 == 0:  # co-inventors: holder n first, holder n + 1 second on the same patent
        out["patents"].append({**row, "patent_number": f"ZL2023{n:06d}", "inventor_order": 1, "transferred_in": False,
                               "granted_on": date(2023, 9, 1)})
    if n % 67 == 1 and n > 1:
        out["patents"].append({**row, "patent_number": f"ZL2023{n - 1:06d}", "inventor_order": 2,
                               "transferred_in": False, "granted_on": date(2023, 9, 1)})
    return out


# Bump when the registries' tables or the synthetic population change: the seed then starts over.
SEED_VERSION = 5
TABLES = {"permits": police_permits, "residence": police_residence, "spans": social_insurance_spans,
          "relations": police_relations, "certificates": disability_certificates, "offences": police_offences,
          "qualifications": hr_qualifications, "degrees": education_degrees, "homes": housing_homes,
          "rentals": housing_rentals, "tax": tax_payments, "donations": charity_donations,
          "volunteering": volunteer_records, "honours": honours, "blood": blood_donations,
          "family_planning": family_planning_records, "credit": credit_listings, "patents": patents}


async def seed(url: str, holders: int) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE SCHEMA IF NOT EXISTS registries"))
        await conn.execute(text("CREATE TABLE IF NOT EXISTS registries.seed_info (version int NOT NULL, holders int NOT NULL)"))
        have = (await conn.execute(text("SELECT version, holders FROM registries.seed_info"))).first()
        if have is not None and have.version == SEED_VERSION and have.holders >= holders:
            await engine.dispose()
            return
        await conn.execute(text("DROP SCHEMA registries CASCADE"))
        await conn.execute(text("CREATE SCHEMA registries"))
        await conn.run_sync(registry_metadata.create_all)
        await conn.execute(text("CREATE TABLE registries.seed_info (version int NOT NULL, holders int NOT NULL)"))
        rows: dict[str, list[dict]] = {name: [] for name in TABLES}
        for n in range(1, holders + 1):
            h = demo_holder(n)
            for name in TABLES:
                rows[name] += h[name]
        for name, table in TABLES.items():
            for i in range(0, len(rows[name]), 5000):
                await conn.execute(table.insert(), rows[name][i:i + 5000])
        await conn.execute(text("INSERT INTO registries.seed_info VALUES (:v, :h)"), {"v": SEED_VERSION, "h": holders})
    await engine.dispose()


def main(holders: int = typer.Option(20000, help="How many demo holders to seed"),
         database_url: str = typer.Option(None, help="Defaults to DATABASE_URL")) -> None:
    asyncio.run(seed(database_url or get_settings().database_url, holders))
    typer.echo(f"seeded {holders} demo holders in the registries schema")


if __name__ == "__main__":
    typer.run(main)
