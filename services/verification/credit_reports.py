"""The credit department's reporter: dishonesty records owed after a forgery reach the credit
registry, however long it is away, each once.

A desk decision of "forged" owes a record (`credit_reports`, written in the decision's
transaction). The reporter, in the process that answers for the credit department, sends the
oldest owed records through the credit registry's interface (the port's `report_dishonesty`,
idempotent by act), writes each to the credit department's audit chain, and marks it sent, all
in one transaction: a crash before the commit sends it again, and the registry adds it once.
An outage is a wait: the records stay owed and are tried again on the next round.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from services.verification.audit.chain import append
from services.verification.registries import Registries
from shared.logging import get_logger
from shared.outages import is_outage

log = get_logger("verification.credit")
CREDIT = "credit"
BATCH = 50


async def report_owed(new_uow: Callable[[], Any], registries: Registries, limit: int = BATCH) -> int:
    """Send up to `limit` owed records; the number sent."""
    sent = 0
    async with new_uow() as uow:
        for report in await uow.store.pending_credit_reports(limit):
            try:
                await registries.report_dishonesty(uow, report.id_number, report.act, report.listed_on)
            except Exception as exc:
                if is_outage(exc):
                    raise  # nothing is lost: the rows are still owed when the registry is back
                await uow.store.credit_report_failed(report.id, f"{type(exc).__name__}: {exc}")
                log.warning("credit registry refused a dishonesty record", act=report.act, error=str(exc))
                continue
            await append(
                uow,
                CREDIT,
                report.application_id,
                "credit-reporter",
                [("dishonesty_reported", {"act": report.act}, {"listed_on": report.listed_on.isoformat()})],
            )
            await uow.store.credit_report_sent(report.id, datetime.now(UTC))
            sent += 1
        await uow.commit()
    return sent


async def report_forever(new_uow: Callable[[], Any], registries: Registries, every: float) -> None:
    while True:
        try:
            sent = await report_owed(new_uow, registries)
            if sent:
                log.info("dishonesty records sent to the credit registry", records=sent)
                continue  # more may be owed: no pause between full batches
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the registry or the database away: wait, then try again
            log.warning("credit reporting waits", error=str(exc))
        await asyncio.sleep(every)
