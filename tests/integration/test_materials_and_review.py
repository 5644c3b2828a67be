"""Materials: kept as sent and typed by their content; a returned item supplemented before its
deadline goes to the department's review desk and the decision is scored again; after the
deadline the item stays at 0 and the rest of the application stands."""

from __future__ import annotations

import hashlib
import secrets

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.integration.helpers import POLICE, SOCIAL_INSURANCE, WINDOW, application_body, pdf, status, wait_for

pytestmark = pytest.mark.integration
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"


def upload(indicator: str, name: str, content: bytes) -> dict:
    return {"data": {"indicator": indicator}, "files": {"file": (name, content, "application/pdf")}}


async def scored(client, platform, app_id: str, version: int = 1) -> dict:
    async def probe():
        doc = await status(client, platform, app_id)
        return doc["score"] and doc["score"]["version"] >= version and doc

    return await wait_for(f"scoring: version {version} reaches the application", probe)


async def test_a_material_is_kept_as_sent_and_typed_by_its_content(platform):
    url = f"{platform.url('intake')}/v1/applications"
    async with httpx.AsyncClient(timeout=30) as client:
        app_id = (await client.post(url, json=application_body(171), headers=WINDOW)).json()["id"]
        verified = await scored(client, platform, app_id)
        # Items no registry could confirm take materials; what a registry confirmed needs none.
        open_items = [i["indicator"] for i in verified["items"] if i["state"] == "not_found"]
        closed = next(i["indicator"] for i in verified["items"] if i["state"] == "passed")
        assert len(open_items) >= 2, verified["items"]
        diploma = pdf("diploma")
        r = await client.post(f"{url}/{app_id}/materials", **upload(open_items[0], "证书.pdf", diploma), headers=WINDOW)
        assert r.status_code == 201, r.text
        m = r.json()
        assert (m["media_type"], m["size"], m["sha256"], m["purpose"]) == (
            "application/pdf",
            len(diploma),
            hashlib.sha256(diploma).hexdigest(),
            "supplement",
        )
        r = await client.post(f"{url}/{app_id}/materials", **upload(closed, "x.pdf", diploma), headers=WINDOW)
        assert r.status_code == 409 and r.json()["type"] == "/problems/item-closed"
        back = await client.get(f"{url}/{app_id}/materials/{m['id']}/content", headers=WINDOW)
        assert back.content == diploma and back.headers["content-type"] == "application/pdf"

        # The name and the declared type do not count: the content does.
        r = await client.post(f"{url}/{app_id}/materials", **upload(open_items[0], "scan.pdf", PNG), headers=WINDOW)
        assert r.status_code == 201 and r.json()["media_type"] == "image/png"
        for content, expected in ((b"MZ\x90\x00 not a document", 415), (b"", 422)):
            r = await client.post(
                f"{url}/{app_id}/materials", **upload(open_items[1], "x.pdf", content), headers=WINDOW
            )
            assert r.status_code == expected and r.json()["errors"][0]["field"] == "file", r.text
        r = await client.post(f"{url}/{app_id}/materials", **upload("horoscope", "x.pdf", diploma), headers=WINDOW)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "indicator"

        # Over the size limit: refused with a clear problem, nothing stored.
        big = pdf("big") + b"0" * (10 * 1024 * 1024)
        r = await client.post(f"{url}/{app_id}/materials", **upload(open_items[1], "big.pdf", big), headers=WINDOW)
        assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
        # Any other request body has a smaller limit (an application may carry a letter: 10 MiB, base64).
        r = await client.post(f"{url}/{app_id}/withdraw", content=b"x" * (3 * 1024 * 1024), headers=WINDOW)
        assert r.status_code == 413 and r.json()["status"] == 413

        # A retried upload with the same Idempotency-Key stores the material once.
        key = {"Idempotency-Key": f"upload-{secrets.token_hex(4)}"}
        item = open_items[1]
        first = await client.post(
            f"{url}/{app_id}/materials", **upload(item, "a.pdf", pdf("a")), headers={**WINDOW, **key}
        )
        again = await client.post(
            f"{url}/{app_id}/materials", **upload(item, "a.pdf", pdf("a")), headers={**WINDOW, **key}
        )
        assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
        listed = (await client.get(f"{url}/{app_id}/materials", headers=WINDOW)).json()["items"]
        assert [x["indicator"] for x in listed] == [open_items[0], open_items[0], item]


async def test_a_returned_item_supplemented_in_time_is_reviewed_and_scored_again(platform):
    url = f"{platform.url('intake')}/v1/applications"
    desk = f"{platform.url('verification')}/v1/departments/police/reviews"
    n = 130  # no residence registration in the police registry (n % 101 == 29)
    async with httpx.AsyncClient(timeout=30) as client:
        app_id = (await client.post(url, json=application_body(n), headers=WINDOW)).json()["id"]
        first = await scored(client, platform, app_id)
        residence = next(i for i in first["items"] if i["indicator"] == "residence")
        assert residence["state"] == "not_found" and residence["supplement_by"] >= first["applied_on"]

        contract = pdf("registered rental contract since 2019")
        r = await client.post(
            f"{url}/{app_id}/materials", **upload("residence", "租赁合同.pdf", contract), headers=WINDOW
        )
        assert r.status_code == 201 and r.json()["purpose"] == "supplement", r.text
        doc = await status(client, platform, app_id)
        assert next(i for i in doc["items"] if i["indicator"] == "residence")["state"] == "in_review"

        async def task_for_app():
            items = (await client.get(desk, headers=POLICE)).json()["items"]
            return next((t for t in items if t["application_id"] == app_id), None)

        task = await wait_for("verification: the supplement reaches the police review desk", task_for_app)
        assert (await client.get(desk, headers=SOCIAL_INSURANCE)).status_code == 404  # not its desk
        opened = await client.get(f"{desk}/{task['id']}/material", headers=POLICE)
        assert opened.status_code == 200 and opened.content == contract

        no_reason = await client.post(f"{desk}/{task['id']}/decision", json={"decision": "return"}, headers=POLICE)
        assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
        # A confirmation vouches for the facts of its own item, and for nothing else.
        stray = await client.post(
            f"{desk}/{task['id']}/decision",
            headers=POLICE,
            json={"decision": "confirm", "facts": {"residence_spans": [], "permit_status": "valid"}},
        )
        assert stray.status_code == 422 and "permit_status" in stray.json()["detail"]
        bare = await client.post(f"{desk}/{task['id']}/decision", json={"decision": "confirm"}, headers=POLICE)
        assert bare.status_code == 422 and bare.json()["errors"][0]["field"] == "facts"
        spans = [{"start": "2019-03-01", "end": None}]
        r = await client.post(
            f"{desk}/{task['id']}/decision",
            headers=POLICE,
            json={"decision": "confirm", "facts": {"residence_spans": spans}},
        )
        assert r.status_code == 200 and r.json()["state"] == "decided", r.text
        twice = await client.post(
            f"{desk}/{task['id']}/decision",
            headers=POLICE,
            json={"decision": "confirm", "facts": {"residence_spans": spans}},
        )
        assert twice.status_code == 409

        second = await scored(client, platform, app_id, version=2)
        assert next(i for i in second["items"] if i["indicator"] == "residence")["state"] == "passed"
        assert second["score"]["total"] > first["score"]["total"]

        chain = (
            await client.get(f"{platform.url('verification')}/v1/departments/police/audit/verify", headers=POLICE)
        ).json()
        assert chain["intact"]
    engine = create_async_engine(platform.database_url)
    async with engine.connect() as conn:
        facts = (
            (
                await conn.execute(
                    text("SELECT fact FROM verification.audit_log WHERE application_id = :a ORDER BY id"), {"a": app_id}
                )
            )
            .scalars()
            .all()
        )
    await engine.dispose()
    assert "material" in facts  # opening the material is a look-up like any other


async def test_after_the_deadline_a_returned_item_stays_at_zero_and_the_rest_stands(platform):
    url = f"{platform.url('intake')}/v1/applications"
    n = 231  # no residence registration (n % 101 == 29)
    async with httpx.AsyncClient(timeout=30) as client:
        app_id = (await client.post(url, json=application_body(n), headers=WINDOW)).json()["id"]
        first = await scored(client, platform, app_id)
        # Two months pass.
        engine = create_async_engine(platform.database_url)
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE intake.applications SET applied_on = applied_on - 60 WHERE id = :a"), {"a": app_id}
            )
            await conn.execute(
                text(
                    "UPDATE intake.application_items SET updated_at = updated_at - interval '60 days' "
                    "WHERE application_id = :a"
                ),
                {"a": app_id},
            )
        await engine.dispose()
        r = await client.post(
            f"{url}/{app_id}/materials", **upload("residence", "late.pdf", pdf("late")), headers=WINDOW
        )
        assert r.status_code == 409 and r.json()["type"] == "/problems/supplement-deadline-passed", r.text
        assert r.json()["deadline"] < first["applied_on"]
        after = await status(client, platform, app_id)
        assert next(i for i in after["items"] if i["indicator"] == "residence")["state"] == "not_found"
        assert after["score"] == first["score"] and after["score"]["total"] > 0
