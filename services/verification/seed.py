"""Seed the demo registries with synthetic holders (`python -m services.verification.seed`).

Holders are deterministic: holder n has ID number `demo_id_number(n)` and permit
`demo_permit_number(n)`, so tests, the README's curl example and the benchmark can
name them without reading the database. Families and employers are as deterministic:
holder n works for `demo_credit_code(n % 7)`; an even n has a registered spouse; every tenth
holder has a minor child who holds a permit of their own (`demo_child(n)`); holders with
n % 31 == 3 hold a disability certificate; n % 101 == 29 have no residence registration.
"""
from __future__ import annotations

import asyncio
import random
from datetime import date, timedelta

import typer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.verification.registries import (disability_certificates, police_permits, police_relations,
                                              police_residence, registry_metadata, social_insurance_spans)
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
    si_start = date(res_start.year + rng.randrange(0, 3), rng.randrange(1, 13), 1)
    spans = [{"id_number": id_number, "start_month": si_start, "end_month": date(2026, 10, 1), "kind": "pension",
              "transferred_in": False, "back_paid": False, "employer_credit_code": demo_credit_code(n % 7)}]
    if n % 5 == 0:  # some months transferred in from elsewhere: they must not count
        spans.append({"id_number": id_number, "start_month": date(2003, 1, 1), "end_month": date(2004, 12, 1),
                      "kind": "pension", "transferred_in": True, "back_paid": False, "employer_credit_code": None})
    relations, permits, residences, certificates = [], [permit], residence, []
    if n % 2 == 0:
        spouse = demo_spouse_id_number(n)
        relations += [{"id_number": id_number, "relative_id_number": spouse, "relation": "spouse"},
                      {"id_number": spouse, "relative_id_number": id_number, "relation": "spouse"}]
    child = demo_child(n)
    if child:
        permits.append({**permit, "permit_number": child["permit_number"], "id_number": child["id_number"],
                        "name": child["name"], "status": "valid"})
        residences = residences + [{"id_number": child["id_number"], "start_date": res_start, "end_date": None}]
        relations += [{"id_number": child["id_number"], "relative_id_number": id_number, "relation": "parent"},
                      {"id_number": id_number, "relative_id_number": child["id_number"], "relation": "child"}]
    if n % 31 == 3:
        certificates.append({"id_number": id_number, "grade": "2", "valid_to": date(2030, 12, 31)})
    return {"permit": permit, "permits": permits, "residence": residences, "spans": spans, "relations": relations,
            "certificates": certificates}


# Bump when the registries' tables or the synthetic population change: the seed then starts over.
SEED_VERSION = 2
TABLES = {"permits": police_permits, "residence": police_residence, "spans": social_insurance_spans,
          "relations": police_relations, "certificates": disability_certificates}


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
