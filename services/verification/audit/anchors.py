"""Anchoring the audit chains: each department's head, recorded as it goes and published daily.

A hash chain shows an entry edited or removed in the middle, but not a tail cut off: what is
left is still a valid chain. So every few minutes each department's head (its last entry's id
and hash) is added to `audit_anchors`, which the service may only add to (it owns neither table,
see shared/migrate.py), and the first anchor of each day also goes on the bus as
`audit.chain_anchored`, out of reach of anyone who can change the database. Verification then
compares the chain with its latest anchor (chain.verify_chain).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from shared.events import Envelope
from shared.events.catalogue import AuditChainAnchored
from shared.logging import get_logger

log = get_logger("verification.anchors")


async def anchor(uow: Any, departments: list[str]) -> int:
    """Anchor the departments' chain heads in this unit of work (the caller commits); how many were anchored."""
    rows = await uow.store.anchor_heads(departments)
    for row in rows:
        if row.published:
            uow.emit(
                Envelope.new(
                    AuditChainAnchored(
                        department=row.department, entry_id=row.entry_id, hash=row.hash, anchored_at=row.anchored_at
                    ),
                    source="verification",
                    subject=row.department,
                )
            )
    return len(rows)


async def anchor_now(new_uow: Callable[[], Any], departments: list[str]) -> int:
    async with new_uow() as uow:
        anchored = await anchor(uow, departments)
        await uow.commit()
    return anchored


async def anchor_forever(new_uow: Callable[[], Any], departments: list[str], every: float) -> None:
    while True:
        try:
            anchored = await anchor_now(new_uow, departments)
            if anchored:
                log.info("audit chains anchored", departments=anchored)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database away for a moment: the next round anchors what this one missed
            log.warning("audit anchoring failed", error=str(exc))
        await asyncio.sleep(every)
