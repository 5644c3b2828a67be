"""The procedure's dates at the hours when UTC and Beijing disagree on the date.

The host runs in UTC (as a container does). At 23:30 UTC Beijing is already on the next day; at
00:30 Beijing time UTC is still on the day before. At both moments the deadline, notice, objection
and round rules must decide by Beijing's date, the date the public pages show: a notice published
then starts on the date its page gives, an objection is refused exactly when the round's page says
its notice period ended, a round closes and is finalised on the days its page shows.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from services.publicity import domain as publicity
from services.publicity.api.pages import templates
from services.publicity.api.schemas import notice_doc, round_doc
from services.publicity.domain import ObjectionKind
from services.publicity.handlers import Deps
from services.publicity.handlers import handlers as publicity_handlers
from services.publicity.objections import use_cases as objections
from services.scoring import domain as scoring
from services.scoring import use_cases as scoring_use_cases
from services.scoring.engine.modules import load_shipped_modules
from services.scoring.engine.rules import load_shipped
from services.scoring.handlers import handlers as scoring_handlers
from services.verification import domain as verification
from services.verification.domain import DeskTaskState
from shared import clock
from shared.events import Envelope
from shared.events.catalogue import HolderRef, VerificationCompleted
from tests.fakes import FakeUnitOfWork, InMemoryBus
from tests.unit.publicity.closing import closed
from tests.unit.publicity.events import MODULE, as_own_scores, scored, submitted
from tests.unit.publicity.fake_store import FakeStore as PublicityStore
from tests.unit.scoring.fake_store import FakeStore as ScoringStore

# (the moment, Beijing's date then, UTC's date then): all three days are working days.
MOMENTS = [
    pytest.param(datetime(2026, 12, 2, 23, 30, tzinfo=UTC), date(2026, 12, 3), date(2026, 12, 2), id="23:30 UTC"),
    pytest.param(
        datetime(2026, 12, 4, 0, 30, tzinfo=clock.BEIJING), date(2026, 12, 4), date(2026, 12, 3), id="00:30 Beijing"
    ),
]
NOTICE_DAYS = 7


@pytest.fixture(autouse=True)
def host_in_utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def page(template: str, **context) -> str:
    return templates.env.get_template(template).render(**context)


def test_the_pinned_moment_is_one_instant_seen_from_beijing():
    moment = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)
    with clock.pinned_at(moment):
        assert clock.now() == moment and clock.now().utcoffset() == timedelta(hours=8)
        assert clock.today() == date(2026, 12, 3) == clock.beijing_date(moment)
    with pytest.raises(ValueError):
        with clock.pinned_at(datetime(2026, 12, 2, 23, 30)):
            pass


# -- deadlines ------------------------------------------------------------------------------------
@pytest.mark.parametrize("moment, beijing, utc", MOMENTS)
async def test_a_review_deadline_that_was_yesterday_in_beijing_has_passed(moment, beijing, utc):
    """Scoring stops waiting for a silent department the day after its review deadline, Beijing's day."""
    applied_on = next(
        beijing - timedelta(days=d) for d in range(60) if scoring.review_deadline(beijing - timedelta(days=d)) == utc
    )
    bus = InMemoryBus(
        scoring_handlers(scoring_use_cases.Deps(load_shipped(), load_shipped_modules(), "salt")), ScoringStore()
    )
    with clock.pinned_at(moment):
        emitted = await bus.deliver(_police_answer("A-LATE", applied_on))
        # The review desk shows a supplement due yesterday (Beijing) as overdue.
        assert verification.overdue(DeskTaskState.PENDING, utc, clock.today())
        assert not verification.overdue(DeskTaskState.PENDING, beijing, clock.today())
    (score,) = [e.data for e in emitted]
    assert "overdue, scored 0 until they answer: education" in score["reason"]


def _police_answer(app: str, applied_on: date) -> Envelope:
    return Envelope.new(
        VerificationCompleted(
            application_id=app,
            department="police",
            expected_departments=["police", "education"],
            cut_off_date=date(2026, 10, 1),
            holder=HolderRef(key="k-1", name_masked="张*", id_number_masked="3301**********0011"),
            items=[{"indicator": "residence", "state": "passed"}],
            facts={"permit_status": "valid", "birth_date": "1990-05-01", "residence_spans": []},
            verified_at=clock.now(),
            applied_on=applied_on,
        ),
        source="verification",
        subject=app,
    )


# -- notices --------------------------------------------------------------------------------------
@pytest.mark.parametrize("moment, beijing, utc", MOMENTS)
async def test_a_notice_published_then_starts_on_the_date_its_page_shows(moment, beijing, utc):
    store = PublicityStore()
    bus = InMemoryBus(publicity_handlers(Deps("salt", NOTICE_DAYS, "https://gs.example")), store)
    with clock.pinned_at(moment):
        await bus.follow([submitted("A1", "h1"), scored("A1", 90)])
    (row,) = store.notices.values()
    n = notice_doc(row)
    assert n["period_start"] == beijing.isoformat() != utc.isoformat()
    assert (n["period_start"], n["period_end"]) == tuple(
        d.isoformat() for d in publicity.notice_period(beijing, NOTICE_DAYS)
    )
    assert row.id.startswith(f"NTC-{beijing:%Y%m%d}-")
    assert f"公示期 {beijing.isoformat()} 至 {n['period_end']}" in page("notice.html", n=n)


# -- rounds and objections ------------------------------------------------------------------------
async def _round(store: PublicityStore, closes: date) -> str:
    """A round of the module with one candidate, A1, scored 90."""
    await InMemoryBus(publicity_handlers(Deps("salt", NOTICE_DAYS, "https://gs.example")), store).follow(
        [
            submitted(
                "A1", publicity.candidate_key("330106197001010011", "salt"), applied_on=closes - timedelta(days=5)
            ),
            scored("A1", 90),
        ]
    )
    await store.add_round(
        id="RND-1",
        module_id=MODULE,
        owner="education",
        candidate="holder",
        name={"zh": "积分入学"},
        tie_breakers=["age"],
        cut_off_date=closes - timedelta(days=30),
        quota=1,
        threshold=None,
        acceptance_opens=closes - timedelta(days=20),
        acceptance_closes=closes,
        notice_working_days=NOTICE_DAYS,
    )
    return "RND-1"


async def _sweep(store: PublicityStore) -> None:
    """What publicity's sweeper does, now and then, with the clock's date (services/publicity/app.py);
    a round it closes is published when scoring's answer (round.scored) comes, on the clock's date too."""
    from services.publicity import use_cases

    uow = FakeUnitOfWork(store)
    await use_cases.sweep(uow, clock.today())
    await uow.commit()
    closing = [e for e in uow.emitted if e.type == "round.closing"]
    bus = InMemoryBus(publicity_handlers(Deps("salt", NOTICE_DAYS, "https://gs.example")), store)
    await bus.follow(as_own_scores(store, closing))


def _round_page(store: PublicityStore, round_id: str) -> str:
    return page("round.html", r=round_doc(store.rounds[round_id]), entries=[], q="", limit=20, next_after=None)


@pytest.mark.parametrize("moment, beijing, utc", MOMENTS)
async def test_a_round_whose_acceptance_ended_yesterday_in_beijing_closes_and_its_page_says_from_when(
    moment, beijing, utc
):
    store = PublicityStore()
    round_id = await _round(store, closes=utc)
    with clock.pinned_at(moment):
        await _sweep(store)
    r = round_doc(store.rounds[round_id])
    assert r["status"] == "notice" and r["notice_start"] == beijing.isoformat()
    assert f"公示期 {beijing.isoformat()} 至 {r['notice_end']}" in _round_page(store, round_id)
    assert f"按本批次积分截止日（{r['cut_off_date']}）重新计分" in _round_page(store, round_id)


@pytest.mark.parametrize("moment, beijing, utc", MOMENTS)
async def test_a_round_accepting_through_today_in_beijing_stays_open(moment, beijing, utc):
    store = PublicityStore()
    round_id = await _round(store, closes=beijing)
    with clock.pinned_at(moment):
        await _sweep(store)
    assert store.rounds[round_id].status == "accepting"


async def _on_notice_until(store: PublicityStore, last_day: date) -> str:
    round_id = await _round(store, closes=last_day - timedelta(days=15))
    await closed(store, round_id, last_day - timedelta(days=10))
    await store.update_round(round_id, notice_end=last_day)
    return round_id


def _objection(round_id: str) -> objections.Lodge:
    return objections.Lodge(
        kind=ObjectionKind.OBJECTION, items=["education"], reason="学历证书可疑", client="c1", round_id=round_id, seq=1
    )


async def _lodge(store: PublicityStore, round_id: str) -> None:
    uow = FakeUnitOfWork(store)
    await objections.lodge(uow, _objection(round_id), today=clock.today(), per_hour=5)  # as the lodging route does
    await uow.commit()


@pytest.mark.parametrize("moment, beijing, utc", MOMENTS)
async def test_an_objection_is_refused_exactly_when_the_page_says_the_notice_period_ended(moment, beijing, utc):
    ended_yesterday, ends_today = PublicityStore(), PublicityStore()
    late = await _on_notice_until(ended_yesterday, utc)
    in_time = await _on_notice_until(ends_today, beijing)
    assert f"至 {utc.isoformat()}" in _round_page(ended_yesterday, late)
    assert f"至 {beijing.isoformat()}" in _round_page(ends_today, in_time)
    with clock.pinned_at(moment):
        with pytest.raises(publicity.ObjectionRefused) as refused:
            await _lodge(ended_yesterday, late)
        await _lodge(ends_today, in_time)
    assert f"公示期已于{utc.isoformat()}结束" in str(refused.value)
    assert len(ends_today.objections) == 1 and not ended_yesterday.objections


@pytest.mark.parametrize("moment, beijing, utc", MOMENTS)
async def test_a_list_whose_notice_ended_yesterday_in_beijing_is_final_and_its_page_gives_beijings_date(
    moment, beijing, utc
):
    store = PublicityStore()
    round_id = await _on_notice_until(store, utc)
    with clock.pinned_at(moment):
        await _sweep(store)
    r = store.rounds[round_id]
    assert r.status == "final" and r.finalized_at == moment
    r["finalized_at"] = r.finalized_at.astimezone(UTC)  # as PostgreSQL hands a timestamptz back
    assert f"名单已终结（{beijing.isoformat()}）" in _round_page(store, round_id)
