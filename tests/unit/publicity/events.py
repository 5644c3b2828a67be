"""Events as intake and scoring send them, for publicity's unit tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.events import Envelope
from shared.events.catalogue import (
    ApplicationSubmitted,
    ApplicationWithdrawn,
    FamilyMember,
    Holder,
    HolderRef,
    ModuleScore,
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
