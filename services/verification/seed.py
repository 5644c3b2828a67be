"""Seed the demo registries with synthetic holders (`python -m services.verification.seed`).

Holders are deterministic: holder n has ID number `demo_id_number(n)` and permit
`demo_permit_number(n)`, so tests, the README's curl example and the benchmark can
name them without reading the database.
"""
from __future__ import annotations

import asyncio
import random
from datetime import date, timedelta

import typer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.verification.registries import police_permits, police_residence, registry_metadata, social_insurance_spans
from shared.identity import make_id_number
from shared.settings import get_settings

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英", "华", "平"]


def demo_id_number(n: int) -> str:
    born = date(1970, 1, 1) + timedelta(days=(n * 37) % 12000)
    return make_id_number("330106", born, n)


def demo_permit_number(n: int) -> str:
    return f"ZJ330100-{n:06d}"


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
    residence = [{"id_number": id_number, "start_date": res_start, "end_date": None}]
    si_start = date(res_start.year + rng.randrange(0, 3), rng.randrange(1, 13), 1)
    spans = [{"id_number": id_number, "start_month": si_start, "end_month": date(2026, 10, 1), "kind": "pension",
              "transferred_in": False, "back_paid": False}]
    if n % 5 == 0:  # some months transferred in from elsewhere: they must not count
        spans.append({"id_number": id_number, "start_month": date(2003, 1, 1), "end_month": date(2004, 12, 1),
                      "kind": "pension", "transferred_in": True, "back_paid": False})
    return {"permit": permit, "residence": residence, "spans": spans}


async def seed(url: str, holders: int) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE SCHEMA IF NOT EXISTS registries"))
        await conn.run_sync(registry_metadata.create_all)
        have = await conn.scalar(text("SELECT count(*) FROM registries.police_permits"))
        if have >= holders:
            await engine.dispose()
            return
        await conn.execute(text("TRUNCATE registries.police_permits, registries.police_residence, "
                                "registries.social_insurance_spans"))
        permits, residence, spans = [], [], []
        for n in range(1, holders + 1):
            h = demo_holder(n)
            permits.append(h["permit"])
            residence += h["residence"]
            spans += h["spans"]
        for table, rows in ((police_permits, permits), (police_residence, residence), (social_insurance_spans, spans)):
            for i in range(0, len(rows), 5000):
                await conn.execute(table.insert(), rows[i:i + 5000])
    await engine.dispose()


def main(holders: int = typer.Option(20000, help="How many demo holders to seed"),
         database_url: str = typer.Option(None, help="Defaults to DATABASE_URL")) -> None:
    asyncio.run(seed(database_url or get_settings().database_url, holders))
    typer.echo(f"seeded {holders} demo holders in the registries schema")


if __name__ == "__main__":
    typer.run(main)
