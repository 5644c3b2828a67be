"""RFC 9457 problem details for every error a partner can see."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.calendar import CalendarYearUnknown
from shared.tracing import current_trace_id

PROBLEM_JSON = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class Problem(Exception):
    """Raise from a route to answer with a problem document."""

    @classmethod
    def at(cls, field: str, message: str, status: int = 422, detail: str | None = None, **extra: Any) -> Problem:
        """A problem with one field at fault: the detail names it ("field: message") unless given."""
        return cls(status, detail or f"{field}: {message}", errors=[{"field": field, "message": message}], **extra)

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        type_: str = "about:blank",
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.headers = headers
        self.status, self.detail, self.title, self.type = status, detail, title or _TITLES.get(status, "Error"), type_
        self.errors = errors
        self.extra = extra


def problem_response(
    request: Request,
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type_: str = "about:blank",
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": type_,
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


# invalid byte sequence (a NUL in text), untranslatable character (\u0000 in JSONB)
_UNSTORABLE_TEXT = {"22021", "22P05"}
_NAMED = re.compile(r"^([a-z_][a-z0-9_.]*): (.+)$")


def _field(loc: Sequence[Any], error_type: str = "") -> str:
    if error_type == "json_invalid":  # the location is a character offset, not a field
        return "body"
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) if parts else "body"


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            request,
            exc.status,
            exc.detail,
            title=exc.title,
            type_=exc.type,
            errors=exc.errors,
            headers=exc.headers,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for e in exc.errors():
            field, message = _field(e.get("loc", ()), e.get("type", "")), e.get("msg", "invalid")
            named = _NAMED.match(message)
            # A rule over a whole document (or sub-document) that names the field it is about.
            if named and (field == "body" or named.group(1).startswith(f"{field}.") or named.group(1) == field):
                field, message = named.group(1), named.group(2)
            errors.append({"field": field, "message": message})
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem_response(request, 422, detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(request, exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(CalendarYearUnknown)
    async def _calendar(request: Request, exc: CalendarYearUnknown) -> JSONResponse:
        # A working-day deadline nobody can compute yet: say so rather than guess a date.
        return problem_response(request, 503, str(exc), type_="/problems/calendar-unknown", year=exc.year)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # PostgreSQL stores no NUL character in text or JSON: a request carrying one is the
        # partner's error, whichever field (or path segment) it came in.
        if getattr(exc.orig, "sqlstate", None) in _UNSTORABLE_TEXT:
            return problem_response(
                request,
                422,
                "Text must not contain NUL (\\u0000) characters.",
                errors=[{"field": "body", "message": "contains a NUL character"}],
            )
        return await _crash(request, exc)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        from shared.logging import get_logger
        from shared.outages import describe, is_outage

        if is_outage(exc):
            # The database (or another dependency) is away: nothing was done, and the same
            # request will work in a moment. A wait for the partner, not an error of ours.
            get_logger(__name__).warning("dependency unavailable", path=request.url.path, error=describe(exc))
            return problem_response(
                request,
                503,
                "The service is briefly unavailable (a dependency is restarting); "
                "nothing was done: send the same request again shortly.",
                type_="/problems/temporarily-unavailable",
                headers={"Retry-After": "2"},
            )

        get_logger(__name__).exception("unhandled error", path=request.url.path)
        # Answered outside the middleware that names the trace in a header: the trace id goes in the body.
        return problem_response(
            request,
            500,
            "An internal error occurred; it has been logged with this request's trace id.",
            trace_id=current_trace_id(),
        )
