"""Who sees what of a score: the rules that need no database."""

from __future__ import annotations

import pytest

from services.scoring.access import HOLDER_HEADER, Sight, require_reader, shown
from shared.auth import Principal
from shared.problems import Problem

DOC = {
    "application_id": "APP-1",
    "version": 2,
    "versions": [1, 2],
    "status": "void",
    "total": 0.0,
    "rule_set": {"id": "hangzhou-2021", "hash": "h"},
    "cut_off_date": "2026-10-01",
    "computed_at": "t",
    "explanation": {
        "status": "void",
        "reason": "forged materials: education",
        "total": 0.0,
        "categories": {"basic": 0.0},
        "modules": {"x": {}},
        "lines": [
            {"indicator": "age", "department": "police", "fact_value": 36.0},
            {"indicator": "education", "department": "education", "fact_value": 3.0},
            {"indicator": "residence", "department": "police", "fact_value": 9.0},
        ],
    },
}


def key(*scopes: str) -> Principal:
    return Principal("k", "someone", frozenset(scopes))


def test_a_department_sees_its_own_lines_and_nothing_that_speaks_of_the_others():
    police = shown(DOC, Sight(frozenset({"police"})))
    assert [line["indicator"] for line in police["explanation"]["lines"]] == ["age", "residence"]
    assert set(police["explanation"]) == {"lines"}  # no reason (it names education's forgery), no totals
    assert not {"status", "total"} & set(police) and police["departments"] == ["police"]
    assert police["versions"] == [1, 2] and police["application_id"] == "APP-1"


def test_the_whole_score_for_the_whole_sight():
    assert shown(DOC, Sight()) is DOC


@pytest.mark.parametrize(
    "scopes,holder,status",
    [
        ((), None, 403),
        (("evaluate",), None, 403),
        (("module:city",), None, 403),
        (("scores:holder",), None, 422),  # acting for the holder, without saying who they are
        (("scores:holder",), "330106197702060019", None),
        (("scores:read",), None, None),
        (("department:police",), None, None),
        (("admin",), None, None),
    ],
)
def test_a_key_that_could_read_no_score_is_refused_before_any_look_up(scopes, holder, status):
    if status is None:
        assert require_reader(key(*scopes), holder) is None  # let through to the per-application check
        return
    with pytest.raises(Problem) as refused:
        require_reader(key(*scopes), holder)
    assert refused.value.status == status
    if status == 422:
        assert refused.value.errors == [{"field": HOLDER_HEADER, "message": refused.value.errors[0]["message"]}]
