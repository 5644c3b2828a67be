"""Scoring re-scores a closed round's candidates at the round's cut-off (round.closing → round.scored),
in memory: a round score version beside the application's own, no score.computed for it, the same
answer again for a chunk delivered twice, and a new own score re-scored for the open rounds only."""

from __future__ import annotations

from datetime import date

import pytest

from services.scoring import use_cases
from services.scoring.access import Sight
from services.scoring.engine.modules import load_shipped_modules
from services.scoring.engine.rules import load_shipped
from services.scoring.handlers import handlers
from services.scoring.recompute import recompute
from shared.events import Envelope
from shared.events.catalogue import RoundClosing, RoundFinalized
from tests.fakes import InMemoryBus
from tests.unit.scoring.fake_store import FakeStore
from tests.unit.scoring.test_handlers import CUT_OFF, POLICE_FACTS, answer, deps

MODULE = "binjiang-talent"
# A year before the applications' own cut-off (2026-10-01): residence is counted a year shorter.
ROUND_CUT_OFF = date(2025, 10, 1)


def closing(round_id: str, ids: list[str], *, chunk: int = 1, chunks: int = 1) -> Envelope:
    return Envelope.new(
        RoundClosing(
            round_id=round_id,
            module_id=MODULE,
            candidate="holder",
            cut_off_date=ROUND_CUT_OFF,
            rules_on=date(2025, 11, 3),
            chunk=chunk,
            chunks=chunks,
            application_ids=ids,
        ),
        source="publicity",
        subject=round_id,
    )


def finalized(round_id: str) -> Envelope:
    return Envelope.new(
        RoundFinalized(
            round_id=round_id,
            module_id=MODULE,
            owner="district:binjiang",
            list_version=1,
            notice_end=date(2025, 12, 1),
            finalized_at="2025-12-02T00:00:00Z",
            entries=1,
            admitted=1,
            admitted_url=f"/v1/rounds/{round_id}/admitted?version=1",
        ),
        source="publicity",
        subject=round_id,
    )


@pytest.fixture
async def bus() -> InMemoryBus:
    b = InMemoryBus(handlers(deps()), FakeStore())
    for app in ("A-1", "A-2"):
        await b.deliver(answer(app, "police", POLICE_FACTS))
        await b.deliver(answer(app, "education", {"education": ["bachelor"]}))
    return b


def lines(row: dict) -> dict[str, float]:
    return {line["indicator"]: line["points"] for line in row["explanation"]["lines"]}


async def test_each_candidate_is_re_scored_at_the_rounds_cut_off_as_a_round_version(bus):
    emitted = await bus.deliver(closing("RND-1", ["A-1", "A-2", "A-NEVER"]))
    # round.scored only: nothing that would put a score on notice or send a message.
    assert [e.type for e in emitted] == ["round.scored"]
    scores = {s["application_id"]: s for s in emitted[0].data["scores"]}
    assert scores["A-NEVER"]["status"] == "unscored" and scores["A-NEVER"]["module"] is None
    own, kept = bus.store.scores["A-1"][1], bus.store.scores["A-1"][2]
    assert (kept["round_id"], kept["based_on"], kept["cut_off_date"]) == ("RND-1", 1, ROUND_CUT_OFF)
    assert (own["round_id"], own["cut_off_date"]) == (None, CUT_OFF)
    # Residence since 2015-03-01, 5 points a full year (360 days): 11 years at the own cut-off,
    # 10 at the round's; everything else the same.
    years = {c: (c - date(2015, 3, 1)).days // 30 // 12 for c in (CUT_OFF, ROUND_CUT_OFF)}
    assert (years[CUT_OFF], years[ROUND_CUT_OFF]) == (11, 10)
    assert (lines(own)["residence"], lines(kept)["residence"]) == (55, 50)
    assert {k: v for k, v in lines(kept).items() if k != "residence"} == {
        k: v for k, v in lines(own).items() if k not in ("residence",)
    }
    assert kept["total"] == own["total"] - 5
    a1 = scores["A-1"]
    assert (a1["score_version"], a1["based_on_version"], a1["status"]) == (2, 1, "scored")
    own_module = own["explanation"]["modules"][MODULE]
    assert a1["module"]["total"] == own_module["total"] - 5 and a1["module"]["eligible"] is True
    assert kept["explanation"]["round"]["cut_off_date"] == ROUND_CUT_OFF.isoformat()
    assert kept["explanation"]["rules_on"] == "2025-11-03"


async def test_a_chunk_delivered_again_gets_the_same_answer_and_no_new_version(bus):
    first = await bus.deliver(closing("RND-1", ["A-1", "A-2"]))
    again = await bus.deliver(closing("RND-1", ["A-1", "A-2"]))  # a new event: not the inbox's duplicate
    assert first[0].data["scores"] == again[0].data["scores"]
    assert sorted(bus.store.scores["A-1"]) == [1, 2]


async def test_a_new_own_score_is_re_scored_for_the_open_round_until_it_is_final(bus):
    await bus.deliver(closing("RND-1", ["A-1"]))
    emitted = await bus.deliver(answer("A-1", "education", {"education": ["master"]}, in_answer_to="OBJ-1"))
    assert [e.type for e in emitted] == ["score.computed", "round.scored"]
    own, for_round = emitted[0].data, emitted[1].data["scores"][0]
    assert own["score_version"] == 3 and own["cut_off_date"] == CUT_OFF.isoformat()
    assert (for_round["score_version"], for_round["based_on_version"]) == (4, 3)
    assert for_round["module"]["total"] == own["modules"][MODULE]["total"] - 5  # a year less of residence
    # Another round's candidates are not touched; a final round no longer re-scores.
    assert all(s.get("round_id") in (None, "RND-1") for s in bus.store.scores["A-1"].values())
    await bus.deliver(finalized("RND-1"))
    emitted = await bus.deliver(answer("A-1", "education", {"education": ["doctorate"]}, in_answer_to="OBJ-2"))
    assert [e.type for e in emitted] == ["score.computed"]


async def test_the_history_shows_both_and_the_latest_is_the_applications_own(bus):
    await bus.deliver(closing("RND-1", ["A-1"]))
    doc = await use_cases.read_score(bus.store, "A-1", sight=whole())
    assert doc["version"] == 1 and doc["cut_off_date"] == CUT_OFF.isoformat()
    assert [(h["version"], h["kind"], h["round_id"]) for h in doc["history"]] == [
        (1, "application", None),
        (2, "round", "RND-1"),
    ]
    round_version = await use_cases.read_score(bus.store, "A-1", sight=whole(), version=2)
    assert round_version["round"]["round_id"] == "RND-1" and round_version["round"]["based_on_version"] == 1


def whole() -> Sight:
    return Sight()  # an administrator's: the whole document


async def test_a_round_version_recomputes_to_the_same_determination(bus):
    await bus.deliver(closing("RND-1", ["A-1"]))
    await bus.store.record_texts(use_cases.texts_of(load_shipped().values(), load_shipped_modules().values()))
    result = await recompute(bus.store, "A-1", 2)
    assert result.matches and result.differences == [], result
    # And it is not the application's own determination: another cut-off, another id.
    own, kept = bus.store.scores["A-1"][1], bus.store.scores["A-1"][2]
    assert own["determination_id"] != kept["determination_id"]
