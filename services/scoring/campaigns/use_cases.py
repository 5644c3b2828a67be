"""A campaign's operations: open it (the draw from the register), take a holder's consent, record
the departments' answers, withdraw a holder, produce a report."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np

from services.scoring import domain as scoring
from services.scoring.campaigns import report as reporting
from services.scoring.campaigns.store import CampaignStore
from services.scoring.engine.evaluate import SCORED, Evaluation, evaluate
from services.scoring.engine.population import Population
from services.scoring.engine.rules import RuleSet, parse_rule_set
from services.scoring.self_estimate import Answers, facts_of
from services.scoring.simulation.drafts import as_if_in_force
from shared.clock import BEIJING
from shared.events import Envelope
from shared.events.catalogue import CampaignFactsVerified, CampaignJoined, CampaignWithdrawn
from shared.pseudonyms import holder_key

VERIFYING, VERIFIED, NOT_ON_REGISTER = "verifying", "verified", "not_on_register"
# The facts each of a holder's answers (self_estimate.Answers) stands for: a declaration is compared
# with the registries on the facts the holder spoke of, and on nothing else.
DECLARED_FACTS = {
    "birth_date": ["birth_date"],
    "education": ["education"],
    "skill_title": ["skill_title"],
    "employed": ["employed"],
    "insurance_months": ["social_insurance_spans"],
    "residence_years": ["residence_spans"],
    "own_home": ["own_home"],
    "rental_years": ["rental_spans"],
    "volunteer_hours": ["volunteer_service"],
    "charity_yuan": ["charity_donations"],
    "income_tax_yuan": ["income_tax"],
    "investment_tax_yuan": ["investment_tax"],
    "blood_donated_ml": ["blood_donated_ml"],
    "marrow_donated": ["marrow_donated"],
    "honours": ["honours"],
    "patents": ["patents"],
    "offences": ["offences"],
}


class CampaignRefused(Exception):
    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def keep_until(closes_on: date, retention_days: int) -> datetime:
    """The end (Beijing) of the campaign's last day plus its retention period: participants' data goes then."""
    return datetime.combine(closes_on + timedelta(days=retention_days + 1), time(), BEIJING).astimezone(UTC)


def visible(row: Any, principal: Any) -> bool:
    """A campaign is its policy office's own (and an administrator's): anyone else gets the unknown-id 404."""
    return row is not None and (principal.has("admin") or row.owner == principal.principal)


async def join(
    uow: Any,
    campaign_id: str,
    id_number: str,
    permit_number: str,
    declared: dict[str, Any] | None,
    salt: str,
    today: date,
) -> bool:
    """Take a consenting holder into an open campaign and ask the departments for their facts.
    False if they were taking part already."""
    store = CampaignStore(uow)
    row = await store.campaign(campaign_id)
    if row is None:
        raise CampaignRefused(404, f"No campaign {campaign_id}.")
    if not row.opens_on <= today <= row.closes_on:
        raise CampaignRefused(409, f"Campaign {campaign_id} is open from {row.opens_on} to {row.closes_on}.")
    key = holder_key(id_number, salt)
    joined = await store.join(
        {
            "campaign_id": campaign_id,
            "holder_key": key,
            "state": VERIFYING,
            "declared": declared,
            "keep_until": row.keep_until,
        }
    )
    if joined:
        cut_off = date.fromisoformat(row.doc["cut_off_date"])
        uow.emit(
            Envelope.new(
                CampaignJoined(
                    campaign_id=campaign_id,
                    holder_key=key,
                    id_number=id_number,
                    permit_number=permit_number,
                    cut_off_date=cut_off,
                ),
                source="scoring",
                subject=key,
            )
        )
    return joined


async def withdraw(uow: Any, campaign_id: str, id_number: str, salt: str) -> bool:
    """Consent withdrawn: the participant's data goes from the campaign now, and so from every report
    produced after; verification forgets that it drew them. False if they were not taking part."""
    key = holder_key(id_number, salt)
    if not await CampaignStore(uow).withdraw(campaign_id, key):
        return False
    uow.emit(Envelope.new(CampaignWithdrawn(campaign_id=campaign_id, holder_key=key), source="scoring", subject=key))
    return True


async def record_facts(uow: Any, data: CampaignFactsVerified) -> None:
    """The departments' answers for a participant; nothing if they withdrew meanwhile."""
    store = CampaignStore(uow)
    if await store.participant(data.campaign_id, data.holder_key) is None:
        return  # withdrawn before the answers came: nothing of theirs is kept
    await store.verified(
        data.campaign_id,
        data.holder_key,
        {
            "state": VERIFIED if data.on_register else NOT_ON_REGISTER,
            "invited": data.invited,
            "stratum": data.stratum,
            "labels": data.labels or None,
            "answers": data.answers if data.on_register else None,
        },
    )


def drafts_of(doc: dict[str, Any], in_use: dict[str, RuleSet]) -> list[RuleSet]:
    """The campaign's drafts as they were when it opened (their text is kept in the campaign)."""
    out = []
    for d in doc["drafts"]:
        out.append(parse_rule_set(d["source"], f"{d['id']} (campaign)") if d.get("source") else in_use[d["id"]])
    return out


def _points(ev: Evaluation, holder: int) -> dict[str, float]:
    """A holder's points per indicator, as their explanation's lines count them."""
    scored = ev.status_code[holder] == SCORED
    return {ind.id: float(ev.counted[k, holder]) if scored else 0.0 for k, ind in enumerate(ev.rule_set.indicators)}


def score(doc: dict[str, Any], rows: list[Any], in_force: RuleSet, drafts: list[RuleSet]) -> reporting.Scored:
    """Every verified participant under the rules in force and each draft, from the departments'
    answers; and, for those who declared facts, their declaration scored under the rules in force."""
    cut_off, rules_on = date.fromisoformat(doc["cut_off_date"]), date.fromisoformat(doc["rules_on"])
    answers = [r.answers for r in rows]
    sides = [as_if_in_force(rs, rules_on) for rs in (in_force, *drafts)]
    # The engine's vectorised evaluation, one per rule set over all participants (as a simulation
    # scores a city): the totals an application's explanation gives, without explaining anyone. A
    # campaign's answers come from the registries alone (no desk, no delegation), so nothing voids
    # or refuses a score here.
    evaluations = [
        evaluate(rs, Population.from_records([scoring.application_facts(rs, a) for a in answers]), cut_off)
        for rs in sides
    ]
    totals = np.array([ev.totals for ev in evaluations], dtype=np.float64).reshape(len(sides), len(rows))
    declared = []
    said = [(i, r.declared) for i, r in enumerate(rows) if r.declared]
    if said:
        # The registries' facts with what the holder declared in their place: an indicator's points
        # move only where a declared fact disagrees with the registries'.
        told, combined = [], []
        for i, d in said:
            stated = facts_of(Answers(**{**d, "birth_date": date.fromisoformat(d["birth_date"])}), cut_off)
            facts = {f: stated[f] for field in d for f in DECLARED_FACTS.get(field, ())}
            told.append(set(facts))
            combined.append({**scoring.application_facts(in_force, answers[i]), **facts})
        stated_ev = evaluate(sides[0], Population.from_records(combined), cut_off)
        for k, ((i, _d), facts_told) in enumerate(zip(said, told, strict=True)):
            found, stated_points = _points(evaluations[0], i), _points(stated_ev, k)
            declared.append(
                {
                    ind.id: (stated_points.get(ind.id, 0.0), found.get(ind.id, 0.0))
                    for ind in in_force.indicators
                    if ind.fact in facts_told or stated_points.get(ind.id, 0.0) != found.get(ind.id, 0.0)
                }
            )
    return reporting.Scored(
        rule_sets=[
            {"id": rs.id, "name_zh": rs.name.zh, "content_hash": rs.content_hash, "in_force": k == 0}
            for k, rs in enumerate(sides)
        ],
        totals=totals,
        invited=np.array([bool(r.invited) for r in rows], dtype=bool),
        stratum=np.array([-1 if r.stratum is None else int(r.stratum) for r in rows], dtype=np.int64),
        labels=[r.labels or {} for r in rows],
        declared=declared,
        indicator_names={i.id: i.name.zh for i in in_force.indicators},
    )
