"""What the intake unit tests build: commands, keys, events, the outbox row of an event."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from services.intake import use_cases
from shared.auth import Principal
from shared.events import Envelope
from shared.events.catalogue import HolderRef, NoticePublished, ScoreComputed, VerificationCompleted

SALT = "unit-test-salt-0123456789"
MAX_BYTES = 1_000_000
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
APPLIED_ON = date(2025, 3, 3)  # a Monday of a year whose holidays are published
WINDOW = Principal("k1", "window-xihu-1", frozenset({"window"}))
OTHER_WINDOW = Principal("k2", "window-binjiang-2", frozenset({"window"}))
ADMIN = Principal("k3", "ops", frozenset({"admin"}))
DESK = Principal("k4", "desk-police", frozenset({"materials:read"}))
EMPLOYER = Principal("k5", "acme-hr", frozenset({"employer:91330100MA27XXXX1X"}))
GUARDIAN = Principal("k6", "guardian-desk", frozenset({"guardian"}))
HOLDER = HolderRef(key="0" * 64, name_masked="张*", id_number_masked="3301**********1234")


def command(id_number: str = "330106199001011234", **overrides: Any) -> use_cases.SubmitApplication:
    fields: dict[str, Any] = dict(
        holder_name="张三",
        holder_id_number=id_number,
        holder_phone="13800000000",
        permit_number="ZJ330100-000001",
        intent="general",
        declared_facts={"education": "bachelor"},
        family=[],
        consent=True,
        modules=[],
    )
    return use_cases.SubmitApplication(**{**fields, **overrides})


def employers_claim(document: bytes = PDF) -> use_cases.DelegationClaim:
    return use_cases.DelegationClaim(
        "employer", "employment", authorisation=use_cases.AuthorisationLetter(date(2025, 2, 20), document, "letter.pdf")
    )


def event_row(event: Envelope) -> dict[str, Any]:
    """The outbox row of an event, as the outbox builds it (its topic aside)."""
    return {
        "event_id": event.id,
        "topic": "points.applications",
        "key": event.subject,
        "event_type": event.type,
        "payload": event.model_dump(mode="json"),
    }


async def submit(
    store: Any, principal: Principal = WINDOW, today: date = APPLIED_ON, **overrides: Any
) -> use_cases.Submission:
    submission = use_cases.prepare_submission(
        command(**overrides), principal, today=today, salt=SALT, material_max_bytes=MAX_BYTES
    )
    await use_cases.submit_application(store, submission, event_row(submission.event))
    return submission


def verified(application_id: str, department: str, items: dict[str, str]) -> Envelope:
    return Envelope.new(
        VerificationCompleted(
            application_id=application_id,
            department=department,
            expected_departments=["police", "social_insurance"],
            cut_off_date=date(2025, 2, 28),
            holder=HOLDER,
            items=[{"indicator": k, "state": v} for k, v in items.items()],
            facts={},
            verified_at=datetime.now(UTC),
        ),
        source="verification",
        subject=application_id,
    )


def scored(
    application_id: str,
    version: int,
    total: float,
    status: str = "scored",
    barred_until: date | None = None,
    reason: str | None = None,
) -> Envelope:
    return Envelope.new(
        ScoreComputed(
            application_id=application_id,
            score_version=version,
            holder=HOLDER,
            status=status,
            reason=reason,
            barred_until=barred_until,
            rule_set_id="hangzhou-2021",
            rule_set_hash="0" * 64,
            cut_off_date=date(2025, 2, 28),
            total=total,
            categories={},
            lines=[],
            computed_at=datetime.now(UTC),
        ),
        source="scoring",
        subject=application_id,
    )


def noticed(application_id: str, url: str) -> Envelope:
    return Envelope.new(
        NoticePublished(
            notice_id="N-1",
            application_id=application_id,
            score_version=1,
            total=88.5,
            status="scored",
            url=url,
            period_start=date(2025, 4, 1),
            period_end=date(2025, 4, 10),
        ),
        source="publicity",
        subject=application_id,
    )
