"""Personal data on the bus: each event type declares what it holds, and holds no more.

The AsyncAPI document lists per message the kinds of personal data its payload holds
(`x-personal-data`). These tests read the payload schemas field by field: a field whose name
says it holds an ID number, a name, a phone or a permit number must be declared, and the events
past the departments (verification.completed, score.computed) hold no full ID number or name.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.intake import disclosure
from shared.events import Envelope, parse_data
from shared.events.catalogue import (
    CATALOGUE,
    PERSONAL_DATA,
    ApplicationSubmitted,
    HolderRef,
    ScoreComputed,
    VerificationCompleted,
    asyncapi_document,
)
from shared.identity import make_id_number
from shared.masking import mask_id_number
from shared.pseudonyms import holder_key, same_holder

ID = make_id_number("330106", date(1985, 3, 15), 7)
CHILD_ID = make_id_number("330106", date(2018, 6, 1), 8)
# What each event type may hold, and why (README, "Personal data on the bus").
EXPECTED = {
    # For the departments (ID and permit numbers, the family's and the representative's numbers) and
    # publicity (masked forms, keys, the phone it notifies).
    "application.submitted": {"id_number", "permit_number", "phone", "masked_name", "masked_id_number", "holder_key"},
    "application.withdrawn": set(),
    "application.material_added": set(),
    "verification.completed": {"holder_key", "masked_name", "masked_id_number"},
    "score.computed": {"holder_key", "masked_name", "masked_id_number"},
    "notice.published": set(),
    "reverification.requested": set(),
    "round.finalized": set(),  # version 2 refers to the admitted list; version 1 carried it
    # A round's candidates by application, and their round scores: points, no person.
    "round.closing": set(),
    "round.scored": set(),
    "audit.chain_anchored": set(),
    # A 模拟积分 campaign: publicity texts the invitation (the register's phone); the departments look a
    # consenting participant up by their numbers; scoring and verification know them by key after.
    # (with the holder's key, under which publicity keeps the invitation's one-time code); a campaign's
    # opening carries only its title, consent text and period.
    "campaign.opened": set(),
    "campaign.invited": {"phone", "holder_key"},
    "campaign.joined": {"id_number", "permit_number", "holder_key"},
    "campaign.facts_verified": {"holder_key"},
    "campaign.withdrawn": {"holder_key"},
}


def _kind_by_name(field: str) -> str | None:
    """What a field's name says it holds (the scan a reviewer would do by eye)."""
    f = field.lower()
    masked = "masked" in f
    if "id_number" in f or "id_card" in f:
        return "masked_id_number" if masked else "id_number"
    if "phone" in f or "mobile" in f:
        return "phone"
    if "permit_number" in f:
        return "permit_number"
    if f == "name" or f.endswith("_name") or f.startswith("name_masked") or "name_masked" in f:
        return "masked_name" if masked else "name"
    if f == "key" or f.endswith("candidate_key") or f == "holder_key":
        return "holder_key"
    return None


def _fields(schema: dict[str, Any]) -> list[tuple[str, dict]]:
    """Every property of a payload schema, nested models included: (name, property schema)."""
    found: list[tuple[str, dict]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, prop in (node.get("properties") or {}).items():
                found.append((name, prop))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return found


def _inlined(node: Any, schemas: dict[str, Any]) -> Any:
    """A payload schema with its `#/components/schemas/…` references replaced by what they name."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inlined(schemas[node["$ref"].rsplit("/", 1)[1]], schemas)
        return {k: _inlined(v, schemas) for k, v in node.items()}
    if isinstance(node, list):
        return [_inlined(v, schemas) for v in node]
    return node


def _messages() -> dict[str, dict]:
    doc = asyncapi_document("test", [], [])
    schemas = doc["components"]["schemas"]
    return {
        m["name"]: {**m, "payload": _inlined(m["payload"], schemas)} for m in doc["components"]["messages"].values()
    }


def test_every_event_type_declares_its_personal_data_as_expected():
    messages = _messages()
    assert set(messages) == {etype for etype, _v in CATALOGUE} == set(EXPECTED)
    for etype, message in messages.items():
        assert set(message[PERSONAL_DATA]) == EXPECTED[etype], etype


@pytest.mark.parametrize("etype", sorted(EXPECTED))
def test_the_payload_schema_holds_exactly_the_personal_data_declared(etype):
    message = _messages()[etype]
    fields = _fields(message["payload"])
    by_name = {kind for name, _p in fields if (kind := _kind_by_name(name))}
    marked = {p[PERSONAL_DATA] for _n, p in fields if PERSONAL_DATA in p}
    # Every field named like personal data is marked with that kind, and every mark is on such a field.
    for name, prop in fields:
        assert prop.get(PERSONAL_DATA) == _kind_by_name(name), f"{etype}.{name}: marked {prop.get(PERSONAL_DATA)}"
    assert by_name == marked == set(message[PERSONAL_DATA])


def test_a_new_field_with_an_id_number_would_fail_the_scan():
    # The scan sees what a field's name says, marked or not.
    assert _kind_by_name("spouse_id_number") == "id_number" and _kind_by_name("contact_phone") == "phone"
    assert _kind_by_name("holder_name") == "name" and _kind_by_name("name_zh") is None


@pytest.mark.parametrize("etype", ["verification.completed", "score.computed"])
def test_events_past_the_departments_carry_no_full_id_number_or_name(etype):
    declared = set(_messages()[etype][PERSONAL_DATA])
    assert not declared & {"id_number", "name", "permit_number", "phone"}


def test_intake_discloses_masked_forms_and_keys_and_no_full_name():
    holder = disclosure.holder("欧阳娜娜", ID, "ZJ-1", "salt")
    family = disclosure.family([{"name": "欧阳小明", "id_number": CHILD_ID, "relation": "child"}], "salt")
    delegation = disclosure.delegation(
        {
            "relation": "parent",
            "grounds": "minor",
            "authority": {"kind": "household_relation"},
            "representative": {"name": "欧阳大明", "id_number": ID},
        }
    )
    event = ApplicationSubmitted(
        application_id="APP-1",
        holder=holder,
        family=family,
        delegation=delegation,
        applied_on=date(2026, 11, 26),
        cut_off_date=date(2026, 10, 1),
        expected_departments=["police"],
        contact_phone="13800000000",
    )
    sent = Envelope.new(event, source="intake", subject="APP-1").to_bytes().decode()
    assert "欧阳娜娜" not in sent and "娜娜" not in sent and "小明" not in sent and "大明" not in sent
    assert holder.name_masked == "欧***" and holder.id_number_masked == mask_id_number(ID)
    assert holder.key == holder_key(ID, "salt") and same_holder(holder.key, f" {ID.lower()} ", "salt")
    assert not same_holder(holder.key, ID, "other-salt") and ID[6:14] not in holder.key
    assert family[0].key == holder_key(CHILD_ID, "salt") and family[0].name_masked == "欧***"
    # What the departments look up by is still there.
    assert delegation.representative.id_number == ID and family[0].id_number == CHILD_ID


def test_events_written_before_still_parse_masked():
    """An old application.submitted (full name, family as dicts) and an old score.computed (full holder)
    still parse; what reaches a consumer is the masked form."""
    old_submitted = Envelope(
        type="application.submitted",
        version=1,
        source="intake",
        subject="APP-1",
        data={
            "application_id": "APP-1",
            "holder": {"name": "张三", "id_number": ID, "permit_number": "P1"},
            "applied_on": "2026-11-26",
            "cut_off_date": "2026-10-01",
            "expected_departments": ["police"],
            "family": [{"name": "张小明", "id_number": CHILD_ID, "relation": "child"}],
            "delegation": {
                "relation": "spouse",
                "grounds": "disabled",
                "authority": {},
                "representative": {"name": "李四", "id_number": ID},
            },
        },
    )
    data = parse_data(old_submitted)
    assert (data.holder.name_masked, data.holder.id_number_masked, data.holder.key) == ("张*", mask_id_number(ID), None)
    assert data.family[0].name_masked == "张**" and data.delegation.representative.id_number == ID
    assert "张三" not in data.model_dump_json() and "李四" not in data.model_dump_json()
    old_score = ScoreComputed.model_validate(
        {
            "application_id": "APP-1",
            "score_version": 1,
            "holder": {"name": "张三", "id_number": ID, "permit_number": "P1"},
            "status": "scored",
            "rule_set_id": "r",
            "rule_set_hash": "0" * 64,
            "cut_off_date": "2026-10-01",
            "total": 1.0,
            "categories": {},
            "lines": [],
            "computed_at": datetime.now(UTC).isoformat(),
        }
    )
    assert old_score.holder == HolderRef(name_masked="张*", id_number_masked=mask_id_number(ID))
    assert ID not in old_score.model_dump_json() and "张三" not in old_score.model_dump_json()
    old_answer = VerificationCompleted.model_validate(
        {
            "application_id": "APP-1",
            "department": "police",
            "expected_departments": ["police"],
            "cut_off_date": "2026-10-01",
            "holder": {"name": "张三", "id_number": ID, "permit_number": "P1"},
            "items": [],
            "facts": {},
            "verified_at": datetime.now(UTC).isoformat(),
        }
    )
    assert old_answer.holder == old_score.holder and ID not in old_answer.model_dump_json()
