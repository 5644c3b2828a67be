"""Holders' facts as the JSON documents the departments send (what `POST /v1/evaluate` reads)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pyarrow as pa

LISTED = ("education", "skill_title")  # the departments report every level on record; here the highest


def _json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


def documents(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    out = []
    for row in batch.to_pylist():
        doc = {k: _json(v) for k, v in row.items() if k not in ("holder", "district")}
        for key in LISTED:
            doc[key] = [doc[key]] if doc.get(key) else []
        out.append(doc)
    return out
