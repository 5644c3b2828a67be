"""A 模拟积分 campaign's look-ups: the permit register as a sampling frame, the random draw by
stratum, and a participant's facts from every department (a CAMPAIGN look-up).

The frame is every valid permit on the police register, each holder classed by the strata's
dimensions (shared/strata.py) from the registries themselves: the district of the latest residence
registration, the age the ID number gives on the cut-off date, the highest degree on record, an owned
home or a registered lease, the years of residence registration. A participant's facts are looked
up exactly as for an application (use_cases/answers.py `look_up`), each department's look-up on its
audit chain as `campaign:<id>`, with the purpose "campaign"; nothing is scored for a service, no
result is kept here and no notice or score SMS follows: the answers go to scoring's campaign only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import text

from services.verification.registries import Registries, SqlRegistries
from services.verification.use_cases.answers import look_up
from shared import strata
from shared.departments import DEPARTMENTS
from shared.events import Envelope
from shared.events.catalogue import (
    ApplicationSubmitted,
    CampaignFactsVerified,
    CampaignInvited,
    CampaignJoined,
    CampaignWithdrawn,
    Holder,
)
from shared.identity import age_on
from shared.masking import mask_id_number
from shared.pseudonyms import holder_key

# One row per valid permit, classed as of the cut-off: the registries' own tables, one round trip.
_FRAME = """
SELECT p.permit_number, p.id_number,
       (SELECT c.phone FROM registries.police_contacts c WHERE c.id_number = p.id_number) AS phone,
       (SELECT d.district FROM registries.police_residence_districts d
         WHERE d.id_number = p.id_number AND d.start_date < :cut_off
         ORDER BY d.start_date DESC LIMIT 1) AS district,
       (SELECT coalesce(sum(least(coalesce(r.end_date, :cut_off), :cut_off) - r.start_date), 0)
          FROM registries.police_residence r
         WHERE r.id_number = p.id_number AND r.start_date < :cut_off) AS residence_days,
       (SELECT array_agg(e.level) FROM registries.education_degrees e
         WHERE e.id_number = p.id_number AND e.awarded_on < :cut_off) AS degrees,
       EXISTS (SELECT FROM registries.housing_homes h
                WHERE h.id_number = p.id_number AND h.acquired_on < :cut_off) AS owns,
       EXISTS (SELECT FROM registries.housing_rentals t
                WHERE t.id_number = p.id_number AND t.registered AND t.start_date < :cut_off) AS rents
  FROM registries.police_permits p
 WHERE p.status = 'valid' AND p.valid_to >= :cut_off
"""
FRAME = text(_FRAME + " ORDER BY p.permit_number")
ONE_HOLDER = text(_FRAME + " AND p.permit_number = :permit AND p.id_number = :id")


class CampaignRefused(Exception):
    """Why a draw cannot be made; the api turns it into a problem document naming `field`."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


@dataclass(frozen=True)
class RegisterRow:
    permit_number: str
    id_number: str
    phone: str | None
    labels: dict[str, str]

    @property
    def cell(self) -> strata.Cell:
        return strata.cell_of(self.labels)


def labels_of(row: Any, cut_off: date) -> dict[str, str]:
    """A register row's label on each dimension of the strata."""
    try:
        age: int | None = age_on(row.id_number, cut_off)
    except ValueError:  # an ID number without a readable birth date
        age = None
    district = row.district if row.district in strata.DISTRICTS else "unknown"
    return {
        "district": district,
        "age_band": strata.age_band(age),
        "education": strata.education_label(row.degrees or []),
        "housing": strata.housing_label(bool(row.owns), bool(row.rents)),
        "residence_years": strata.residence_band(int(row.residence_days or 0) / 365.25),
    }


async def _read(uow: Any, registries: Registries, statement: Any, params: dict[str, Any]) -> list[Any]:
    if not isinstance(registries, SqlRegistries):
        raise CampaignRefused(503, "The permit register is read as a sampling frame from the SQL registries only.")
    if registries.engine is None:  # the platform's own database: on the caller's transaction
        return list((await uow.conn.execute(statement, params)).all())
    async with registries.engine.connect() as own:
        return list((await own.execute(statement, params)).all())


async def frame(uow: Any, registries: Registries, cut_off: date) -> list[RegisterRow]:
    rows = await _read(uow, registries, FRAME, {"cut_off": cut_off})
    return [RegisterRow(r.permit_number, r.id_number, r.phone, labels_of(r, cut_off)) for r in rows]


def draw(
    holders: list[RegisterRow], plan: list[strata.Stratum], seed: int
) -> tuple[list[int], list[tuple[RegisterRow, int]]]:
    """Per stratum its size on the register, and a simple random sample of its target (all of
    it when the stratum is smaller), each stratum drawn independently from one seeded generator."""
    assignment = strata.assign([h.cell for h in holders], plan)
    if not assignment.covers:
        raise CampaignRefused(422, coverage_fault(assignment), "plan.strata")
    members: list[list[int]] = [[] for _ in plan]
    for i, s in enumerate(assignment.strata):
        assert s is not None  # covered
        members[s].append(i)
    rng = np.random.default_rng(seed)
    chosen: list[tuple[RegisterRow, int]] = []
    for s, (stratum, idx) in enumerate(zip(plan, members, strict=True)):
        take = min(stratum.target, len(idx))
        for i in sorted(rng.choice(len(idx), size=take, replace=False).tolist()) if take else []:
            chosen.append((holders[idx[i]], s))
    return [len(m) for m in members], chosen


def coverage_fault(assignment: strata.Assignment) -> str:
    """What is wrong with a plan that does not class every holder once: how many, and the largest
    cells (labels only: no holder is named)."""
    parts = []
    if assignment.uncovered:
        n = sum(assignment.uncovered.values())
        worst = "; ".join(f"{strata.describe(c)} ({k})" for c, k in assignment.uncovered.most_common(3))
        parts.append(f"{n} holders of the permit register are in no stratum, e.g. {worst}")
    if assignment.overlapping:
        n = sum(assignment.overlapping.values())
        (cell, hits), k = assignment.overlapping.most_common(1)[0]
        parts.append(
            f"{n} holders are in more than one stratum, e.g. {strata.describe(cell)} ({k}) in strata {list(hits)}"
        )
    return "the strata do not cover the register: " + "; and ".join(parts)


async def draw_campaign(
    uow: Any, registries: Registries, request: dict[str, Any], salt: str, keep_until: datetime
) -> dict[str, Any]:
    """Draw the campaign's sample, keep who was drawn (by key) and invite each by SMS (publicity).
    Refused whole (nothing written) when the plan does not cover the register."""
    campaign_id = request["campaign_id"]
    if await uow.store.campaign_draw(campaign_id) is not None:
        raise CampaignRefused(409, f"Campaign {campaign_id} has been drawn already.", "campaign_id")
    faults = strata.plan_faults(request["strata"])
    if faults:
        raise CampaignRefused(422, "; ".join(f"{f}: {m}" for f, m in faults), faults[0][0])
    plan = strata.parse(request["strata"])
    cut_off = date.fromisoformat(request["cut_off_date"])
    holders = await frame(uow, registries, cut_off)
    sizes, chosen = draw(holders, plan, int(request["seed"]))
    keys = [holder_key(h.id_number, salt) for h, _s in chosen]  # the draw's rows and the invitations
    await uow.store.add_campaign_draw(
        {
            "campaign_id": campaign_id,
            "title_zh": request["title_zh"],
            "strata": request["strata"],
            "cut_off_date": cut_off,
            "keep_until": keep_until,
        },
        [
            {"campaign_id": campaign_id, "holder_key": key, "stratum": s, "keep_until": keep_until}
            for key, (_h, s) in zip(keys, chosen, strict=True)
        ],
    )
    closes_on = date.fromisoformat(request["closes_on"])
    for number, (key, (h, _s)) in enumerate(zip(keys, chosen, strict=True), start=1):
        if h.phone:
            uow.emit(
                Envelope.new(
                    CampaignInvited(
                        campaign_id=campaign_id,
                        number=number,
                        title_zh=request["title_zh"],
                        closes_on=closes_on,
                        phone=h.phone,
                        holder_key=key,
                    ),
                    source="verification",
                    subject=campaign_id,
                )
            )
    invited = [0] * len(plan)
    for _h, s in chosen:
        invited[s] += 1
    return {"holders": len(holders), "sizes": sizes, "invited": invited}


async def answer_participant(uow: Any, registries: dict[str, Registries], data: CampaignJoined) -> None:
    """A participant's facts from every department, each look-up on its chain as a campaign's."""
    draw_row = await uow.store.campaign_draw(data.campaign_id)
    if draw_row is None:
        return  # no such campaign here (or past its retention): nothing to look up for it
    police = registries.get("police") or next(iter(registries.values()))
    rows = await _read(
        uow, police, ONE_HOLDER, {"cut_off": data.cut_off_date, "permit": data.permit_number, "id": data.id_number}
    )
    verified = CampaignFactsVerified(
        campaign_id=data.campaign_id, holder_key=data.holder_key, on_register=bool(rows), invited=False
    )
    if rows:
        labels = labels_of(rows[0], data.cut_off_date)
        plan = strata.parse(draw_row.strata)
        hits = [i for i, s in enumerate(plan) if s.holds(strata.cell_of(labels))]
        verified.labels, verified.stratum = labels, hits[0] if len(hits) == 1 else None
        verified.invited = await uow.store.invited_to(data.campaign_id, data.holder_key) is not None
        question = ApplicationSubmitted(
            application_id=f"campaign:{data.campaign_id}",
            holder=Holder(
                id_number=data.id_number,
                permit_number=data.permit_number,
                name_masked="*",
                id_number_masked=mask_id_number(data.id_number),
                key=data.holder_key,
            ),
            applied_on=data.cut_off_date + timedelta(days=1),
            cut_off_date=data.cut_off_date,
            expected_departments=list(DEPARTMENTS),  # type: ignore[arg-type]
        )
        for department in DEPARTMENTS:
            if department not in registries:
                continue  # answered by another process of verification: not looked up for the campaign
            answer, _holder = await look_up(uow, department, registries[department], question, "campaign")
            verified.answers.append({"department": department, "items": answer.items, "facts": answer.facts})
    uow.emit(Envelope.new(verified, source="verification", subject=data.holder_key))


async def forget_participant(uow: Any, data: CampaignWithdrawn) -> None:
    """Consent withdrawn: the holder is no longer known as drawn (the count of invitations stays in
    scoring's campaign, so response rates keep their denominator)."""
    await uow.store.forget_invitation(data.campaign_id, data.holder_key)
