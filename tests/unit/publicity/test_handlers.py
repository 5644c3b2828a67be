"""Publicity's event handlers, in memory: what is stored, what is published, what the applicant is told."""

from __future__ import annotations

from datetime import date

from services.publicity import domain
from services.publicity.handlers import Deps, handlers
from shared import clock
from tests.fakes import InMemoryBus
from tests.unit.publicity.closing import closed
from tests.unit.publicity.events import MODULE, round_scored, scored, submitted, withdrawn
from tests.unit.publicity.fake_store import FakeStore

DEPS = Deps(candidate_key_salt="salt", notice_period_working_days=7, publicity_base_url="https://gs.example")


def bus() -> InMemoryBus:
    return InMemoryBus(handlers(DEPS), FakeStore())


async def test_a_submitted_application_is_kept_with_its_keys_and_masked_names():
    b = bus()
    await b.follow([submitted("APP-1", "hk-1", child_key="ck-1", phone="13900000000")])
    a = b.store.applicants["APP-1"]
    assert (a.holder_key, a.child_key, a.modules, a.contact_phone) == ("hk-1", "ck-1", [MODULE], "13900000000")
    assert (a.holder_name_masked, a.child_name_masked) == ("张*", "王*")


async def test_an_old_event_without_the_key_gets_it_from_the_id_number():
    b = bus()
    await b.follow([submitted("APP-1", "ignored", key_sent=False, id_number="330106197001010011")])
    assert b.store.applicants["APP-1"].holder_key == domain.candidate_key("330106197001010011", "salt")


async def test_a_withdrawal_marks_the_applicant_withdrawn():
    b = bus()
    await b.follow([submitted("APP-1", "hk-1"), withdrawn("APP-1")])
    assert b.store.applicants["APP-1"].withdrawn_at.isoformat().startswith("2026-03-09")


async def test_a_score_goes_on_notice_is_announced_and_the_applicant_told():
    b = bus()
    emitted = await b.follow([submitted("APP-1", "hk-1"), scored("APP-1", 96.5)])
    [notice] = b.store.notices.values()
    start, end = domain.notice_period(clock.today(), 7)
    assert (notice.total, notice.period_start, notice.period_end) == (96.5, start, end)
    assert all("fact_value" not in line for line in notice.lines)  # facts are personal data: not on a notice
    [published] = [e for e in emitted if e.type == "notice.published"]
    assert published.data["url"] == f"https://gs.example/notices/{notice.id}"
    [told] = b.store.notifications
    assert told.phone == "13800000000" and "96.5" in told.body and end.isoformat() in told.body


async def test_a_replayed_older_score_changes_nothing():
    b = bus()
    await b.follow([submitted("APP-1", "hk-1"), scored("APP-1", 90, version=2)])
    emitted = await b.follow([scored("APP-1", 50, version=1)])
    assert emitted == [] and b.store.scores["APP-1"].total == 90
    assert len(b.store.notices) == 1 and len(b.store.notifications) == 1


async def test_a_void_score_is_not_put_on_notice_but_the_applicant_is_told_why():
    b = bus()
    emitted = await b.follow([submitted("APP-1", "hk-1"), scored("APP-1", 0, status="void", reason="材料不实")])
    assert emitted == [] and b.store.notices == {}
    assert "积分无效（材料不实）" in b.store.notifications[0].body


async def test_a_rescore_answering_an_objection_resolves_it():
    b = bus()
    await b.follow([submitted("APP-1", "hk-1"), scored("APP-1", 80)])
    await b.store.add_objection(
        id="OBJ-1",
        kind="objection",
        application_id="APP-1",
        round_id=None,
        seq=None,
        notice_id=None,
        items=["education"],
        reason="学历有疑问",
        contact_phone=None,
        client="c",
        status="open",
        pending_departments=["education"],
        score_before=80.0,
        due_by=date(2026, 4, 1),
        lodged_at=None,
    )
    await b.follow([scored("APP-1", 60, version=2, answers_to=[{"request_id": "OBJ-1", "department": "education"}])])
    o = b.store.objections["OBJ-1"]
    assert (o.status, o.score_after) == ("resolved", 60) and "由80分调整为60分" in o.outcome


async def test_a_round_score_during_the_notice_moves_the_candidate_the_own_score_does_not():
    b = bus()
    store = b.store
    await b.follow([submitted("APP-1", "hk-1"), submitted("APP-2", "hk-2"), scored("APP-1", 90), scored("APP-2", 80)])
    await store.add_round(
        id="RND-1",
        module_id=MODULE,
        owner="education",
        name={"zh": "积分入学"},
        candidate="holder",
        quota=1,
        threshold=None,
        acceptance_opens=date(2026, 3, 1),
        acceptance_closes=date(2026, 3, 20),
        cut_off_date=date(2026, 2, 1),
        notice_working_days=7,
    )
    await closed(store, "RND-1", date(2026, 3, 23))
    assert [(e.application_id, e.admitted) for e in await store.admitted_page("RND-1", 0, 1000)] == [("APP-1", True)]
    # The application's own new score is not the round's: the list ranks by the round's cut-off.
    await b.follow([scored("APP-2", 95, version=2)])
    assert [e.application_id for e in await store.admitted_page("RND-1", 0, 1000)] == ["APP-1"]
    # Scoring re-scores it at the round's cut-off (round.scored): that moves the entry.
    notified = len(store.notifications)
    await b.follow([round_scored("RND-1", {"APP-2": 93.0}, version=11)])
    assert [(e.application_id, e.score) for e in await store.admitted_page("RND-1", 0, 1000)] == [("APP-2", 93.0)]
    assert store.rounds["RND-1"].list_version == 2
    assert len(store.notifications) == notified  # a round's score is not notified


async def test_a_new_score_version_supersedes_the_earlier_notice():
    b = bus()
    await b.follow([submitted("APP-1", "hk-1"), scored("APP-1", 80, version=1)])
    await b.follow([scored("APP-1", 95, version=2)])
    first, second = sorted(b.store.notices.values(), key=lambda n: n.score_version)
    assert (first.current, second.current) == (False, True)
    assert (second.surname, second.id_tail) == ("张", b.store.applicants["APP-1"].holder_id_masked[-4:])


async def test_a_void_rescore_takes_the_earlier_notice_off_the_board():
    b = bus()
    await b.follow([submitted("APP-1", "hk-1"), scored("APP-1", 80, version=1)])
    await b.follow([scored("APP-1", 0, version=2, status="void", reason="forged materials: education")])
    [notice] = b.store.notices.values()
    assert notice.current is False  # the board shows no score that no longer holds


async def test_what_the_applicant_is_told_is_chinese_whatever_scoring_said():
    b = bus()
    await b.follow([submitted("APP-1", "hk-1"), scored("APP-1", 0, status="void", reason="permit_status: terminated")])
    await b.follow([submitted("APP-2", "hk-2"), scored("APP-2", 0, status="vetoed", reason="veto: serious_crime (x)")])
    void, vetoed = (n.body for n in b.store.notifications)
    assert "积分无效（居住证状态：已注销）" in void
    assert "因一票否决情形不予计分" in vetoed
    for body in (void, vetoed):
        assert not any(c.isascii() and c.isalpha() for c in body.replace("APP-1", "").replace("APP-2", "")), body


def test_an_outcome_is_one_chinese_sentence():
    assert domain.outcome_text("scored", 96.5, 96.5) == "核查完成，积分不变（96.5分）。"
    assert domain.outcome_text("scored", 120, 96.5) == "核查完成，积分由96.5分调整为120分。"
    assert domain.outcome_text("void", 0, 96.5) == "核查完成：积分无效。"
