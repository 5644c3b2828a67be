"""Every SQL statement of the campaigns (scoring.campaigns, campaign_participants, campaign_reports),
one method by intent, on the unit of work's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.scoring.tables import campaign_participants, campaign_reports, campaigns

P = campaign_participants
CAMPAIGN = select(campaigns).where(campaigns.c.id == bindparam("campaign_id"))
PARTICIPANT = select(P).where(P.c.campaign_id == bindparam("campaign_id"), P.c.holder_key == bindparam("holder_key"))
JOIN = pg_insert(P).on_conflict_do_nothing().returning(P.c.holder_key)
VERIFIED = (
    update(P)
    .where(P.c.campaign_id == bindparam("b_campaign_id"), P.c.holder_key == bindparam("b_holder_key"))
    .values(
        state=bindparam("state"),
        invited=bindparam("invited"),
        stratum=bindparam("stratum"),
        labels=bindparam("labels"),
        answers=bindparam("answers"),
    )
)
WITHDRAW = (
    delete(P)
    .where(P.c.campaign_id == bindparam("campaign_id"), P.c.holder_key == bindparam("holder_key"))
    .returning(P.c.holder_key)
)
STATES = select(P.c.state, func.count()).where(P.c.campaign_id == bindparam("campaign_id")).group_by(P.c.state)
REPORTABLE = select(P.c.invited, P.c.stratum, P.c.labels, P.c.answers, P.c.declared).where(
    P.c.campaign_id == bindparam("campaign_id"), P.c.state == "verified"
)
NEXT_REPORT = select(func.coalesce(func.max(campaign_reports.c.number), 0) + 1).where(
    campaign_reports.c.campaign_id == bindparam("campaign_id")
)
REPORT = select(campaign_reports).where(
    campaign_reports.c.campaign_id == bindparam("campaign_id"), campaign_reports.c.number == bindparam("number")
)


class CampaignStore:
    def __init__(self, uow: Any) -> None:
        self.conn = uow.conn

    async def add_campaign(self, row: dict[str, Any]) -> None:
        await self.conn.execute(insert(campaigns), [row])

    async def campaign(self, campaign_id: str) -> Any:
        return (await self.conn.execute(CAMPAIGN, {"campaign_id": campaign_id})).one_or_none()

    async def join(self, row: dict[str, Any]) -> bool:
        """False when the holder already takes part."""
        return (await self.conn.execute(JOIN, row)).first() is not None

    async def participant(self, campaign_id: str, holder_key: str) -> Any:
        return (
            await self.conn.execute(PARTICIPANT, {"campaign_id": campaign_id, "holder_key": holder_key})
        ).one_or_none()

    async def verified(self, campaign_id: str, holder_key: str, values: dict[str, Any]) -> None:
        await self.conn.execute(VERIFIED, {"b_campaign_id": campaign_id, "b_holder_key": holder_key, **values})

    async def withdraw(self, campaign_id: str, holder_key: str) -> bool:
        """Remove everything the campaign holds of the participant; False if they were not taking part."""
        row = (await self.conn.execute(WITHDRAW, {"campaign_id": campaign_id, "holder_key": holder_key})).first()
        return row is not None

    async def states(self, campaign_id: str) -> dict[str, int]:
        return {r[0]: int(r[1]) for r in await self.conn.execute(STATES, {"campaign_id": campaign_id})}

    async def reportable(self, campaign_id: str) -> list[Any]:
        """The verified participants on the register, in a stable order."""
        return list((await self.conn.execute(REPORTABLE.order_by(P.c.holder_key), {"campaign_id": campaign_id})).all())

    async def add_report(self, campaign_id: str, summary: dict[str, Any], html: str) -> int:
        number = int(await self.conn.scalar(NEXT_REPORT, {"campaign_id": campaign_id}))
        await self.conn.execute(
            insert(campaign_reports), [{"campaign_id": campaign_id, "number": number, "summary": summary, "html": html}]
        )
        return number

    async def report(self, campaign_id: str, number: int) -> Any:
        return (await self.conn.execute(REPORT, {"campaign_id": campaign_id, "number": number})).one_or_none()
