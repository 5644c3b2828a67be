"""Close a round in memory as the platform does: publicity closes it, scoring answers each
round.closing chunk with round.scored, publicity publishes (on `today`, for fixed notice dates)."""

from __future__ import annotations

from datetime import date

from services.publicity.rounds import use_cases
from shared.events import Envelope
from shared.events.catalogue import parse_data
from tests.fakes import FakeUnitOfWork
from tests.unit.publicity.events import as_own_scores, round_scored
from tests.unit.publicity.fake_store import FakeStore


async def closed(store: FakeStore, round_id: str, today: date, **answers: float | None) -> list[Envelope]:
    """Close the round and take scoring's answers: each candidate's round score as given in
    `answers` (by application), else as their own score. Returns the round.closing events."""
    uow = FakeUnitOfWork(store)
    await use_cases.close_round(uow, round_id, today)
    closing = [e for e in uow.emitted if e.type == "round.closing"]
    replies = [round_scored(round_id, answers)] if answers else as_own_scores(store, closing)
    for reply in replies:
        await use_cases.take_round_scores(FakeUnitOfWork(store), parse_data(reply), today)
    return closing
