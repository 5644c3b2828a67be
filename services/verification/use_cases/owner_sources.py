"""A module owner registers its registry (its endpoint and credential) and reads what it registered."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def source_view(row: Any) -> dict[str, Any]:
    """What anyone is shown of a source: never the credential, only that one is set."""
    return {
        "owner": row.owner,
        "url": row.url,
        "credential_set": bool(row.credential),
        "registered_by": row.registered_by,
        "registered_at": row.registered_at.isoformat(),
    }


async def register_source(uow: Any, owner: str, url: str, credential: str, by: str, now: datetime) -> dict[str, Any]:
    """Register (or replace) the owner's registry; its verifier uses it from its next look-up."""
    row = await uow.store.put_owner_source(
        {"owner": owner, "url": url, "credential": credential, "registered_by": by, "registered_at": now}
    )
    return source_view(row)


async def read_source(uow: Any, owner: str) -> dict[str, Any] | None:
    row = await uow.store.owner_source(owner)
    return None if row is None else source_view(row)
