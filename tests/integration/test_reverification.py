"""After an objection, the departments owning the items in question look them up again: a new,
audited result, and scoring computes a new version when the facts changed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local import broker
from services.verification.seed import demo_id_number
from shared.events import Envelope
from shared.events.catalogue import NOTICES, ReverificationRequested
from tests.integration.helpers import WINDOW, WINDOW_SCORES, application_body, follow_to_notice, status, wait_for

pytestmark = pytest.mark.integration


async def test_an_objection_has_the_items_looked_up_again_and_scored_again(platform):
    n = 253
    async with httpx.AsyncClient(timeout=10) as client:
        app_id = (
            await client.post(f"{platform.url('intake')}/v1/applications", json=application_body(n), headers=WINDOW)
        ).json()["id"]
        first = await follow_to_notice(client, platform, app_id)
        engine = create_async_engine(platform.database_url)
        async with engine.begin() as conn:  # the objection was right: the registry missed a doctorate
            await conn.execute(
                text("DELETE FROM registries.education_degrees WHERE id_number = :id"), {"id": demo_id_number(n)}
            )
            await conn.execute(
                text("INSERT INTO registries.education_degrees VALUES (:id, 'doctorate', :d, false, false)"),
                {"id": demo_id_number(n), "d": date(2012, 7, 1)},
            )
        event = Envelope.new(
            ReverificationRequested(
                application_id=app_id,
                items=["education"],
                reason="objection OBJ-TEST: a doctorate is missing",
                requested_by="publicity:objection",
                requested_at=datetime.now(UTC),
            ),
            source="publicity",
            subject=app_id,
        )
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap())
        await producer.start()
        await producer.send_and_wait(platform.topic_prefix + NOTICES, event.to_bytes(), key=app_id.encode())
        await producer.stop()

        async def rescored():
            doc = await status(client, platform, app_id)
            return doc["score"]["version"] >= 2 and doc

        second = await wait_for("scoring: the re-verified item makes a new version", rescored)
        explanation = (await client.get(second["score"]["explanation_url"], headers=WINDOW_SCORES)).json()[
            "explanation"
        ]
        assert next(line for line in explanation["lines"] if line["indicator"] == "education")["points"] == 90

        # Only the department owning the item answered again, and its look-up is on the audit record as such.
        def answered(doc: dict) -> list[str]:
            return [e["summary"]["department"] for e in doc["timeline"] if e["event_type"] == "verification.completed"]

        assert answered(second) == answered(first) + ["education"]
        async with engine.connect() as conn:
            requesters = (
                (
                    await conn.execute(
                        text(
                            "SELECT requester FROM verification.audit_log "
                            "WHERE application_id = :a AND department = 'education' "
                            "ORDER BY id"
                        ),
                        {"a": app_id},
                    )
                )
                .scalars()
                .all()
            )
        await engine.dispose()
        assert len(requesters) == 2 and "re-verification" in requesters[-1]
