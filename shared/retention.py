"""Bounded bookkeeping tables: sent outbox rows, inbox ids and idempotency keys are pruned.

Each is needed for a while and then only grows (the outbox holds the events' personal data too):
- a sent outbox row lets an operator refill a lost broker (`deploy.local republish`, the runbook);
  after `OUTBOX_RETENTION_HOURS` it goes. A row not yet sent is never pruned.
- an inbox id makes a redelivered event harmless; after `INBOX_RETENTION_DAYS` (longer than a topic
  keeps its messages, so no redelivery can still come) it goes.
- an idempotency key answers a partner's retry with the first answer; after
  `IDEMPOTENCY_RETENTION_HOURS` a retry with that key is a new request.

Every replica runs the sweep every `RETENTION_SWEEP_SECONDS`; deletes are in small batches (no
long locks) and the same on every replica, so two at once only share the work.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from prometheus_client import Counter
from sqlalchemy import ColumnClause, ColumnElement, Table, delete, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.logging import get_logger
from shared.outages import describe
from shared.settings import Settings

log = get_logger(__name__)
PRUNED = Counter("points_retention_pruned_total", "Rows pruned after their retention period", ["table"])
BATCH = 5000


@dataclass(frozen=True)
class Rule:
    """Rows of `table` older than `kept` by `stamp` go (and match `also`, when given)."""

    table: Table
    stamp: str
    kept: timedelta
    also: ColumnElement[bool] | None = None


def rules_for(outbox: Table, inbox: Table, idempotency: Table | None, settings: Settings) -> list[Rule]:
    rules = [
        Rule(
            outbox, "published_at", timedelta(hours=settings.outbox_retention_hours), outbox.c.published_at.isnot(None)
        ),
        Rule(inbox, "processed_at", timedelta(days=settings.inbox_retention_days)),
    ]
    if idempotency is not None:
        rules.append(Rule(idempotency, "created_at", timedelta(hours=settings.idempotency_retention_hours)))
    return rules


async def prune(engine: AsyncEngine, rules: list[Rule]) -> dict[str, int]:
    """Delete what each rule lets go, a batch per transaction; rows pruned per table.

    Ages are the database's (`now()`), as the stamps were written by it."""
    pruned: dict[str, int] = {}
    for rule in rules:
        t = rule.table
        old = t.c[rule.stamp] < func.now() - rule.kept
        if rule.also is not None:
            old = old & rule.also
        # Batches by row address: any table, whatever its key, and no long lock on a big backlog.
        ctid: ColumnClause[Any] = literal_column("ctid")
        batch = select(ctid).select_from(t).where(old).limit(BATCH).scalar_subquery()
        total = 0
        while True:
            async with engine.begin() as conn:
                n = (await conn.execute(delete(t).where(ctid.in_(batch)))).rowcount
            total += n
            if n < BATCH:
                break
        pruned[t.name] = total
        if total:
            PRUNED.labels(t.name).inc(total)
    return pruned


class RetentionSweep:
    """The periodic job: prune, sleep, prune; an outage is logged and waited out."""

    def __init__(self, engine: AsyncEngine, rules: list[Rule], every_seconds: float) -> None:
        self.engine, self.rules, self.every = engine, rules, every_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="retention-sweep")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                pruned = await prune(self.engine, self.rules)
                if any(pruned.values()):
                    log.info("retention: pruned", **pruned)
            except Exception as exc:  # the database away: try again next time
                log.warning("retention sweep failed, will retry", error=describe(exc))
            await asyncio.sleep(self.every)
