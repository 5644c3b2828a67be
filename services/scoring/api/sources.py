"""The exact texts of rule sets and modules, as their content hashes were computed over them.

A score names the rule set's and each module's content hash; these texts let anyone check a
determination from outside: sha256 of the body is the hash, and `?hash=` returns any earlier
text a score was computed with (kept in scoring.rule_texts), whatever has changed since.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import PlainTextResponse

from shared.problems import Problem


async def source_document(request: Request, kind: str, document_id: str, in_use: Any, wanted: str | None) -> Any:
    label = "rule set" if kind == "rule_set" else "module"
    if wanted is None or (in_use is not None and in_use.content_hash == wanted):
        if in_use is None or not in_use.source_text:
            raise Problem(404, f"No {label} {document_id!r} in use.")
        return _text(in_use.source_text, in_use.content_hash)
    async with request.app.state.db.unit_of_work() as uow:
        row = await uow.store.text_by_hash(wanted)
    if row is None or row.kind != kind or row.document_id != document_id:
        raise Problem(404, f"No text of {label} {document_id!r} with content hash {wanted}.")
    return _text(row.source, row.content_hash)


def _text(source: str, content_hash: str) -> PlainTextResponse:
    return PlainTextResponse(
        source,
        media_type="application/yaml; charset=utf-8",
        headers={"ETag": f'"{content_hash}"', "Cache-Control": "public, max-age=86400, immutable"},
    )
