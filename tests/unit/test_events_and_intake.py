from datetime import date

import pytest

from services.intake.domain import cut_off_date
from services.verification.domain import GENESIS, chain_hash
from shared.events import Envelope, EventParseError, parse_data
from shared.events.catalogue import ApplicationSubmitted, Holder, asyncapi_document


@pytest.mark.parametrize(
    "applied, cut_off",
    [
        (date(2026, 11, 26), date(2026, 10, 1)),
        (date(2026, 1, 1), date(2025, 12, 1)),
        (date(2026, 3, 31), date(2026, 2, 1)),
    ],
)
def test_cut_off_is_the_first_day_of_the_previous_month(applied, cut_off):
    assert cut_off_date(applied) == cut_off


def _submitted() -> Envelope:
    return Envelope.new(
        ApplicationSubmitted(
            application_id="APP-1",
            holder=Holder(name="张三", id_number="11010519491231002X", permit_number="P1"),
            applied_on=date(2026, 11, 26),
            cut_off_date=date(2026, 10, 1),
            expected_departments=["police"],
        ),
        source="intake",
        subject="APP-1",
    )


def test_an_envelope_round_trips_with_its_typed_payload():
    ev = _submitted()  # its trace context: tests/unit/test_tracing.py
    back = Envelope.from_bytes(ev.to_bytes())
    assert back == ev and back.type == "application.submitted" and back.version == 1
    assert parse_data(back).holder.name_masked == "张*"


@pytest.mark.parametrize("raw", [b"", b"{", b'{"type": "x"}', None])
def test_garbage_is_a_parse_error(raw):
    with pytest.raises(EventParseError):
        Envelope.from_bytes(raw)


def test_unknown_versions_and_bad_payloads_are_parse_errors():
    ev = _submitted()
    with pytest.raises(EventParseError, match="unknown event type"):
        parse_data(ev.model_copy(update={"version": 99}))
    with pytest.raises(EventParseError, match="invalid application.submitted"):
        parse_data(ev.model_copy(update={"data": {"application_id": "APP-1"}}))


def test_the_catalogue_is_published_as_asyncapi():
    doc = asyncapi_document("intake", ["application.submitted"], ["score.computed"])
    assert set(doc["channels"]) == {
        "points.applications",
        "points.verifications",
        "points.scores",
        "points.notices",
        "points.audit",
        "points.campaigns",
    }
    assert doc["operations"]["send-application.submitted-v1"]["action"] == "send"
    assert doc["operations"]["receive-score.computed-v1"]["action"] == "receive"
    # Verification publishes its audit chains' daily heads on a channel of their own.
    audit = asyncapi_document("verification", ["audit.chain_anchored"], [])
    assert audit["operations"]["send-audit.chain_anchored-v1"]["channel"] == {"$ref": "#/channels/points.audit"}
    payload = audit["components"]["messages"]["audit.chain_anchored.v1"]["payload"]
    assert payload == {"$ref": "#/components/schemas/AuditChainAnchored"}  # hoisted: refs resolve in the document
    schema = audit["components"]["schemas"]["AuditChainAnchored"]
    assert {"department", "entry_id", "hash", "anchored_at"} <= set(schema["required"])


def test_the_audit_chain_hash_covers_the_previous_hash():
    entry = {"fact": "permit", "response": "valid"}
    h1 = chain_hash(GENESIS, entry)
    assert chain_hash(GENESIS, entry) == h1 and chain_hash(h1, entry) != h1
    assert chain_hash(GENESIS, {**entry, "response": "terminated"}) != h1
