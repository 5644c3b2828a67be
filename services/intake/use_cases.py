"""Intake's operations: submit, withdraw, read an application; add and read its materials.

Each takes the store (or the unit of work, when it emits events) and plain arguments, and
raises the refusals of domain.py; the API maps those to problem documents. The API owns the
transaction's edges (it claims an Idempotency-Key and stores the answer in the same one), so
the use cases that write do not commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from services.intake import disclosure, domain, materials
from services.intake.domain import (
    ApplicationClosed,
    ApplicationStatus,
    BarJustEnded,
    HolderBarred,
    ItemClosed,
    ItemState,
    MaterialNotFound,
    MaterialRefused,
    NotVisible,
    SupplementDeadlinePassed,
    TooLateToWithdraw,
    UnknownIndicator,
)
from shared.auth import Principal
from shared.calendar import CalendarYearUnknown
from shared.events import Envelope
from shared.events.catalogue import ApplicationSubmitted, ApplicationWithdrawn, MaterialAdded, MaterialRef

SOURCE = "intake"
READ_MATERIALS = "materials:read"  # the departments' review desk reads every application's materials


# --- submitting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorisationLetter:
    """An employer's written authorisation, signed by the employee (委托书)."""

    signed_on: date
    document: bytes
    filename: str | None


@dataclass(frozen=True)
class DelegationClaim:
    """Who says they act for the holder, on what grounds and authority (checked by a department)."""

    relation: str
    grounds: str
    representative: dict[str, Any] | None = None
    authorisation: AuthorisationLetter | None = None


@dataclass(frozen=True)
class SubmitApplication:
    holder_name: str
    holder_id_number: str
    holder_phone: str
    permit_number: str
    intent: str
    declared_facts: dict[str, Any]
    family: list[dict[str, Any]]
    consent: bool
    modules: list[str]
    delegation: DelegationClaim | None = None


@dataclass(frozen=True)
class Submission:
    """A submission made ready: everything that will be written, and the event announcing it."""

    application_id: str
    applied_on: date
    cut_off_date: date
    acting_as: str
    delegation: dict[str, Any] | None
    authorisation: dict[str, Any] | None  # the letter, as a material row
    event: Envelope
    application: dict[str, Any] = field(repr=False)  # the application's row (and the bar check's day)


def prepare_submission(
    command: SubmitApplication, principal: Principal, *, today: date, salt: str, material_max_bytes: int
) -> Submission:
    """Check who acts for whom and the authorisation letter, then build the row and its event.
    Pure: nothing is written, so a refusal here leaves nothing behind."""
    d = command.delegation
    employer = domain.acting_employer(d.relation if d else None, principal.scopes, principal.scoped_values("employer"))
    application_id = domain.new_application_id(today)
    cut_off = domain.cut_off_date(today)
    acting_as = domain.acting_as(d.relation if d else None, principal.scopes, employer is not None)
    letter = _authorisation_material(d, application_id, principal, material_max_bytes)
    delegation = _delegation_record(d, principal, employer, letter)
    event = Envelope.new(
        ApplicationSubmitted(
            application_id=application_id,
            holder=disclosure.holder(command.holder_name, command.holder_id_number, command.permit_number, salt),
            intent=command.intent,
            applied_on=today,
            cut_off_date=cut_off,
            expected_departments=domain.expected_departments(),  # type: ignore[arg-type]
            declared_facts=command.declared_facts,
            family=disclosure.family(command.family, salt),
            delegation=disclosure.delegation(delegation),
            modules=command.modules,
            contact_phone=command.holder_phone,
            principal=principal.principal,
        ),
        source=SOURCE,
        subject=application_id,
    )
    application = dict(
        id=application_id,
        holder_id_number=command.holder_id_number,
        holder_name=command.holder_name,
        holder_phone=command.holder_phone,
        permit_number=command.permit_number,
        intent=command.intent,
        principal=principal.principal,
        acting_as=acting_as,
        declared_facts=command.declared_facts,
        family=command.family,
        delegation=delegation,
        modules=command.modules,
        consent=command.consent,
        applied_on=today,
        cut_off_date=cut_off,
        status=ApplicationStatus.SUBMITTED.value,
        today=today,
    )
    return Submission(application_id, today, cut_off, acting_as, delegation, letter, event, application)


def _authorisation_material(
    d: DelegationClaim | None, application_id: str, principal: Principal, max_bytes: int
) -> dict[str, Any] | None:
    if d is None or d.authorisation is None:
        return None
    try:
        found = materials.inspect(d.authorisation.document, max_bytes)
    except materials.MaterialRejected as exc:
        raise MaterialRefused("delegation.authorisation.document", str(exc), exc.status) from exc
    return {
        "id": materials.new_material_id(),
        "application_id": application_id,
        "indicator": "delegation",
        "purpose": "authorisation",
        "media_type": found.media_type,
        "size": found.size,
        "sha256": found.sha256,
        "filename": d.authorisation.filename,
        "principal": principal.principal,
        "content": d.authorisation.document,
    }


def _delegation_record(
    d: DelegationClaim | None, principal: Principal, employer: str | None, letter: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Who acted for whom and on what authority: kept with the application and sent to the departments."""
    if d is None:
        return None
    if letter is not None:
        authority = {
            "kind": "written_authorisation",
            "material_id": letter["id"],
            "sha256": letter["sha256"],
            "signed_on": d.authorisation.signed_on.isoformat(),
        }  # type: ignore[union-attr]
    else:
        authority = {"kind": "household_relation"}
    return {
        "relation": d.relation,
        "grounds": d.grounds,
        "representative": d.representative,
        "employer_credit_code": employer,
        "authority": authority,
        "channel": principal.principal,
    }


async def submit_application(store: Any, submission: Submission, event_row: dict[str, Any]) -> None:
    """Write the application with its outbox row (`event_row`: the event as the outbox stores it),
    and the authorisation letter if there is one. Raises ApplicationInProgress or HolderBarred."""
    if not await store.add_application(submission.application, event_row):
        bar = await store.holder_bar(submission.application["holder_id_number"], submission.applied_on)
        if bar is None:  # the bar ended between the two statements
            raise BarJustEnded()
        raise HolderBarred(bar.barred_until, bar.reason)
    if submission.authorisation is not None:
        await store.add_material(submission.authorisation)


# --- withdrawing --------------------------------------------------------------------------------


async def withdraw_application(uow: Any, application_id: str, status: str, principal: str) -> dict[str, Any]:
    """Withdraw an application not yet scored; returns its new timeline entry."""
    if not await uow.store.withdraw(application_id):
        raise TooLateToWithdraw(application_id, status)
    event = Envelope.new(
        ApplicationWithdrawn(application_id=application_id, withdrawn_at=datetime.now(UTC), principal=principal),
        source=SOURCE,
        subject=application_id,
    )
    entry = dict(
        application_id=application_id,
        at=event.occurred_at,
        event_type=event.type,
        source=SOURCE,
        summary={"principal": principal},
    )
    await uow.store.add_timeline(entry)
    uow.emit(event)
    return {k: v for k, v in entry.items() if k != "application_id"}


# --- reading ------------------------------------------------------------------------------------


def visible_to(owner: str, principal: Principal | None) -> bool:
    """The partner that applied and administrators; None: the service itself."""
    return principal is None or principal.has("admin") or owner == principal.principal


async def application_state(
    store: Any,
    application_id: str,
    principal: Principal | None,
    *,
    scoring_base_url: str,
    min_working_days: int,
    owner_items: Callable[[list[str]], Awaitable[dict[str, str]]] | None = None,
) -> dict[str, Any]:
    """The application as its partner sees it: status, items (a module owner's too, pending until it
    answers, where `owner_items` knows the modules), score, timeline."""
    found = await store.application(application_id)
    # Another partner's application answers exactly like a missing one: existence must not leak.
    if found is None or not visible_to(found[0].principal, principal):
        raise NotVisible(application_id)
    row, items, events = found
    score = None
    if row.score_version is not None:
        score = {
            "version": row.score_version,
            "status": row.score_status,
            "total": row.score_total,
            "rule_set_id": row.rule_set_id,
            "explanation_url": f"{scoring_base_url}/v1/scores/{application_id}",
        }
    answered = {i.indicator: _item(i, row.applied_on, min_working_days) for i in items}
    submitted = {
        "at": row.created_at,
        "event_type": "application.submitted",
        "source": SOURCE,
        "summary": {"acting_as": row.acting_as, "principal": row.principal},
    }
    return dict(
        id=row.id,
        status=row.status,
        intent=row.intent,
        modules=row.modules,
        family=row.family,
        delegation=row.delegation,
        applied_on=row.applied_on,
        cut_off_date=row.cut_off_date,
        items=_items(
            answered, {**domain.items_of(row.delegation), **(await owner_items(row.modules) if owner_items else {})}
        ),
        score=score,
        notice_url=row.notice_url,
        timeline=[
            submitted,
            *({"at": e.at, "event_type": e.event_type, "source": e.source, "summary": e.summary} for e in events),
        ],
    )


def _items(answered: dict[str, dict[str, Any]], expected: dict[str, str]) -> list[dict[str, Any]]:
    """Every department's items (pending until answered), then a module owner's items as it answered
    them (`<module>/<indicator>`, the owner as the department)."""
    pending = ItemState.PENDING.value
    return [
        answered.get(ind, {"indicator": ind, "department": dept, "state": pending, "reason": None})
        for ind, dept in sorted(expected.items())
    ] + [item for ind, item in sorted(answered.items()) if ind not in expected]


def _item(row: Any, applied_on: date, min_working_days: int) -> dict[str, Any]:
    item = {"indicator": row.indicator, "department": row.department, "state": row.state, "reason": row.reason}
    if row.state in materials.SUPPLEMENTABLE:
        try:
            item["supplement_by"] = materials.supplement_deadline(applied_on, row.updated_at.date(), min_working_days)
        except CalendarYearUnknown:
            item["supplement_by"] = None  # not guessed; an upload is then refused with the reason (503)
    return item


@dataclass(frozen=True)
class ApplicationFilter:
    status: str | None = None
    intent: str | None = None
    applied_from: date | None = None
    applied_to: date | None = None


async def list_applications(
    store: Any, principal: Principal, filters: ApplicationFilter, after: tuple[datetime, str] | None, limit: int
) -> tuple[list[Any], bool]:
    """A page of the applications this key submitted (an administrator: all), newest first, and
    whether more follow."""
    rows = await store.applications_page(
        principal=None if principal.has("admin") else principal.principal,
        status=filters.status,
        intent=filters.intent,
        applied_from=filters.applied_from,
        applied_to=filters.applied_to,
        after=after,
        limit=limit + 1,
    )
    return rows[:limit], len(rows) > limit


# --- materials ----------------------------------------------------------------------------------


def upload_targets(notice: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, str]:
    """Indicators an upload may be for, with their departments: the application's own items and
    every indicator of the rule set it was told about."""
    known = {i["id"]: i["department"] for i in notice.get("indicators", [])}
    return {**known, **{i["indicator"]: i["department"] for i in items}}


def check_upload(application_id: str, status: str, indicator: str, targets: dict[str, str]) -> str:
    """The department an upload for `indicator` goes to, if the application takes it."""
    if indicator not in targets:
        raise UnknownIndicator(indicator, sorted(targets))
    if status not in domain.OPEN_TO_MATERIALS:
        raise ApplicationClosed(application_id, status)
    return targets[indicator]


@dataclass(frozen=True)
class Upload:
    application_id: str
    applied_on: date
    indicator: str
    department: str
    content: bytes
    inspected: materials.Inspected
    filename: str | None
    principal: str


async def add_material(
    uow: Any, upload: Upload, *, min_working_days: int, today: date, now: datetime
) -> dict[str, Any]:
    """Keep the material; an upload for a returned item is a supplement that puts it back in review
    (before its deadline). Returns the material's row (without its content)."""
    item = await uow.store.item_for_update(upload.application_id, upload.indicator)
    state = item.state if item else ItemState.PENDING.value
    if state in materials.CLOSED:
        raise ItemClosed(upload.indicator, state)
    supplement = state in materials.SUPPLEMENTABLE
    deadline = None
    if supplement:
        deadline = materials.supplement_deadline(upload.applied_on, item.updated_at.date(), min_working_days)
        if today > deadline:
            raise SupplementDeadlinePassed(upload.indicator, deadline)
    found = upload.inspected
    row = {
        "id": materials.new_material_id(),
        "application_id": upload.application_id,
        "indicator": upload.indicator,
        "purpose": "supplement" if supplement else "evidence",
        "media_type": found.media_type,
        "size": found.size,
        "sha256": found.sha256,
        "filename": upload.filename,
        "principal": upload.principal,
        "content": upload.content,
        "uploaded_at": now,
    }
    await uow.store.add_material(row)
    event = Envelope.new(
        MaterialAdded(
            application_id=upload.application_id,
            indicator=upload.indicator,
            department=upload.department,
            material=MaterialRef(
                id=row["id"],
                media_type=found.media_type,
                size=found.size,
                sha256=found.sha256,
                url=f"/v1/applications/{upload.application_id}/materials/{row['id']}/content",
            ),
            supplement=supplement,
            supplement_deadline=deadline,
            added_at=now,
        ),
        source=SOURCE,
        subject=upload.application_id,
    )
    if supplement:
        await uow.store.put_back_in_review(
            upload.application_id, upload.indicator, upload.department, f"supplemented on {today.isoformat()}", now
        )
    await uow.store.add_timeline(
        dict(
            application_id=upload.application_id,
            at=now,
            event_type=event.type,
            source=SOURCE,
            summary={"indicator": upload.indicator, "material_id": row["id"], "supplement": supplement},
        )
    )
    uow.emit(event)
    return {k: v for k, v in row.items() if k != "content"}


async def check_materials_readable(
    store: Any, application_id: str, principal: Principal, *, scoring_base_url: str, min_working_days: int
) -> None:
    """The partner that applied, an admin, or a department's review desk (materials:read)."""
    if principal.has(READ_MATERIALS):
        if not await store.application_exists(application_id):
            raise NotVisible(application_id)
        return
    await application_state(
        store, application_id, principal, scoring_base_url=scoring_base_url, min_working_days=min_working_days
    )


async def materials_of(store: Any, application_id: str) -> list[dict[str, Any]]:
    """Every material of the application, oldest first (without content)."""
    return await store.materials_of(application_id)


async def material(store: Any, application_id: str, material_id: str) -> dict[str, Any]:
    row = await store.material(application_id, material_id)
    if row is None:
        raise MaterialNotFound(application_id, material_id)
    return row


async def material_content(store: Any, application_id: str, material_id: str) -> Any:
    row = await store.material_content(application_id, material_id)
    if row is None:
        raise MaterialNotFound(application_id, material_id)
    return row
