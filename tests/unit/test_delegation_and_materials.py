"""Pure rules of delegation and materials: what a registry answer means, what an upload is, when it is too late."""

from __future__ import annotations

from datetime import date

import pytest

from services.intake.materials import MaterialRejected, inspect, supplement_deadline
from services.scoring.domain import unproven_delegation
from services.verification.domain import employment_item, relation_item
from shared.calendar import add_working_days
from shared.identity import make_id_number

TODAY = date(2026, 11, 26)
CHILD = make_id_number("330106", date(2015, 6, 1), 1)
ADULT = make_id_number("330106", date(1980, 6, 1), 2)
ELDER = make_id_number("330106", date(1950, 6, 1), 3)


def relative(relation: str, grounds: str) -> dict:
    return {"relation": relation, "grounds": grounds, "representative": {"name": "代", "id_number": ADULT}}


@pytest.mark.parametrize(
    "holder, delegation, registered, disabled, passed",
    [
        (CHILD, relative("parent", "minor"), ["parent"], False, True),
        (CHILD, relative("parent", "minor"), [], False, False),  # not in the household registry
        (CHILD, relative("guardian", "minor"), ["parent"], False, False),  # registered, but not as claimed
        (ADULT, relative("parent", "minor"), ["parent"], False, False),  # not a minor
        (ELDER, relative("child", "elderly"), ["child"], False, True),
        (ADULT, relative("child", "elderly"), ["child"], False, False),  # under 60
        (ADULT, relative("spouse", "disabled"), ["spouse"], True, True),
        (ADULT, relative("spouse", "disabled"), ["spouse"], False, False),  # no certificate
    ],
)
def test_a_relatives_delegation_holds_only_on_the_registered_relation_and_true_grounds(
    holder, delegation, registered, disabled, passed
):
    item = relation_item(delegation, registered, disabled, holder, TODAY)
    assert item["indicator"] == "delegation"
    assert (item["state"] == "passed") is passed
    assert (item["reason"] is None) is passed


def test_an_employers_delegation_holds_only_on_current_contributions_it_pays():
    code = "91330100MA2000000Q"
    delegation = {"relation": "employer", "employer_credit_code": code}
    span = {"employer_credit_code": code, "transferred_in": False, "end_month": date(2026, 10, 1)}
    assert employment_item(delegation, [span], TODAY)["state"] == "passed"
    assert (
        employment_item(delegation, [{**span, "employer_credit_code": "91330100MA2000001N"}], TODAY)["state"]
        == "returned"
    )
    assert employment_item(delegation, [{**span, "end_month": date(2025, 1, 1)}], TODAY)["state"] == "returned"
    assert employment_item(delegation, [{**span, "transferred_in": True}], TODAY)["state"] == "returned"


def test_an_unproven_delegation_is_found_among_the_answers():
    passed = [{"items": [{"indicator": "delegation", "state": "passed", "reason": None}]}]
    returned = [
        {"items": [{"indicator": "permit", "state": "passed", "reason": None}]},
        {"items": [{"indicator": "delegation", "state": "returned", "reason": "no employment"}]},
    ]
    assert unproven_delegation(passed) is None
    assert unproven_delegation(returned) == "no employment"


@pytest.mark.parametrize(
    "content, media_type",
    [
        (b"%PDF-1.7\n...", "application/pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
    ],
)
def test_materials_are_typed_by_their_content(content, media_type):
    found = inspect(content, 1000)
    assert found.media_type == media_type and found.size == len(content) and len(found.sha256) == 64


@pytest.mark.parametrize(
    "content, status",
    [
        (b"", 422),
        (b"GIF89a......", 415),
        (b"PK\x03\x04 a zip file", 415),
        (b"%PDF-" + b"0" * 2000, 413),
    ],
)
def test_other_content_is_refused_with_the_reason(content, status):
    with pytest.raises(MaterialRejected) as refused:
        inspect(content, 1000)
    assert refused.value.status == status


def test_a_returned_item_can_be_supplemented_until_the_review_deadline_and_at_least_five_working_days():
    applied = date(2026, 11, 2)
    review_deadline = add_working_days(applied, 15)
    assert supplement_deadline(applied, date(2026, 11, 3), 5) == review_deadline
    late_return = add_working_days(applied, 14)
    assert supplement_deadline(applied, late_return, 5) == add_working_days(late_return, 5) > review_deadline
