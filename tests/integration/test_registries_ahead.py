"""Asking the registries ahead: the departments' look-ups for one application in one round trip
give each department exactly what its own look-up gives (the seeded registries, real PostgreSQL)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

from services.verification import departments
from services.verification.registries import SqlRegistries
from services.verification.seed import demo_id_number, demo_permit_number
from services.verification.use_cases.answers import asks_of
from shared.events.catalogue import ApplicationSubmitted, FamilyMember, Holder

DEPARTMENTS = ["police", "social_insurance", *departments.ANSWERS]


class Unit:
    """What the adapter needs of a unit of work: a connection, and the memo it keeps answers in."""

    def __init__(self, conn: Any) -> None:
        self.conn, self.memo = conn, {}


async def _look_ups(registries: SqlRegistries, uow: Unit, data: ApplicationSubmitted) -> list[Any]:
    holder, cut_off = data.holder, data.cut_off_date
    people = [holder.id_number, *(m.id_number for m in data.family)]
    found: list[Any] = [
        await registries.police(uow, holder.permit_number, holder.id_number, cut_off),
        await registries.social_insurance(uow, holder.id_number, cut_off),
        await registries.records(uow, "police_records", holder.id_number, cut_off),
    ]
    for department in departments.ANSWERS:
        found.append(
            await registries.records(uow, departments.ANSWERS[department][0], holder.id_number, cut_off, people)
        )
    return found


async def test_asked_ahead_each_department_gets_what_its_own_look_up_gets_in_one_round_trip(platform):
    engine = create_async_engine(platform.database_url)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    registries = SqlRegistries(None)
    spouse = FamilyMember(relation="spouse", id_number=demo_id_number(7), name_masked="李*", id_number_masked="x")
    try:
        for n, family in ((11, []), (12, []), (13, [spouse]), (2999, [])):
            data = ApplicationSubmitted(
                application_id=f"APP-AHEAD-{n}",
                holder=Holder(name="测试", id_number=demo_id_number(n), permit_number=demo_permit_number(n)),
                applied_on=date(2026, 11, 2),
                cut_off_date=date(2026, 10, 1),
                expected_departments=DEPARTMENTS,
                family=family,
            )
            async with engine.connect() as conn:
                alone = await _look_ups(registries, Unit(conn), data)
                statements.clear()
                uow = Unit(conn)
                await registries.ask_ahead(uow, [a for d in DEPARTMENTS for a in asks_of(d, data)])
                ahead = await _look_ups(registries, uow, data)
            assert ahead == alone, n
            assert any(alone[1]) or n == 2999  # the seeded holders have records to compare
            # One statement for all, the family's homes (housing) included.
            assert len(statements) == 1, (n, len(statements))
    finally:
        await engine.dispose()
