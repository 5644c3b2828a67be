"""A forged material voids the score and leaves a dishonesty record in the credit registry, which
the credit department then reports for the holder as a `dishonesty` deduction; audited in
the credit department's chain."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.verification import departments
from services.verification.registries import SqlRegistries
from services.verification.seed import demo_id_number
from shared import clock
from tests.integration.helpers import POLICE, WINDOW, application_body, pdf, wait_for
from tests.integration.test_materials_and_review import scored, upload

pytestmark = pytest.mark.integration
N = 433  # no residence registration in the police registry (n % 101 == 29): a supplement goes to the desk


async def test_a_forgery_reaches_the_credit_registry_once_and_later_counts_as_dishonesty(platform):
    url = f"{platform.url('intake')}/v1/applications"
    desk = f"{platform.url('verification')}/v1/departments/police/reviews"
    async with httpx.AsyncClient(timeout=30) as client:
        app_id = (await client.post(url, json=application_body(N), headers=WINDOW)).json()["id"]
        await scored(client, platform, app_id)
        r = await client.post(
            f"{url}/{app_id}/materials", **upload("residence", "居住证明.pdf", pdf("altered")), headers=WINDOW
        )
        assert r.status_code == 201, r.text

        async def task_for_app():
            items = (await client.get(desk, headers=POLICE)).json()["items"]
            return next((t for t in items if t["application_id"] == app_id), None)

        task = await wait_for("verification: the supplement reaches the police desk", task_for_app)
        r = await client.post(
            f"{desk}/{task['id']}/decision", json={"decision": "forged", "reason": "altered stamp"}, headers=POLICE
        )
        assert r.status_code == 200, r.text
        voided = await scored(client, platform, app_id, version=2)
        assert voided["status"] == "void"

    engine = create_async_engine(platform.database_url)
    async with engine.connect() as conn:
        act = (
            await conn.execute(
                text("SELECT act FROM verification.credit_reports WHERE application_id = :a"), {"a": app_id}
            )
        ).scalar_one()

    async def listed():
        async with engine.connect() as conn:
            return (
                await conn.execute(
                    text("SELECT id_number, listed_on FROM registries.credit_listings WHERE act = :act"), {"act": act}
                )
            ).all()

    rows = await wait_for("the credit reporter sends the dishonesty record", listed)
    assert len(rows) == 1 and rows[0].id_number == demo_id_number(N) and rows[0].listed_on == clock.today()
    async with engine.connect() as conn:
        audited = (
            (
                await conn.execute(
                    text("SELECT fact FROM verification.audit_log WHERE department = 'credit' AND application_id = :a"),
                    {"a": app_id},
                )
            )
            .scalars()
            .all()
        )
        state = (
            await conn.execute(text("SELECT state FROM verification.credit_reports WHERE act = :act"), {"act": act})
        ).scalar_one()
    assert audited.count("dishonesty_reported") == 1 and state == "sent"  # beside its look-ups

    # What the credit department answers for this holder's next application: a dishonesty record.
    registries = SqlRegistries(engine)
    later = clock.today() + timedelta(days=40)
    records = await registries.records(None, "credit", demo_id_number(N), later)
    answer = departments.credit(records, {"cut_off_date": later.isoformat()})
    assert {"case": "dishonesty", "act": act, "date": clock.today().isoformat()} in answer.facts["offences"]
    await engine.dispose()
