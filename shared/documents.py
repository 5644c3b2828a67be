"""Limits on free-form JSON a partner sends (declared facts, an officer's confirmed facts).

Such documents are stored as JSONB and travel in events: they must fit what PostgreSQL and
the serialiser accept, and stay small enough that one request cannot weigh on everyone.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

INT64 = (-(2**63), 2**63 - 1)


def document_problem(value: Any, max_depth: int = 16, max_values: int = 2000, max_bytes: int = 64 * 1024) -> str | None:
    """Why `value` is not an acceptable free-form document, or None."""
    count = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > max_values:
            return f"holds more than {max_values} values"
        if depth > max_depth and isinstance(item, (dict, list)):
            return f"is nested deeper than {max_depth} levels"
        if isinstance(item, bool) or item is None or isinstance(item, str):
            if isinstance(item, str) and "\x00" in item:
                return "contains a NUL character"
            continue
        if isinstance(item, int):
            if not INT64[0] <= item <= INT64[1]:
                return "holds an integer outside the 64-bit range"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "holds NaN or an infinite number"
        elif isinstance(item, dict):
            for k, v in item.items():
                if "\x00" in k:
                    return "contains a NUL character"
                stack.append((v, depth + 1))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    # It travels in events too: a document the size of a message would block its service's outbox.
    if len(orjson.dumps(value)) > max_bytes:
        return f"is over {max_bytes // 1024} KiB"
    return None
