"""After applications travel the whole road, every message on every topic is read back: full ID
numbers, names and phones appear only on the topic whose consumers need them.

points.applications is read by the departments (they need the ID and permit numbers) and by
publicity (it notifies the phone): ID numbers and the phone may travel there, masked names too,
full names nowhere. Past the departments (points.verifications, points.scores, points.notices,
and their dead-letter topics) nothing identifies a person but masked forms and keys. Scoring's
tables keep no name or ID number either.
"""

from __future__ import annotations

import importlib.util
import json
import re
from datetime import date
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local import broker
from services.intake import disclosure
from services.verification.seed import demo_child, demo_holder, demo_id_number
from shared.events import Envelope
from shared.events.catalogue import APPLICATIONS, CAMPAIGNS, NOTICES
from shared.identity import id_number_problem, make_id_number
from shared.pseudonyms import same_holder
from tests.integration.helpers import WINDOW, application_body, follow_to_notice, wait_for
from tests.integration.public_rounds import from_address

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
ADULT, PARENT = 2721, 2730  # holder 2730 has a minor child in the demo registry (every tenth holder)
NAMES = {ADULT: "诸葛孔明", PARENT: "司马相如"}
CHILD_NAME = "司马小卿"
PHONES = {ADULT: "13927210001", PARENT: "13927300001"}
OBJECTOR_PHONE = "13927219999"
# A full ID number: 18 characters with a valid check digit (shared.identity), not inside a longer number.
ID_SHAPE = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")
# Who may carry what: the topics whose consumers need it.
# A campaign's participant is looked up by their numbers, and its invitations are texted (the register's phone).
MAY_CARRY = {APPLICATIONS: {"id_number", "phone"}, CAMPAIGNS: {"id_number", "phone"}}


async def _every_message(prefix: str) -> dict[str, list[str]]:
    """Every message of every topic of this run (dead-letter topics too), decoded, by topic (unprefixed)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        topics = [t for t in await consumer.topics() if t.startswith(prefix)]
        partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: dict[str, list[str]] = {t[len(prefix) :]: [] for t in topics}
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                found[tp.topic[len(prefix) :]] += [r.value.decode() for r in records if r.value is not None]
        return found
    finally:
        await consumer.stop()


def _full_id_numbers(message: str) -> set[str]:
    return {m for m in ID_SHAPE.findall(message) if id_number_problem(m) is None}


def _names(people: dict[int, str]) -> list[str]:
    """The names as typed and as the police registry holds them, and the given names alone."""
    names = [*people.values(), CHILD_NAME, *(demo_holder(n)["permit"]["name"] for n in people)]
    return names + [n[1:] for n in names if len(n) > 2]


async def test_personal_data_travels_only_where_its_consumers_need_it(platform):
    child = demo_child(PARENT)
    assert child is not None
    async with httpx.AsyncClient(timeout=10) as client:
        bodies = {}
        for n in (ADULT, PARENT):
            body = application_body(n, name=NAMES[n])
            body["applicant"]["phone"] = PHONES[n]
            bodies[n] = body
        bodies[PARENT] |= {
            "intent": "school_enrolment",
            "family": [{"name": CHILD_NAME, "id_number": child["id_number"], "relation": "child"}],
        }
        apps = {}
        for n, body in bodies.items():
            r = await client.post(f"{platform.url('intake')}/v1/applications", json=body, headers=WINDOW)
            assert r.status_code == 201, r.text
            apps[n] = r.json()["id"]
        docs = {n: await follow_to_notice(client, platform, app, timeout=60) for n, app in apps.items()}

    # An objection to the adult's notice whose words name them in full: the words stay in publicity.
    notice_id = docs[ADULT]["notice_url"].rsplit("/", 1)[-1]
    async with from_address("127.0.0.8") as public:
        r = await public.post(
            f"{platform.url('publicity')}/v1/objections",
            json={
                "notice_id": notice_id,
                "items": ["residence"],
                "contact_phone": OBJECTOR_PHONE,
                "reason": f"{NAMES[ADULT]}（{demo_id_number(ADULT)}，{PHONES[ADULT]}）的居住年限有误",
            },
        )
        assert r.status_code == 201, r.text
        objection = r.json()["id"]

    async def answered() -> dict[str, list[str]] | None:
        found = await _every_message(platform.topic_prefix)
        # The police answered the objection (their new answer is on the bus, and read back below).
        return (
            found
            if any(objection in m and '"in_answer_to"' in m for m in found.get("points.verifications", []))
            else None
        )

    messages = await wait_for("verification answers the objection", answered, timeout=60)

    ids = {demo_id_number(ADULT), demo_id_number(PARENT), child["id_number"]}
    names = _names(NAMES)
    phones = {*PHONES.values(), OBJECTOR_PHONE}
    leaks = []
    for topic, bodies_on_topic in messages.items():
        allowed = MAY_CARRY.get(topic.removesuffix(".dlq"), set())
        for message in bodies_on_topic:
            what = f"{topic}: {Envelope.from_bytes(message.encode()).type}"
            if "id_number" not in allowed and (numbers := _full_id_numbers(message)):
                leaks.append(f"{what} carries ID numbers {sorted(numbers)}")
            if "phone" not in allowed and (seen := [p for p in phones if p in message]):
                leaks.append(f"{what} carries phones {seen}")
            if seen := [name for name in names if name in message]:
                leaks.append(f"{what} carries names {seen}")
            if OBJECTOR_PHONE in message:
                leaks.append(f"{what} carries the objector's phone")
    assert not leaks, "personal data where no consumer needs it:\n" + "\n".join(leaks)

    # The scan looked where the data is: the departments got the numbers they look up by, and the
    # events downstream name these applications (by id, with masked forms).
    applications = " ".join(messages[APPLICATIONS])
    assert all(i in applications for i in ids)
    for topic in ("points.verifications", "points.scores", NOTICES):
        assert all(app in " ".join(messages[topic]) for app in apps.values()), topic

    # Scoring keeps no name or ID number: its answers, applications and scores know the holder by key.
    engine = create_async_engine(platform.database_url)
    try:
        async with engine.connect() as conn:
            stored = [
                row[0]
                for table in ("received_verifications", "applications", "scores")
                for row in await conn.execute(
                    text(f"SELECT row_to_json(t)::text FROM scoring.{table} t WHERE application_id = ANY(:apps)"),
                    {"apps": list(apps.values())},
                )
            ]
    finally:
        await engine.dispose()
    assert len(stored) >= 2 + 2 + 2
    kept = [s for s in stored if _full_id_numbers(s) or any(name in s for name in names)]
    assert not kept, f"scoring keeps personal data: {kept[:2]}"


def _migration():
    path = ROOT / "services" / "scoring" / "migrations" / "versions" / "a3d9e5c17b42_holders_pseudonymous.py"
    spec = importlib.util.spec_from_file_location("holders_pseudonymous", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_scoring_migration_masks_and_keys_stored_holders_as_the_services_do(database_url):
    """Scoring's stored holders become exactly what the services now write: the same key (so a holder
    still reads their old scores) and the same masked forms (so old notices and new ones agree)."""
    people = [
        ("王", demo_id_number(1)),
        ("张三", demo_id_number(2)),
        (" 欧阳娜娜 ", demo_id_number(3)),
        ("李四", make_id_number("110105", date(1949, 12, 31), 2).lower()),
    ]  # an X written in lower case
    assert any(i.endswith("x") for _n, i in people)
    salt = "migration-test-salt"
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE SCHEMA IF NOT EXISTS migtest"))
            await conn.execute(text("DROP TABLE IF EXISTS migtest.holders"))
            await conn.execute(text("CREATE TABLE migtest.holders (seq int PRIMARY KEY, holder jsonb NOT NULL)"))
            await conn.execute(
                text("INSERT INTO migtest.holders VALUES (:seq, CAST(:holder AS jsonb))"),
                [
                    {"seq": i, "holder": json.dumps({"name": name, "id_number": number, "permit_number": f"ZJ-{i}"})}
                    for i, (name, number) in enumerate(people)
                ]
                + [{"seq": 99, "holder": json.dumps({"key": "k", "name_masked": "王*", "id_number_masked": "1101**"})}],
            )
            await conn.execute(_migration().pseudonymise("migtest.holders"), {"salt": salt})
            rows = dict((await conn.execute(text("SELECT seq, holder FROM migtest.holders"))).all())
            await conn.execute(text("DROP SCHEMA migtest CASCADE"))
    finally:
        await engine.dispose()
    for i, (name, number) in enumerate(people):
        expected = disclosure.holder(name, number.upper(), f"ZJ-{i}", salt).ref()
        assert rows[i] == expected.model_dump(), (name, number)
        assert same_holder(rows[i]["key"], number, salt)
    # A document already in the new form is left alone.
    assert rows[99] == {"key": "k", "name_masked": "王*", "id_number_masked": "1101**"}
