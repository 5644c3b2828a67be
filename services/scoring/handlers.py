"""Scoring's event handlers: wait for every expected department, then score; new facts, new version.

A handler only decides *that* an application is to be scored (use_cases.schedule_scoring);
the scoring itself runs once per consumer batch, just before commit, over every application
the batch completed. `handlers(deps)` binds the dependencies (app.py builds them once).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from services.scoring import domain, use_cases
from services.scoring.campaigns import use_cases as campaigns
from services.scoring.rounds import use_cases as round_scoring
from services.scoring.use_cases import Deps
from shared import clock
from shared.events import Envelope
from shared.events.catalogue import (
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CampaignFactsVerified,
    RoundClosing,
    RoundFinalized,
    VerificationCompleted,
    VerificationsCompleted,
)
from shared.pseudonyms import holder_key


async def on_verification_completed(
    uow: Any, event: Envelope, data: VerificationCompleted | VerificationsCompleted, *, deps: Deps
) -> None:
    """Departments' answers (one, or several together): each kept, and the application scored once all have answered."""
    for answer in data.each():
        await take_answer(uow, answer, deps)


async def take_answer(uow: Any, data: VerificationCompleted, deps: Deps) -> None:
    """A department's answer: kept (or replacing its earlier one); scored once all have answered."""
    application_id = data.application_id
    expected = domain.awaited(data.expected_departments, deps.modules, data.modules, data.cut_off_date)
    answer = {
        "application_id": application_id,
        "department": data.department,
        "expected_departments": expected,
        "cut_off_date": data.cut_off_date,
        "holder": data.holder.model_dump(),
        "items": [i.model_dump() for i in data.items],
        "facts": data.facts,
        "review_deadline": domain.review_deadline(data.applied_on),
    }
    batch = use_cases.batch_of(uow, deps)
    answers = batch.answers.get(application_id)
    if answers is None:
        answers = await uow.store.answers(application_id)
    prior = answers.get(data.department)
    if prior is None:
        await uow.store.add_answer(answer)
    elif (prior["facts"], prior["items"]) != (answer["facts"], answer["items"]):
        await uow.store.replace_answer(application_id, data.department, answer)
    elif data.in_answer_to is None:
        return  # the same answer again: nothing new to score
    # (A re-verification's answer is scored even when nothing changed: the objection gets its outcome.)
    answers[data.department] = answer
    batch.answers[application_id] = answers
    # Everyone has answered, or the review deadline has passed (then the silent score 0 for now).
    if domain.all_answered(expected, set(answers)) or domain.past_deadline(answers, clock.today()):
        answers_to = [{"request_id": data.in_answer_to, "department": data.department}] if data.in_answer_to else []
        await use_cases.schedule_scoring(
            uow,
            deps,
            application_id,
            answers,
            expected,
            data.cut_off_date,
            answers_to,
            applied_on=data.applied_on,
        )


async def on_application_submitted(uow: Any, event: Envelope, data: ApplicationSubmitted, *, deps: Deps) -> None:
    """Kept whether or not any department ever answers: who may read the score, and the deadline."""
    # The holder by key and masked forms only (an event from before intake sent the key: derived here).
    holder = data.holder.ref()
    if holder.key is None:
        holder.key = holder_key(data.holder.id_number, deps.candidate_key_salt)
    uow.store.add_application(
        {
            "application_id": data.application_id,
            "principal": data.principal,
            "holder": holder.model_dump(),
            "expected_departments": domain.awaited(
                data.expected_departments, deps.modules, data.modules, data.cut_off_date
            ),
            "applied_on": data.applied_on,
            "cut_off_date": data.cut_off_date,
            "review_deadline": domain.review_deadline(data.applied_on),
        }
    )


async def on_application_withdrawn(uow: Any, event: Envelope, data: ApplicationWithdrawn, *, deps: Deps) -> None:
    """Withdrawn: never scored from now on (not even later in this very batch)."""
    use_cases.batch_of(uow, deps).withdrawn.add(data.application_id)
    uow.store.add_withdrawn(data.application_id, data.withdrawn_at)


async def on_round_closing(uow: Any, event: Envelope, data: RoundClosing, *, deps: Deps) -> None:
    """A chunk of a closed round's candidates: re-scored at the round's cut-off at commit (round.scored)."""
    round_row = {
        "round_id": data.round_id,
        "module_id": data.module_id,
        "candidate": data.candidate,
        "cut_off_date": data.cut_off_date,
        "rules_on": data.rules_on,
    }
    await round_scoring.take_closing(uow, round_row, list(data.application_ids))
    batch = use_cases.batch_of(uow, deps)
    batch.round_chunks.append((data.round_id, list(data.application_ids)))
    uow.before_commit(use_cases.BATCH, lambda: batch.score_pending(uow))


async def on_round_finalized(uow: Any, event: Envelope, data: RoundFinalized, *, deps: Deps) -> None:
    """A final list never changes: later scores of its candidates are not re-scored for it."""
    await uow.store.finalize_round(data.round_id)


async def on_campaign_facts_verified(uow: Any, event: Envelope, data: CampaignFactsVerified, *, deps: Deps) -> None:
    """A campaign participant's cross-checked facts: kept for the campaign's report, scored for no service."""
    await campaigns.record_facts(uow, data)


HANDLERS = {
    "application.submitted": on_application_submitted,
    "verification.completed": on_verification_completed,
    "application.withdrawn": on_application_withdrawn,
    "round.closing": on_round_closing,
    "round.finalized": on_round_finalized,
    "campaign.facts_verified": on_campaign_facts_verified,
}


def handlers(deps: Deps) -> dict[str, Any]:
    """The consumer's handler table, with the dependencies bound."""
    return {event_type: partial(handler, deps=deps) for event_type, handler in HANDLERS.items()}
