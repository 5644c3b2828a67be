"""Free-form documents a partner sends must be storable and bounded."""

from __future__ import annotations

import pytest

from shared.documents import document_problem


def nested(depth: int) -> dict:
    doc: dict = {"leaf": 1}
    for _ in range(depth - 1):
        doc = {"x": doc}
    return doc


@pytest.mark.parametrize(
    "doc, problem",
    [
        ({"education": {"degree": "master", "year": 2015}}, None),
        ({"x": 2**63 - 1, "y": -(2**63)}, None),
        ({"x": 2**63}, "64-bit"),
        ({"x": [-(2**63) - 1]}, "64-bit"),
        ({"x": float("nan")}, "NaN"),
        ({"x": float("inf")}, "NaN"),
        ({"x": "a\x00b"}, "NUL"),
        ({"a\x00": 1}, "NUL"),
        (nested(16), None),
        (nested(17), "deeper"),
        ({"x": list(range(3000))}, "more than"),
        ({"note": "x" * 1_200_000}, "KiB"),  # bigger than a broker message: it would block the outbox
    ],
)
def test_documents_are_checked_before_they_are_stored(doc, problem):
    found = document_problem(doc)
    assert (found is None) if problem is None else (problem in found)
