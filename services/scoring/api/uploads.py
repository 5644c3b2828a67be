"""Reading an uploaded YAML document (a rule set or an X-module): bounded, parsed off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import Request

from services.scoring.engine.rules import RuleSetError
from shared.problems import Problem

MAX_BYTES = 1 << 20
YAML_BODY = {"requestBody": {"required": True, "content": {"application/yaml": {"schema": {"type": "string"}}}}}


async def read_yaml_upload(request: Request, doc_id: str, parse: Callable[[str, str], Any]) -> tuple[str, Any]:
    """The uploaded YAML and what it parses to; a 413 or a 422 naming the fault otherwise.

    Call it only once the key is known to be allowed: the body is read and parsed here. Parsing
    runs in a thread, so even a document at the limits (see bounded_yaml) leaves the event loop free.
    """
    raw = await request.body()
    if len(raw) > MAX_BYTES:
        raise Problem(413, f"The file may be at most {MAX_BYTES} bytes.")
    try:
        text = raw.decode("utf-8")
        doc = await asyncio.to_thread(parse, text, f"{doc_id}.yaml")
    except UnicodeDecodeError:
        raise Problem(422, "The file must be UTF-8 text.", errors=[{"field": "body", "message": "not UTF-8"}]) from None
    except RuleSetError as exc:
        raise Problem(
            422, str(exc), errors=[{"field": _field_of(m), "message": m} for m in str(exc).split("; ")]
        ) from exc
    if doc.id != doc_id:
        raise Problem(
            422,
            f"The file's id {doc.id!r} differs from {doc_id!r} in the path.",
            errors=[{"field": "id", "message": "must equal the id in the path"}],
        )
    return text, doc


def _field_of(message: str) -> str:
    """The field a rule-file fault names ("file: indicator 'x', field 'y': why"); the body otherwise."""
    parts = message.split(": ", 2)
    return parts[1] if len(parts) == 3 and parts[1].startswith(("indicator ", "field ")) else "body"


def refused(exc: Any) -> Problem:
    """A use case's refusal (use_cases.Refused) as a problem document naming its field."""
    errors = [{"field": exc.field, "message": exc.why}] if exc.field else None
    return Problem(exc.status, str(exc), errors=errors) if errors else Problem(exc.status, str(exc))
