"""Every refusal of intake's use cases answers with the problem document partners already know."""

from __future__ import annotations

from datetime import date

import pytest

from services.intake import domain
from services.intake.api.problems import problem

CASES = [
    (
        domain.DelegationRefused("delegation.relation", "only an employer's key applies as employer"),
        422,
        "about:blank",
        "delegation.relation: only an employer's key applies as employer",
    ),
    (
        domain.MaterialRefused("delegation.authorisation.document", "the file is empty", 422),
        422,
        "about:blank",
        "delegation.authorisation.document: the file is empty",
    ),
    (
        domain.ApplicationInProgress(),
        409,
        "/problems/application-open",
        "This holder already has an application in progress; wait for its score or withdraw it.",
    ),
    (
        domain.HolderBarred(date(2030, 1, 31), "forged materials"),
        403,
        "/problems/holder-barred",
        "This holder may not apply before 2030-01-31 (forged materials).",
    ),
    (domain.BarJustEnded(), 409, "/problems/retry", "The holder's bar has just ended; send the application again."),
    (domain.NotVisible("APP-1"), 404, "about:blank", "No application APP-1 is visible to this key."),
    (
        domain.TooLateToWithdraw("APP-1", "scored"),
        409,
        "/problems/too-late-to-withdraw",
        "Application APP-1 is already scored: only an application not yet scored can be withdrawn.",
    ),
    (
        domain.ApplicationClosed("APP-1", "withdrawn"),
        409,
        "/problems/application-closed",
        "Application APP-1 is withdrawn: it takes no more materials.",
    ),
    (
        domain.UnknownIndicator("lottery", ["tax", "honours"]),
        422,
        "about:blank",
        "indicator: 'lottery' is not an indicator of this application",
    ),
    (
        domain.ItemClosed("tax", "passed"),
        409,
        "/problems/item-closed",
        "Item tax is passed: there is nothing to supplement.",
    ),
    (
        domain.SupplementDeadlinePassed("tax", date(2025, 3, 31)),
        409,
        "/problems/supplement-deadline-passed",
        "Item tax was returned and could be supplemented until 2025-03-31; "
        "it scores 0 and the rest of the application goes on.",
    ),
    (domain.MaterialNotFound("APP-1", "MAT-1"), 404, "about:blank", "No material MAT-1 in application APP-1."),
]


@pytest.mark.parametrize("refusal, status, type_, detail", CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_each_refusal_has_its_problem_document(refusal, status, type_, detail):
    p = problem(refusal)
    assert (p.status, p.type, p.detail) == (status, type_, detail)


def test_every_refusal_is_covered():
    assert {type(c[0]) for c in CASES} == set(domain.Refused.__subclasses__())


def test_the_field_at_fault_is_named():
    assert problem(domain.UnknownIndicator("lottery", ["honours", "tax"])).errors == [
        {"field": "indicator", "message": "one of honours, tax"}
    ]
    assert problem(domain.HolderBarred(date(2030, 1, 31), "x")).extra == {"barred_until": "2030-01-31"}
    assert problem(domain.SupplementDeadlinePassed("tax", date(2025, 3, 31))).extra == {"deadline": "2025-03-31"}
