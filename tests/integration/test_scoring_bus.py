"""Scoring over the bus: verification results in, explained `score.computed` out, new facts → new version."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local import broker
from shared import clock
from shared.departments import DEPARTMENTS
from shared.events import Envelope
from shared.events.catalogue import SCORES, VERIFICATIONS, HolderRef, VerificationCompleted
from shared.masking import mask_id_number
from tests.integration.helpers import SCORING_ADMIN, WINDOW, WINDOW_SCORES, application_body, wait_for

pytestmark = pytest.mark.integration
HOLDER = HolderRef(key="0" * 64, name_masked="王*", id_number_masked="1101**********002X")
CUT_OFF = date(2026, 10, 1)
POLICE_FACTS = {
    "permit_status": "valid",
    "birth_date": "1985-03-15",
    "residence_spans": [{"start": "2014-01-01", "end": None}],
    "offences": [
        {"date": "2024-02-01", "act": "a", "case": "detention"},
        {"date": "2024-02-01", "act": "a", "case": "criminal"},
    ],
}
SI_FACTS = {
    "employed": True,
    "social_insurance_spans": [{"start": "2016-01-01", "end": "2026-12-01", "kind": "pension"}],
}


def answer(app: str, department: str, facts: dict, items: dict[str, str]) -> Envelope:
    return Envelope.new(
        VerificationCompleted(
            application_id=app,
            department=department,
            expected_departments=["police", "social_insurance"],
            cut_off_date=CUT_OFF,
            holder=HOLDER,
            items=[{"indicator": k, "state": v} for k, v in items.items()],
            facts=facts,
            verified_at=datetime.now(UTC),
        ),
        source="verification",
        subject=app,
    )


class Bus:
    def __init__(self, platform) -> None:
        self.platform = platform
        self.scores: list[dict] = []

    async def __aenter__(self) -> Bus:
        self.producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap(), acks="all")
        await self.producer.start()
        self.consumer = AIOKafkaConsumer(
            self.platform.topic_prefix + SCORES,
            bootstrap_servers=broker.bootstrap(),
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.producer.stop()
        await self.consumer.stop()

    async def send(self, event: Envelope) -> None:
        await self.producer.send_and_wait(
            self.platform.topic_prefix + VERIFICATIONS, event.to_bytes(), key=event.subject.encode()
        )

    async def score(self, app: str, version: int, timeout: float = 30) -> dict:
        async def arrived() -> dict | None:
            for recs in (await self.consumer.getmany(timeout_ms=300)).values():
                self.scores += [orjson.loads(r.value) for r in recs]
            return next(
                (s["data"] for s in self.scores if s["subject"] == app and s["data"]["score_version"] == version), None
            )

        return await wait_for(f"scoring: score version {version} of {app}", arrived, timeout)


async def test_two_answers_make_one_explained_score_and_new_facts_a_new_version(platform):
    app = f"APP-BUS-{secrets.token_hex(4)}"
    async with Bus(platform) as bus:
        await bus.send(answer(app, "police", POLICE_FACTS, {"permit": "passed", "residence": "passed"}))
        await bus.send(answer(app, "social_insurance", SI_FACTS, {"social_insurance": "passed"}))
        v1 = await bus.score(app, 1)
        lines = {line["indicator"]: line for line in v1["lines"]}
        assert v1["status"] == "scored" and v1["rule_set_id"] == "hangzhou-2021"
        assert lines["age"]["points"] == 30 and lines["age"]["department"] == "police"
        assert lines["residence"]["points"] == 60 and lines["social_insurance"]["points"] == 64.5
        assert (
            "fact_value" not in lines["residence"] or lines["residence"]["fact_value"] is None
        )  # facts stay in scoring
        assert lines["employment"]["points"] == 10
        assert lines["criminal"]["points"] == -150 and lines["detention"]["points"] == 0  # one act, counted once
        assert v1["total"] == sum(line["points"] for line in v1["lines"]) == 30 + 60 + 64.5 + 10 - 150
        assert v1["categories"] == {"basic": 164.5, "bonus": 0.0, "deduction": -150.0}

        # The same answer delivered again (another event id) changes nothing.
        await bus.send(answer(app, "social_insurance", SI_FACTS, {"social_insurance": "passed"}))
        # An objection's re-verification: the criminal case was quashed.
        quashed = dict(POLICE_FACTS, offences=[{"date": "2024-02-01", "act": "a", "case": "detention"}])
        await bus.send(answer(app, "police", quashed, {"permit": "passed", "residence": "passed"}))
        v2 = await bus.score(app, 2)
        # One partition per application, handled in order: had the repeated answer made a version, the
        # re-verification's would be the third, not this one. (The versions kept are checked below.)
        assert v2["total"] == v1["total"] + 150 - 60
        assert sorted(s["data"]["score_version"] for s in bus.scores if s["subject"] == app) == [1, 2]

    async with httpx.AsyncClient(base_url=platform.url("scoring"), timeout=10) as client:
        latest = (await client.get(f"/v1/scores/{app}", headers=SCORING_ADMIN)).json()
        assert latest["version"] == 2 and latest["versions"] == [1, 2] and latest["total"] == v2["total"]
        first = (await client.get(f"/v1/scores/{app}/versions/1", headers=SCORING_ADMIN)).json()
        assert first["total"] == v1["total"]  # version 1 is kept as it was
        explained = {line["indicator"]: line for line in first["explanation"]["lines"]}
        assert explained["residence"]["fact_value"] == 12 and explained["social_insurance"]["fact_value"] == 129
        assert explained["residence"]["department"] == "police" and explained["residence"]["cap"] == 100


async def test_forged_materials_void_the_score_and_bar_the_holder_for_five_years(platform):
    app = f"APP-BUS-{secrets.token_hex(4)}"
    async with Bus(platform) as bus:
        await bus.send(answer(app, "police", POLICE_FACTS, {"permit": "passed", "residence": "forged"}))
        await bus.send(answer(app, "social_insurance", SI_FACTS, {"social_insurance": "passed"}))
        v1 = await bus.score(app, 1)
    assert v1["status"] == "void" and v1["total"] == 0 and "forged" in v1["reason"]
    barred = date.fromisoformat(v1["barred_until"])
    assert barred.year == clock.today().year + 5


async def test_a_terminated_permit_voids_and_a_suspended_one_pauses(platform):
    async with Bus(platform) as bus:
        for permit, status in (("terminated", "void"), ("suspended", "paused")):
            app = f"APP-BUS-{secrets.token_hex(4)}"
            await bus.send(answer(app, "police", dict(POLICE_FACTS, permit_status=permit), {"permit": "returned"}))
            await bus.send(answer(app, "social_insurance", SI_FACTS, {"social_insurance": "passed"}))
            score = await bus.score(app, 1)
            assert score["status"] == status and score["total"] == 0 and permit in score["reason"]


async def test_departments_silent_past_the_review_deadline_score_zero_and_the_round_goes_on(platform):
    app = f"APP-LATE-{secrets.token_hex(4)}"
    applied_on = clock.today() - timedelta(days=60)  # the review deadline (15 working days) is long past

    def late_answer(department: str, facts: dict, items: dict[str, str]) -> Envelope:
        return Envelope.new(
            VerificationCompleted(
                application_id=app,
                department=department,
                expected_departments=list(DEPARTMENTS),
                cut_off_date=CUT_OFF,
                holder=HOLDER,
                items=[{"indicator": k, "state": v} for k, v in items.items()],
                facts=facts,
                verified_at=datetime.now(UTC),
                applied_on=applied_on,
            ),
            source="verification",
            subject=app,
        )

    async with Bus(platform) as bus:
        # Past the deadline every answer is scored at once, with the departments still silent at 0.
        await bus.send(late_answer("police", POLICE_FACTS, {"permit": "passed", "residence": "passed"}))
        v1 = await bus.score(app, 1)
        assert v1["status"] == "scored" and "overdue" in v1["reason"]
        assert all(d in v1["reason"] for d in set(DEPARTMENTS) - {"police"})
        await bus.send(late_answer("social_insurance", SI_FACTS, {"social_insurance": "passed"}))
        v2 = await bus.score(app, 2)
        assert "social_insurance" not in v2["reason"] and "education" in v2["reason"] and v2["total"] > v1["total"]
        # The slow department answers after all: a new version counts its item.
        await bus.send(late_answer("education", {"education": ["master"]}, {"education": "passed"}))
        v3 = await bus.score(app, 3)
        assert v3["total"] == v2["total"] + 70 and "education" not in v3["reason"]


async def test_the_overdue_sweep_scores_an_application_whose_deadline_passes_in_silence(platform):
    app = f"APP-SWEEP-{secrets.token_hex(4)}"
    event = Envelope.new(
        VerificationCompleted(
            application_id=app,
            department="police",
            expected_departments=list(DEPARTMENTS),
            cut_off_date=CUT_OFF,
            holder=HOLDER,
            items=[{"indicator": "permit", "state": "passed"}],
            facts=POLICE_FACTS,
            verified_at=datetime.now(UTC),
            applied_on=clock.today(),
        ),
        source="verification",
        subject=app,
    )
    engine = create_async_engine(platform.database_url)
    query = text("SELECT count(*) FROM scoring.received_verifications WHERE application_id = :a")
    async with Bus(platform) as bus:
        await bus.send(event)

        async def received():
            async with engine.connect() as conn:
                return await conn.scalar(query, {"a": app})

        await wait_for("scoring: the police answer is received", received)
        # Several sweeps go by: within the deadline, nine departments silent is no reason to score.
        with pytest.raises(AssertionError, match="stalled"):
            await bus.score(app, 1, timeout=2.5)
        async with engine.begin() as conn:  # three weeks pass
            await conn.execute(
                text(
                    "UPDATE scoring.received_verifications SET review_deadline = current_date - 1 "
                    "WHERE application_id = :a"
                ),
                {"a": app},
            )
        v1 = await bus.score(app, 1)
        assert v1["status"] == "scored" and "overdue" in v1["reason"]
    await engine.dispose()


async def test_an_application_no_department_answers_is_scored_at_its_deadline_and_again_when_they_answer(platform):
    engine = create_async_engine(platform.database_url)
    recorded = text("SELECT principal FROM scoring.applications WHERE application_id = :a")
    platform.stop_service("verification")  # every department is silent
    try:
        async with Bus(platform) as bus, httpx.AsyncClient(timeout=10) as client:
            r = await client.post(
                f"{platform.url('intake')}/v1/applications", json=application_body(2871), headers=WINDOW
            )
            assert r.status_code == 201, r.text
            app = r.json()["id"]

            async def known():
                async with engine.connect() as conn:
                    return await conn.scalar(recorded, {"a": app})

            # Scoring keeps the application as intake announced it, with the partner that submitted it.
            assert await wait_for("scoring: the submitted application is recorded", known) == "demo-window"
            # Several sweeps go by: within the deadline, no answer at all is no reason to score.
            with pytest.raises(AssertionError, match="stalled"):
                await bus.score(app, 1, timeout=2.5)
            async with engine.begin() as conn:  # three weeks pass
                await conn.execute(
                    text(
                        "UPDATE scoring.applications SET review_deadline = current_date - 1 WHERE application_id = :a"
                    ),
                    {"a": app},
                )
            v1 = await bus.score(app, 1)
            # With the police silent no permit is on record: the rule set's eligibility rule voids the
            # score until they answer (nobody is barred for it).
            assert v1["status"] == "void" and v1["total"] == 0 and v1["barred_until"] is None
            # The holder as intake announced them, by key and masked forms: no ID number travels on.
            holder_id = application_body(2871)["applicant"]["id_number"]
            assert v1["holder"]["id_number_masked"] == mask_id_number(holder_id) and len(v1["holder"]["key"]) == 64
            assert holder_id not in str(v1)
            late = v1["reason"].split("scored 0 until they answer: ", 1)[1]
            assert set(late.split(", ")) == set(DEPARTMENTS)  # every item overdue
            # The partner that submitted it reads it with its scoring key; the score reaches intake's status.
            read = await client.get(f"{platform.url('scoring')}/v1/scores/{app}", headers=WINDOW_SCORES)
            assert read.status_code == 200 and read.json()["version"] == 1

            async def in_intake():
                doc = (await client.get(f"{platform.url('intake')}/v1/applications/{app}", headers=WINDOW)).json()
                return doc["score"] and doc["score"]["version"] == 1

            await wait_for("intake: the overdue score reaches the application", in_intake)
        platform.start_service("verification")  # the departments answer after all
        platform.wait_ready(["verification"])

        async with httpx.AsyncClient(timeout=10) as client:

            async def answered():
                doc = (await client.get(f"{platform.url('scoring')}/v1/scores/{app}", headers=WINDOW_SCORES)).json()
                return doc["version"] >= 2 and "overdue" not in (doc["explanation"]["reason"] or "") and doc

            latest = await wait_for("scoring: the late answers make a new version", answered, timeout=60)
        assert latest["versions"][0] == 1 and latest["status"] == "scored" and latest["total"] > 0
    finally:
        if not platform.service_alive("verification"):
            platform.start_service("verification")
            platform.wait_ready(["verification"])
        await engine.dispose()
