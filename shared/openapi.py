"""Every service's OpenAPI document says what the service really answers.

FastAPI documents the success response and a JSON 422 of its own shape; the services answer
errors as RFC 9457 problem documents (shared/problems.py), need an API key on every partner
route, and some pages are HTML. A partner generating a client from the document (and the fuzz
tests, which check every answer against it) needs all of that declared: the bearer and header
key schemes on each route that takes a key, and each error status with its media type.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from shared.auth import current_principal
from shared.problems import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem document; `errors` names each field at fault.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "An API key: `Authorization: Bearer pk_…`"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "The same key, in a header"},
}
# Statuses any operation may answer, whatever it does: its input refused (400 malformed, 413 too
# large, 415 wrong type, 422 invalid), nothing there (404), a method it does not have (405), a limit
# reached (429), a dependency restarting (503).
COMMON = {
    400: "Malformed request",
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid request: each field at fault is named",
    429: "Too many requests",
    503: "Briefly unavailable (a dependency is restarting): nothing was done, try again",
}
AUTHENTICATED = {401: "No API key, or an unknown or revoked one", 403: "The key lacks a scope for this operation"}
STATEFUL = {409: "Conflicts with the resource's state"}


def _needs_key(dependant: Dependant) -> bool:
    return any(d.call is current_principal or _needs_key(d) for d in dependant.dependencies)


def _example(status: int, description: str) -> dict[str, Any]:
    """What a partner sees for this status: a problem document, with the field at fault on a 422."""
    example: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    example["detail"] = "body.consent: Input should be True" if status == 422 else f"{description}."
    if status == 422:
        example["errors"] = [{"field": "body.consent", "message": "Input should be True"}]
    return example


def _problem(status: int, description: str, html: bool) -> dict[str, Any]:
    content: dict[str, Any] = {
        PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}, "example": _example(status, description)}
    }
    if html:  # a browser following a wrong link gets a page, not a document
        content["text/html"] = {"schema": {"type": "string"}}
    return {"description": description, "content": content}


def install(app: FastAPI) -> None:
    """Replace the app's OpenAPI generator by one that declares keys, problems and media types."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, routes=app.routes, description=app.description)
        components = doc.setdefault("components", {})
        components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        components["securitySchemes"] = SECURITY_SCHEMES
        for schema in ("HTTPValidationError", "ValidationError"):
            components["schemas"].pop(schema, None)
        for route in routing.iter_route_contexts(app.routes):  # through included routers too
            if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
                continue
            html = isinstance(route.response_class, type) and issubclass(route.response_class, HTMLResponse)
            needs_key = _needs_key(route.dependant)
            methods = route.methods or set()
            errors = {
                **COMMON,
                **(AUTHENTICATED if needs_key else {}),
                **(STATEFUL if methods & {"POST", "PUT", "DELETE", "PATCH"} else {}),
            }
            for method in methods:
                operation = doc["paths"].get(route.path_format, {}).get(method.lower())
                if operation is None:
                    continue
                responses = operation.setdefault("responses", {})
                for status, description in errors.items():
                    declared = responses.get(str(status), {})
                    responses[str(status)] = {
                        **_problem(status, description, html),
                        "description": declared.get("description", description),
                    }
                if needs_key:
                    operation["security"] = [{"bearer": []}, {"apiKey": []}]
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


# A material's bytes as the routes that hand one out declare them (a generated client reads a file).
BINARY = {"schema": {"type": "string", "format": "binary"}}
MATERIAL_CONTENT = {200: {"content": {media: BINARY for media in ("application/pdf", "image/jpeg", "image/png")}}}
