"""Re-keying after a salt rotation (shared.rekey): every old key in a document becomes its new one,
nothing else changes, and every column that keeps a key is declared for the command to find."""

from __future__ import annotations

import importlib

import pytest

from shared.pseudonyms import holder_key
from shared.rekey import SERVICES, key_columns, key_pairs, rekey_document

HOLDER, CHILD, OTHER = "330106199005010011", "330106201503070024", "330106198001010033"
PAIRS = key_pairs([HOLDER, CHILD], "old-salt", "new-salt")


def test_each_id_number_pairs_its_old_key_with_its_new_one():
    assert PAIRS == {
        holder_key(HOLDER, "old-salt"): holder_key(HOLDER, "new-salt"),
        holder_key(CHILD, "old-salt"): holder_key(CHILD, "new-salt"),
    }


def test_every_old_key_in_an_event_is_replaced_and_nothing_else():
    event = {
        "id": "5cd979bd",
        "data": {
            "holder": {"key": holder_key(HOLDER, "old-salt"), "id_number_masked": "3301**********0011"},
            "family": [
                {"relation": "child", "key": holder_key(CHILD, "old-salt")},
                {"relation": "spouse", "key": holder_key(OTHER, "old-salt")},  # no number behind it here
            ],
            "rule_set_hash": "85b2185e44891ff98152b29e614eb08daf46cee6d7ef95ab9ce6676fb64094c3",
            "total": 112.5,
        },
    }
    doc, replaced = rekey_document(event, PAIRS)
    assert replaced == 2
    assert doc["data"]["holder"] == {"key": holder_key(HOLDER, "new-salt"), "id_number_masked": "3301**********0011"}
    assert [m["key"] for m in doc["data"]["family"]] == [holder_key(CHILD, "new-salt"), holder_key(OTHER, "old-salt")]
    assert {k: v for k, v in doc["data"].items() if k not in ("holder", "family")} == {
        "rule_set_hash": event["data"]["rule_set_hash"],
        "total": 112.5,
    }
    assert rekey_document(doc, PAIRS) == (doc, 0)  # a second pass finds nothing to do


KEYED_NAMES = {"holder_key", "child_key", "candidate_key", "holder", "context"}


@pytest.mark.parametrize("service", SERVICES)
def test_every_column_that_keeps_a_key_is_declared(service, monkeypatch):
    monkeypatch.setenv("POINTS_ENVIRONMENT", "embedded")
    tables = importlib.import_module(f"services.{service}.tables")
    declared = {(kc.column.table.name, kc.column.name) for kc in key_columns(service)}
    keyed = {
        (t.name, c.name)
        for t in tables.metadata.tables.values()
        for c in t.columns
        if c.name in KEYED_NAMES or (t.name == "outbox" and c.name == "payload")
    }
    assert keyed and keyed <= declared, f"{service}: keys kept but not declared: {keyed - declared}"
