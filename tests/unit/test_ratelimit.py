"""The fixed hourly window of the abuse limits (shared.ratelimit)."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.ratelimit import window_of

HOUR = 3600
T = datetime(2026, 11, 29, 23, 0, tzinfo=UTC).timestamp()


def test_a_window_starts_on_the_hour_and_retry_after_points_at_the_next():
    assert window_of(T) == (datetime(2026, 11, 29, 23, 0, tzinfo=UTC), HOUR)
    assert window_of(T + 1234.2) == (datetime(2026, 11, 29, 23, 0, tzinfo=UTC), HOUR - 1234)


def test_retry_after_is_never_zero():
    start, retry_after = window_of(T + HOUR - 0.01)
    assert start == datetime(2026, 11, 29, 23, 0, tzinfo=UTC) and retry_after == 1


def test_every_replica_agrees_on_the_window():
    # Computed from the time alone: no per-process state, so replicas count in the same row.
    assert {window_of(T + s)[0] for s in range(0, HOUR, 7)} == {datetime(2026, 11, 29, 23, 0, tzinfo=UTC)}
    assert window_of(T + HOUR)[0] == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
