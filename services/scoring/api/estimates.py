"""Self-estimates (模拟积分): score facts without storing anything."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from services.scoring.api.schemas import EvaluateRequest
from services.scoring.domain import score_facts
from services.scoring.engine.rules import RuleSetError
from services.scoring.tables import rate_limits
from shared import clock
from shared.auth import Principal, current_principal, require_any
from shared.calendar import cut_off_date
from shared.problems import Problem
from shared.ratelimit import rate_limited

router = APIRouter(prefix="/v1", tags=["scores"])


@router.post(
    "/evaluate",
    tags=["simulation"],
    summary="Score facts without storing anything (模拟积分, self-estimate)",
    dependencies=[
        Depends(
            rate_limited(
                rate_limits, "evaluate", "evaluations_per_principal_hour", "evaluations_per_client_hour", "evaluations"
            )
        )
    ],
    responses={429: {"description": "Over the hourly limit of this key or address; see Retry-After"}},
)
async def evaluate_facts(
    body: EvaluateRequest, request: Request, principal: Principal = Depends(current_principal)
) -> dict:
    require_any(principal, {"evaluate"})
    rule_sets = request.app.state.rule_sets
    cut_off = cut_off_date(body.application_date or clock.today(), body.acceptance_opens)
    if body.rule_set_id is not None and body.rule_set_id not in rule_sets:
        raise Problem(
            422, f"No rule set {body.rule_set_id!r}.", errors=[{"field": "rule_set_id", "message": "unknown rule set"}]
        )
    try:
        chosen = {body.rule_set_id: rule_sets[body.rule_set_id]} if body.rule_set_id else rule_sets
        # The rules in force on the application (or round) date; the facts up to the cut-off.
        rules_on = body.acceptance_opens or body.application_date or clock.today()
        return score_facts(chosen, cut_off, body.facts, request.app.state.modules, rules_on)
    except RuleSetError as exc:
        raise Problem(422, str(exc), errors=[{"field": "application_date", "message": str(exc)}]) from exc
    except (ValueError, TypeError, KeyError) as exc:
        raise Problem(
            422, f"The facts cannot be read: {exc}", errors=[{"field": "facts", "message": str(exc)}]
        ) from exc
