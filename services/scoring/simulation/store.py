"""Every SQL statement of the simulation queue (scoring.simulations), one method by intent.

The queue lives outside the service's unit of work: a runner holds its job across many short
transactions (heartbeats while a child process works), so each method is its own transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.scoring.tables import simulations

_CLAIM = text("""
UPDATE scoring.simulations SET state = 'running', attempts = attempts + 1, phase = 'starting', heartbeat_at = now(),
       started_at = coalesce(started_at, now()), holders_done = 0
WHERE id = (SELECT id FROM scoring.simulations WHERE state = 'queued' ORDER BY created_at
            FOR UPDATE SKIP LOCKED LIMIT 1)
RETURNING id, attempts""")

_TAKE_OVER = text("""
UPDATE scoring.simulations
SET state = CASE WHEN attempts >= :most THEN 'failed' ELSE 'queued' END,
    error = CASE WHEN attempts >= :most
                 THEN 'interrupted ' || attempts || ' times (the service stopped while running it); not tried again'
                 ELSE error END,
    finished_at = CASE WHEN attempts >= :most THEN now() END,
    phase = CASE WHEN attempts >= :most THEN NULL ELSE 'queued' END
WHERE state = 'running' AND heartbeat_at < now() - make_interval(secs => :lease)
RETURNING id, state""")

_FORGET = text("""
DELETE FROM scoring.simulations
WHERE state IN ('done', 'failed') AND finished_at < now() - make_interval(days => :days) RETURNING id""")

_UNFINISHED = text(
    "SELECT state, count(*) FROM scoring.simulations WHERE state IN ('queued', 'running') GROUP BY state"
)

NOW = text("now()")  # a value for `update_if_mine`: the database's clock, not the runner's


class JobStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def enqueue(self, job_id: str, principal: str, spec: dict[str, Any], holders: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                simulations.insert().values(
                    id=job_id, requested_by=principal, state="queued", spec=spec, holders_total=holders, phase="queued"
                )
            )

    async def take_over_and_claim(self, most_attempts: int, lease_seconds: float) -> tuple[list[Row[Any]], Any]:
        """Jobs whose runner stopped renewing its lease go back to the queue (or fail after `most_attempts`);
        then the oldest queued job is claimed, or None."""
        async with self.engine.begin() as conn:
            taken = (await conn.execute(_TAKE_OVER, {"most": most_attempts, "lease": lease_seconds})).all()
            claimed = (await conn.execute(_CLAIM)).first()
        return list(taken), claimed

    async def update_if_mine(self, job_id: str, attempt: int, **values: Any) -> bool:
        """Update the job if this runner still holds it (another may have taken it over)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(simulations)
                .where(simulations.c.id == job_id, simulations.c.attempts == attempt, simulations.c.state == "running")
                .values(**values)
            )
        return bool(result.rowcount == 1)

    async def forget_finished(self, days: int) -> list[str]:
        """Finished jobs past their retention: deleted; their ids returned so their folders go too."""
        async with self.engine.begin() as conn:
            return list((await conn.execute(_FORGET, {"days": days})).scalars().all())

    async def unfinished(self) -> dict[str, int]:
        """Jobs waiting and running, by state."""
        async with self.engine.connect() as conn:
            counts = {state: n for state, n in (await conn.execute(_UNFINISHED)).all()}
        return {state: counts.get(state, 0) for state in ("queued", "running")}

    async def job(self, job_id: str) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(simulations).where(simulations.c.id == job_id))).first()

    async def latest(self, requested_by: str | None, limit: int = 50) -> list[Any]:
        """The newest jobs, of one requester or (None) of everybody."""
        q = select(simulations).order_by(simulations.c.created_at.desc()).limit(limit)
        if requested_by is not None:
            q = q.where(simulations.c.requested_by == requested_by)
        async with self.engine.connect() as conn:
            return list((await conn.execute(q)).all())
