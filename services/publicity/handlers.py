"""Publicity's event handlers: learn who applied for which module, put each score on notice,
notify the applicant, answer objections, publish a round's list once scoring has re-scored its
candidates at the round's cut-off, and re-rank lists when a round score changes.

Each is `on_<event>(uow, event, data, *, deps)`; `handlers(deps)` binds the dependencies (built once
by app.py) and is the one table of event type to handler."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from services.publicity import domain
from services.publicity.objections import use_cases as objections
from services.publicity.rounds import use_cases as rounds
from shared import clock
from shared.events import Envelope
from shared.events.catalogue import (
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CampaignInvited,
    CampaignOpened,
    FamilyMember,
    Holder,
    NoticePublished,
    RoundScored,
    ScoreComputed,
)


@dataclass(frozen=True)
class Deps:
    candidate_key_salt: str | None
    notice_period_working_days: int
    publicity_base_url: str


def key_of(person: Holder | FamilyMember, deps: Deps) -> str:
    # Intake sends the key; an event from before it did has the number to derive it from.
    return person.key or domain.candidate_key(person.id_number, deps.candidate_key_salt)


async def on_application_submitted(uow: Any, event: Envelope, data: ApplicationSubmitted, *, deps: Deps) -> None:
    # Masked by intake: publicity never sees a full name.
    holder = data.holder
    child = next((m for m in data.family if m.relation == "child"), None) if data.intent == "school_enrolment" else None
    await uow.store.add_applicant(
        application_id=data.application_id,
        holder_key=key_of(holder, deps),
        holder_name_masked=holder.name_masked,
        holder_id_masked=holder.id_number_masked,
        child_key=key_of(child, deps) if child else None,
        child_name_masked=child.name_masked if child else None,
        child_id_masked=child.id_number_masked if child else None,
        modules=data.modules,
        applied_on=data.applied_on,
        contact_phone=data.contact_phone,
    )


async def on_application_withdrawn(uow: Any, event: Envelope, data: ApplicationWithdrawn, *, deps: Deps) -> None:
    await uow.store.withdraw_applicant(data.application_id, data.withdrawn_at)


async def on_score_computed(uow: Any, event: Envelope, data: ScoreComputed, *, deps: Deps) -> None:
    application_id = data.application_id
    lines = domain.public_lines([line.model_dump() for line in data.lines])
    modules = {m: s.model_dump() for m, s in data.modules.items()}
    newer = await uow.store.put_score(
        application_id=application_id,
        version=data.score_version,
        status=data.status,
        total=data.total,
        modules=modules,
        lines=lines,
        computed_at=data.computed_at,
    )
    if not newer:
        return  # an older version, replayed: the newer one already counts
    # Whatever this version's status, the earlier notices no longer tell the application's score.
    await uow.store.supersede_notices(application_id, data.score_version)
    await objections.take_answers(
        uow, data.answers_to, data.total, data.status, {m: s.total for m, s in data.modules.items()}
    )
    # Lists ranked by round scores move when scoring re-scores the application for them (round.scored).
    await rounds.take_own_score(
        uow,
        application_id,
        data.score_version,
        data.status,
        total=data.total,
        modules=modules,
        lines=lines,
    )
    period = None
    if data.status == "scored":
        period = await put_on_notice(uow, data, lines, deps, clock.today())
    uow.store.notify_applicant(
        application_id,
        data.score_version,
        domain.notification_text(application_id, data.status, data.total, data.reason, period),
    )


async def on_round_scored(uow: Any, event: Envelope, data: RoundScored, *, deps: Deps) -> None:
    # A round's scores, not the application's: no notice and no notification come of it.
    await rounds.take_round_scores(uow, data, clock.today())


async def put_on_notice(uow: Any, data: ScoreComputed, lines: list[dict], deps: Deps, today: date) -> tuple[date, date]:
    """Publish the score's notice (once a score version) and announce it; returns the notice period."""
    start, end = domain.notice_period(today, deps.notice_period_working_days)
    notice_id = domain.new_notice_id(today)
    surname, id_tail = domain.search_columns(data.holder.name_masked, data.holder.id_number_masked)
    inserted = await uow.store.add_notice(
        surname=surname,
        id_tail=id_tail,
        id=notice_id,
        application_id=data.application_id,
        score_version=data.score_version,
        holder_name_masked=data.holder.name_masked,
        id_number_masked=data.holder.id_number_masked,
        total=data.total,
        categories=data.categories,
        lines=lines,
        rule_set_id=data.rule_set_id,
        period_start=start,
        period_end=end,
    )
    if inserted:
        uow.emit(
            Envelope.new(
                NoticePublished(
                    notice_id=notice_id,
                    application_id=data.application_id,
                    score_version=data.score_version,
                    total=data.total,
                    status=data.status,
                    url=f"{deps.publicity_base_url}/notices/{notice_id}",
                    period_start=start,
                    period_end=end,
                ),
                source="publicity",
                subject=data.application_id,
            )
        )
    return start, end


async def on_campaign_opened(uow: Any, event: Envelope, data: CampaignOpened, *, deps: Deps) -> None:
    """The estimate page offers the campaign while it is open, its consent text in full."""
    await uow.store.add_campaign(
        id=data.campaign_id,
        title_zh=data.title_zh,
        consent_text=data.consent_text,
        opens_on=data.opens_on,
        closes_on=data.closes_on,
    )


async def on_campaign_invited(uow: Any, event: Envelope, data: CampaignInvited, *, deps: Deps) -> None:
    """A holder drawn for a 模拟积分 campaign is invited by SMS, through the same notifier as scores
    (keyed by the campaign and the invitation's number: a redelivery sends nothing twice). The SMS
    carries a one-time code, the holder's proof on the public estimate page (only its hash is kept)."""
    code = None
    if data.holder_key:
        code = domain.new_code()
        fresh = await uow.store.add_campaign_code(
            campaign_id=data.campaign_id,
            holder_key=data.holder_key,
            code_hash=domain.code_hash(data.campaign_id, code),
            closes_on=data.closes_on,
        )
        if not fresh:
            return  # invited already: that SMS, with its code, stands
    await uow.store.add_notification(
        application_id=data.campaign_id,
        score_version=data.number,
        phone=data.phone,
        body=domain.invitation_text(data.title_zh, data.closes_on, code),
    )


HANDLERS = {
    "application.submitted": on_application_submitted,
    "application.withdrawn": on_application_withdrawn,
    "score.computed": on_score_computed,
    "round.scored": on_round_scored,
    "campaign.opened": on_campaign_opened,
    "campaign.invited": on_campaign_invited,
}


def handlers(deps: Deps) -> dict[str, Any]:
    """The handler table with the dependencies bound, as the consumer calls it: (uow, event, data)."""
    return {event_type: partial(handler, deps=deps) for event_type, handler in HANDLERS.items()}
