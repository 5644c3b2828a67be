"""Asking the registries ahead: the departments' look-ups for one application in one round trip
give each department exactly what its own look-up gives (the seeded registries, real PostgreSQL)."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.verification import departments
from services.verification.registries import SqlRegistries
from services.verification.seed import demo_id_number, demo_permit_number
from services.verification.use_cases.answers import asks_of
from shared.db import Database
from shared.events.catalogue import ApplicationSubmitted, FamilyMember, Holder

DEPARTMENTS = ["police", "social_insurance", *departments.ANSWERS]


def counting(uow: Any) -> list[Any]:
    """The statements the unit of work runs from now on (each one round trip)."""
    ran: list[Any] = []
    fetch = uow.fetch

    async def counted(statement: Any, params: dict) -> Any:
        ran.append(statement)
        return await fetch(statement, params)

    uow.fetch = counted
    return ran


async def _look_ups(registries: SqlRegistries, uow: Any, data: ApplicationSubmitted) -> list[Any]:
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
    db = Database(platform.database_url)
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
            async with db.unit_of_work() as uow:
                alone_ran = counting(uow)
                alone = await _look_ups(registries, uow, data)
            async with db.unit_of_work() as uow:
                ran = counting(uow)
                await registries.ask_ahead(uow, [a for d in DEPARTMENTS for a in asks_of(d, data)])
                ahead = await _look_ups(registries, uow, data)
            assert ahead == alone, n
            assert any(alone[1]) or n == 2999  # the seeded holders have records to compare
            # One statement for all, the family's homes (housing) included; one each without.
            assert len(ran) == 1, (n, len(ran))
            assert len(alone_ran) == len(alone), n  # without: one round trip a look-up
    finally:
        await db.dispose()
