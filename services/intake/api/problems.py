"""Intake's refusals (domain.py) as the problem documents partners have always received."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.intake import domain
from shared.problems import Problem, problem_response


def problem(exc: domain.Refused) -> Problem:
    match exc:
        case domain.DelegationRefused():
            return Problem.at(exc.field, exc.message)
        case domain.MaterialRefused():
            return Problem.at(exc.field, exc.message, exc.status)
        case domain.ApplicationInProgress():
            return Problem(
                409,
                "This holder already has an application in progress; wait for its score or withdraw it.",
                type_="/problems/application-open",
            )
        case domain.HolderBarred():
            return Problem(
                403,
                f"This holder may not apply before {exc.barred_until.isoformat()} ({exc.reason}).",
                type_="/problems/holder-barred",
                barred_until=exc.barred_until.isoformat(),
            )
        case domain.BarJustEnded():
            return Problem(409, "The holder's bar has just ended; send the application again.", type_="/problems/retry")
        case domain.NotVisible():
            return Problem(404, f"No application {exc.application_id} is visible to this key.")
        case domain.TooLateToWithdraw():
            return Problem(
                409,
                f"Application {exc.application_id} is already {exc.status}: only an application not "
                "yet scored can be withdrawn.",
                type_="/problems/too-late-to-withdraw",
            )
        case domain.ApplicationClosed():
            return Problem(
                409,
                f"Application {exc.application_id} is {exc.status}: it takes no more materials.",
                type_="/problems/application-closed",
            )
        case domain.UnknownIndicator():
            return Problem.at(
                "indicator",
                f"one of {', '.join(exc.known)}",
                detail=f"indicator: {exc.indicator!r} is not an indicator of this application",
            )
        case domain.ItemClosed():
            return Problem.at(
                "indicator",
                f"item is {exc.state}",
                409,
                type_="/problems/item-closed",
                detail=f"Item {exc.indicator} is {exc.state}: there is nothing to supplement.",
            )
        case domain.SupplementDeadlinePassed():
            deadline = exc.supplement_deadline.isoformat()
            return Problem(
                409,
                f"Item {exc.indicator} was returned and could be supplemented until {deadline}; "
                "it scores 0 and the rest of the application goes on.",
                type_="/problems/supplement-deadline-passed",
                deadline=deadline,
            )
        case domain.MaterialNotFound():
            return Problem(404, f"No material {exc.material_id} in application {exc.application_id}.")
    raise TypeError(f"no problem document for {type(exc).__name__}")  # a new refusal must be given one


def install(app: FastAPI) -> None:
    @app.exception_handler(domain.Refused)
    async def _refused(request: Request, exc: domain.Refused) -> JSONResponse:
        p = problem(exc)
        return problem_response(
            request, p.status, p.detail, title=p.title, type_=p.type, errors=p.errors, headers=p.headers, **p.extra
        )
