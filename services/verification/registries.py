"""Adapters to the departments' registries ("shared data", outside the platform).

Local runs and tests use the SQL adapter over a seeded `registries` schema; a production
deployment points `REGISTRY_DATABASE_URL` at a replica, or replaces the adapter with an
HTTP one behind the same two methods.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Column, Date, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

registry_metadata = MetaData(schema="registries")

police_permits = Table(
    "police_permits", registry_metadata,
    Column("permit_number", String(40), primary_key=True),
    Column("id_number", String(18), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("status", String(20), nullable=False),  # valid / suspended / terminated
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
)
police_residence = Table(
    "police_residence", registry_metadata,
    Column("id_number", String(18), nullable=False, index=True),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),
)
social_insurance_spans = Table(
    "social_insurance_spans", registry_metadata,
    Column("id_number", String(18), nullable=False, index=True),
    Column("start_month", Date, nullable=False),
    Column("end_month", Date, nullable=False),
    Column("kind", String(20), nullable=False),  # pension / medical
    Column("transferred_in", Boolean, nullable=False),
    Column("back_paid", Boolean, nullable=False),
)


class SqlRegistries:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def police(self, permit_number: str, id_number: str, cut_off: date) -> tuple[dict | None, list[dict]]:
        async with self.engine.connect() as conn:
            permit = (await conn.execute(select(police_permits).where(police_permits.c.permit_number == permit_number))).first()
            residence = (await conn.execute(
                select(police_residence.c.start_date, police_residence.c.end_date)
                .where(police_residence.c.id_number == id_number, police_residence.c.start_date < cut_off)
                .order_by(police_residence.c.start_date))).all()
        return (dict(permit._mapping) if permit else None), [dict(r._mapping) for r in residence]

    async def social_insurance(self, id_number: str, cut_off: date) -> list[dict]:
        t = social_insurance_spans
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(t).where(t.c.id_number == id_number, t.c.start_month < cut_off)
                                       .order_by(t.c.start_month))).all()
        return [dict(r._mapping) for r in rows]
