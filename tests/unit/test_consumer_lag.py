"""Consumer lag (points_consumer_lag): what a group has yet to handle on a partition, counted from
where it will really read, so a new group on a topic whose start retention has deleted does not
seem to lag by messages that no longer exist."""

from __future__ import annotations

from shared.bus.consumer import partition_lag


def test_a_group_that_committed_nothing_lags_by_what_is_still_on_the_partition():
    # Offsets 0-2 deleted by retention, 3-4 still there: two messages to handle, not five.
    assert partition_lag(end=5, committed=None, first=3) == 2
    assert partition_lag(end=5, committed=None, first=0) == 5


def test_a_group_lags_from_its_committed_offset():
    assert partition_lag(end=5, committed=4, first=3) == 1
    assert partition_lag(end=5, committed=5, first=3) == 0


def test_a_committed_offset_retention_deleted_counts_from_the_first_message_left():
    # The group resets to the earliest message (auto_offset_reset="earliest"), not to its old offset.
    assert partition_lag(end=10, committed=2, first=7) == 3


def test_an_emptied_partition_has_no_lag():
    assert partition_lag(end=7, committed=None, first=7) == 0
