"""Lodging an objection or a review, the one road of the JSON API and the public form: the use
case in a unit of work, its refusals as problem documents (and nothing written)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from services.publicity import domain
from services.publicity.api.dependencies import problem_of, settings_of
from services.publicity.api.page_text import form_field_of, objection_message_zh, problem_zh
from services.publicity.api.schemas import ObjectionRequest, objection_doc
from services.publicity.domain import ObjectionKind
from services.publicity.objections import use_cases
from services.publicity.settings import PublicitySettings
from shared import clock
from shared.client_address import request_client
from shared.problems import Problem


def client_of(request: Request) -> str:
    """Who is objecting, for the rate limit only: a hash of the address (behind our trusted
    proxies, the forwarded one), not the address."""
    host = request_client(request)
    return hashlib.sha256(f"{request.app.state.settings.candidate_key_salt}:{host}".encode()).hexdigest()


async def lodged_or_problem(request: Request, lodge) -> dict:
    """Run a lodging use case (`lodge(uow, today, per_hour)`) in a unit of work; its refusals
    become problem documents, and nothing is written then. Returns the receipt."""
    settings: PublicitySettings = settings_of(request)
    async with request.app.state.db.unit_of_work() as uow:
        try:
            row = await lodge(uow, clock.today(), settings.objections_per_client_hour)
        except domain.Refused as exc:
            raise problem_of(exc) from exc
        except use_cases.RateLimited as exc:
            raise Problem(
                429,
                f"Too many objections from this address: at most {settings.objections_per_client_hour} "
                f"an hour. Try again in {exc.retry_after} s.",
                type_="/problems/rate-limited",
                headers={"Retry-After": str(exc.retry_after)},
            ) from exc
        await uow.commit()
    return objection_doc(row)


async def lodge_objection(request: Request, body: ObjectionRequest) -> dict:
    """An objection, from the API or the public form; the receipt."""
    command = use_cases.Lodge(
        kind=ObjectionKind.OBJECTION,
        items=body.items,
        reason=body.reason,
        client=client_of(request),
        round_id=body.round_id,
        seq=body.entry,
        notice_id=body.notice_id,
        contact_phone=body.contact_phone,
    )
    return await lodged_or_problem(
        request, lambda uow, today, per_hour: use_cases.lodge(uow, command, today=today, per_hour=per_hour)
    )


@dataclass
class FormOutcome:
    """A public objection form, lodged: the receipt's redirect, or the form back with its errors."""

    redirect: RedirectResponse | None
    submitted: dict[str, Any]
    errors: dict[str, str]
    status: int


async def lodge_from_form(request: Request, **target: Any) -> FormOutcome:
    """The objection form of a notice or a list entry (`target`: notice_id, or round_id and entry):
    the same road as POST /v1/objections; a refusal comes back as errors in Chinese by field, an
    unknown notice or entry as the 404 it is."""
    form = await request.form()
    submitted = {
        "items": form.getlist("items"),
        "reason": str(form.get("reason") or ""),
        "contact_phone": str(form.get("contact_phone") or "") or None,
    }
    errors: dict[str, str] = {}
    status = 422
    try:
        receipt = await lodge_objection(request, ObjectionRequest(**target, **submitted))
        return FormOutcome(RedirectResponse(f"/objections/{receipt['id']}", status_code=303), submitted, {}, 303)
    except ValidationError as exc:
        for e in exc.errors():
            field = str(e["loc"][0]) if e["loc"] else "body"
            errors.setdefault(field, objection_message_zh(field, e))
    except Problem as exc:
        if exc.status == 404:
            raise
        errors[form_field_of(exc)] = problem_zh(exc)
        status = exc.status
    return FormOutcome(None, submitted, errors, status)
