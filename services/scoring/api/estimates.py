"""Self-estimates (模拟积分): score facts without storing anything."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Depends, Request, Response

from services.scoring.api.schemas import Estimate, EstimateRequest, EvaluateRequest, Evaluation
from services.scoring.domain import score_facts
from services.scoring.engine.rules import RuleSetError, in_force
from services.scoring.estimate_batches import EstimateBatches
from services.scoring.self_estimate import Answers, estimate_doc, facts_of
from services.scoring.tables import rate_limits
from shared import clock
from shared.auth import Principal, current_principal, require_any
from shared.calendar import cut_off_date
from shared.client_address import request_client
from shared.problems import Problem
from shared.ratelimit import Counter, RateLimited, rate_limited

router = APIRouter(prefix="/v1", tags=["scores"])


@router.post(
    "/evaluate",
    tags=["simulation"],
    response_model=Evaluation,
    response_model_exclude_unset=True,
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


@router.post(
    "/estimate",
    tags=["simulation"],
    # The answer is written as the engine's explanation is (its JSON, as Estimate describes it): read
    # hundreds of times a second, it is not validated again on the way out (a fifth of its CPU).
    response_class=Response,
    responses={
        200: {"model": Estimate, "description": "The points, line by line"},
        429: {"description": "Over the hourly limit of this address; see Retry-After"},
    },
    summary="模拟积分 for a holder, without a key: points line by line, how each was computed, nothing stored",
)
async def estimate(body: EstimateRequest, request: Request) -> Response:
    """Public on purpose: it asks for nothing that identifies anyone and keeps nothing (the abuse
    counter keeps the address for two hours, as for every limited endpoint). Each estimate counts
    against its address (ESTIMATES_PER_CLIENT_HOUR), counted with the others of its batch."""
    rule_sets = request.app.state.rule_sets
    applied_on = body.application_date or clock.today()
    cut_off = cut_off_date(applied_on)
    try:
        rule_set = in_force(rule_sets, applied_on)  # the rules in force on the application date
    except RuleSetError as exc:
        raise Problem(422, str(exc), errors=[{"field": "application_date", "message": str(exc)}]) from exc
    answers = Answers(**body.model_dump(exclude={"application_date"}))
    batches = getattr(request.app.state, "estimate_batches", None)
    if batches is None:
        batches = request.app.state.estimate_batches = EstimateBatches(
            request.app.state.db.engine, Counter(rate_limits), request.app.state.settings.estimates_per_client_hour
        )
    try:
        # Only the rule set in force: a holder's estimate is the points, not the X-modules' rankings.
        explanation = await batches.explain(
            rule_set, cut_off, facts_of(answers, cut_off), f"estimate:client:{request_client(request)}", applied_on
        )
    except RateLimited as exc:
        raise exc.problem("estimates") from None
    return Response(orjson.dumps(estimate_doc(rule_set, explanation)), media_type="application/json")
