"""Estimates scored together: the engine is vectorised, and its cost is mostly per call (about a
millisecond for one holder, hardly more for fifty). Requests that arrive while a batch is being
scored wait for the next one, so at a trickle each is scored alone at once, and under load the
batches grow with it instead of the queue.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from services.scoring.domain import score_many
from services.scoring.engine.rules import RuleSet

MAX_BATCH = 256


class EstimateBatches:
    def __init__(self) -> None:
        self._pending: list[tuple[RuleSet, date, dict[str, Any], asyncio.Future[dict[str, Any]]]] = []
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None

    async def explain(self, rule_set: RuleSet, cut_off: date, facts: dict[str, Any]) -> dict[str, Any]:
        """One holder's explanation under `rule_set` on `cut_off`, scored in the next batch."""
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run())
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending.append((rule_set, cut_off, facts, future))
        self._wake.set()
        return await future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(0)  # requests already on their way (their counter answered) join this batch
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                self._score(batch)
                await asyncio.sleep(0)  # let the answers go out, and new requests queue up

    @staticmethod
    def _score(batch: list[tuple[RuleSet, date, dict[str, Any], asyncio.Future[dict[str, Any]]]]) -> None:
        groups: dict[tuple[str, date], list[int]] = {}
        for i, (rule_set, cut_off, _, _) in enumerate(batch):
            groups.setdefault((rule_set.id, cut_off), []).append(i)
        for (_, cut_off), members in groups.items():
            rule_set = batch[members[0]][0]
            try:
                explanations = score_many({rule_set.id: rule_set}, cut_off, [batch[i][2] for i in members])
            except Exception as exc:  # one unreadable holder fails their batch: each request learns why
                for i in members:
                    if not batch[i][3].done():
                        batch[i][3].set_exception(exc)
                continue
            for i, explanation in zip(members, explanations, strict=True):
                if not batch[i][3].done():  # the client may have gone away meanwhile
                    batch[i][3].set_result(explanation)
