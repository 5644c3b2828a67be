"""Events as intake and scoring send them, for publicity's unit tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from shared.events import Envelope
from shared.events.catalogue import (
    ApplicationSubmitted,
    ApplicationWithdrawn,
    FamilyMember,
    Holder,
    HolderRef,
    ModuleScore,
    RoundCandidateScore,
    RoundLine,
    RoundScored,
    ScoreComputed,
    ScoreLine,
)

MODULE = "school-2026"
LINES = [
    ScoreLine(
        indicator="education",
        category="basic",
        name_zh="学历",
        name_en="Education",
        fact_value="master",
        department="education",
        raw_points=40,
        points=40,
    ),
    ScoreLine(
        indicator="social_insurance",
        category="basic",
        name_zh="社保",
        name_en="Social insurance",
        fact_value=36,
        department="social_insurance",
        raw_points=36,
        points=36,
    ),
]


def submitted(
    application_id: str,
    holder_key: str,
    *,
    applied_on: date = date(2026, 3, 5),
    modules: tuple[str, ...] = (MODULE,),
    child_key: str | None = None,
    key_sent: bool = True,
    id_number: str = "330106197001010011",
    phone: str | None = "13800000000",
) -> Envelope:
    family = (
        [
            FamilyMember(
                relation="child",
                id_number="330106201501010022",
                name_masked="王*",
                id_number_masked="3301**********0022",
                key=child_key,
            )
        ]
        if child_key
        else []
    )
    holder = Holder(
        id_number=id_number,
        permit_number="P-1",
        name_masked="张*",
        id_number_masked="3301**********0011",
        key=holder_key if key_sent else None,
    )
    return Envelope.new(
        ApplicationSubmitted(
            application_id=application_id,
            holder=holder,
            intent="school_enrolment" if child_key else "general",
            applied_on=applied_on,
            cut_off_date=date(2026, 2, 1),
            expected_departments=["education"],
            family=family,
            modules=list(modules),
            contact_phone=phone,
        ),
        source="intake",
        subject=application_id,
    )


def withdrawn(application_id: str) -> Envelope:
    return Envelope.new(
        ApplicationWithdrawn(
            application_id=application_id,
            withdrawn_at=datetime(2026, 3, 9, tzinfo=UTC),
            principal="demo-window",
        ),
        source="intake",
        subject=application_id,
    )


def scored(
    application_id: str,
    total: float,
    *,
    version: int = 1,
    status: str = "scored",
    eligible: bool = True,
    tie: float = 0.0,
    answers_to: list[dict[str, str]] | None = None,
    reason: str | None = None,
) -> Envelope:
    return Envelope.new(
        ScoreComputed(
            application_id=application_id,
            score_version=version,
            holder=HolderRef(key="k", name_masked="张*", id_number_masked="3301**********0011"),
            status=status,
            reason=reason,
            rule_set_id="hz-2026",
            rule_set_hash="h",
            cut_off_date=date(2026, 2, 1),
            total=total,
            categories={"basic": total},
            lines=LINES,
            computed_at=datetime(2026, 3, 21, tzinfo=UTC),
            modules={MODULE: ModuleScore(total=total, module_points=0, eligible=eligible, sort_key=[total, tie])},
            answers_to=answers_to or [],
        ),
        source="scoring",
        subject=application_id,
    )


def round_scored(
    round_id: str,
    totals: dict[str, float | None],
    *,
    version: int = 10,
    ineligible: frozenset[str] = frozenset(),
    tie: float = 0.0,
) -> Envelope:
    """Scoring's answer to round.closing: each candidate re-scored at the round's cut-off, as the
    module total it gives (None: nothing to re-score from)."""
    scores = [
        RoundCandidateScore(application_id=a, status="unscored")
        if total is None
        else RoundCandidateScore(
            application_id=a,
            score_version=version,
            based_on_version=1,
            status="scored",
            total=total,
            module=ModuleScore(total=total, module_points=0, eligible=a not in ineligible, sort_key=[total, tie]),
            lines=[
                RoundLine(indicator="education", category="basic", name_zh="学历", name_en="Education", points=total)
            ],
        )
        for a, total in totals.items()
    ]
    return Envelope.new(
        RoundScored(round_id=round_id, module_id=MODULE, cut_off_date=date(2026, 2, 1), scores=scores),
        source="scoring",
        subject=round_id,
    )


def as_own_scores(store: Any, closing: list[Envelope], version: int = 10) -> list[Envelope]:
    """Scoring's answers to these round.closing chunks when the round's cut-off changes nothing: each
    candidate's round score is their own latest module total (unscored if they have none)."""
    answers = []
    for event in closing:
        totals: dict[str, float | None] = {}
        ineligible = set()
        for a in event.data["application_ids"]:
            own = store.scores.get(a)
            module = own.modules.get(MODULE) if own is not None and own.status == "scored" else None
            totals[a] = module["total"] if module else None
            if module and not module["eligible"]:
                ineligible.add(a)
        answers.append(round_scored(event.data["round_id"], totals, version=version, ineligible=frozenset(ineligible)))
    return answers
