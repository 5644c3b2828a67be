"""Anchoring the audit chains: each department's head, recorded as it goes and published daily.

A hash chain shows an entry edited or removed in the middle, but not a tail cut off: what is
left is still a valid chain. So every few minutes each department's head (its last entry's id
and hash) is added to `audit_anchors`, which the service may only add to (it owns neither table,
see shared/migrate.py), and the first anchor of each day also goes on the bus as
`audit.chain_anchored`, out of reach of anyone who can change the database. Verification then
compares the chain with its latest anchor (audit.verify_chain).
"""
from __future__ import annotations

import asyncio

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import String

from shared.db import Database
from shared.events import Envelope
from shared.events.catalogue import AuditChainAnchored
from shared.logging import get_logger

log = get_logger("verification.anchors")

# A department is anchored when its chain has moved since its last anchor, or when nothing has been
# published for it today; the head comes from the (department, id) index, one row per department.
ANCHOR = text("""
INSERT INTO verification.audit_anchors (department, entry_id, hash, published)
SELECT d.department, head.id, head.hash, NOT d.published_today
FROM (SELECT department, EXISTS (SELECT FROM verification.audit_anchors a WHERE a.department = u.department
                                 AND a.published AND a.anchored_at >= date_trunc('day', now())) AS published_today
      FROM unnest(:departments) AS u(department)) d
CROSS JOIN LATERAL (SELECT id, hash FROM verification.audit_log l WHERE l.department = d.department
                    ORDER BY id DESC LIMIT 1) head
WHERE NOT d.published_today
   OR NOT EXISTS (SELECT FROM verification.audit_anchors a WHERE a.department = d.department AND a.entry_id >= head.id)
RETURNING department, entry_id, hash, anchored_at, published""").bindparams(
    bindparam("departments", type_=ARRAY(String)))


async def anchor(db: Database, departments: list[str]) -> int:
    """Anchor the departments' chain heads now; how many were anchored."""
    async with db.unit_of_work() as uow:
        rows = (await uow.conn.execute(ANCHOR, {"departments": departments})).all()
        for row in rows:
            if row.published:
                uow.emit(Envelope.new(AuditChainAnchored(department=row.department, entry_id=row.entry_id,
                                                         hash=row.hash, anchored_at=row.anchored_at),
                                      source="verification", subject=row.department))
        await uow.commit()
    return len(rows)


async def anchor_forever(db: Database, departments: list[str], every: float) -> None:
    while True:
        try:
            anchored = await anchor(db, departments)
            if anchored:
                log.info("audit chains anchored", departments=anchored)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database away for a moment: the next round anchors what this one missed
            log.warning("audit anchoring failed", error=str(exc))
        await asyncio.sleep(every)
