"""A campaign's draw from the permit register: per stratum its size and a random sample of its
target, the same for the same seed; a plan that does not cover the register is refused whole."""

from __future__ import annotations

import pytest

from services.verification import campaigns
from shared import strata

LABELS = {"district": "xihu", "age_band": "25–34", "education": "bachelor", "housing": "neither"}


def register(n: int) -> list[campaigns.RegisterRow]:
    """n holders, a third with 11+ years of residence."""
    return [
        campaigns.RegisterRow(
            f"P{i:05d}", f"ID{i:05d}", None, {**LABELS, "residence_years": "11+" if i % 3 == 0 else "0–2"}
        )
        for i in range(n)
    ]


PLAN = strata.parse(
    [
        {"name": "settled", "where": {"residence_years": ["11+"]}, "target": 10},
        {"name": "newer", "where": {"residence_years": ["0–2", "3–5", "6–10"]}, "target": 1000},
    ]
)


def test_each_stratum_is_sampled_to_its_target_or_whole():
    holders = register(300)
    sizes, chosen = campaigns.draw(holders, PLAN, seed=7)
    assert sizes == [100, 200]
    settled = [h for h, s in chosen if s == 0]
    newer = [h for h, s in chosen if s == 1]
    assert len(settled) == 10 and all(h.labels["residence_years"] == "11+" for h in settled)
    assert len(newer) == 200  # the target exceeds the stratum: all of it
    assert len({h.permit_number for h in settled}) == 10  # without replacement


def test_the_same_seed_draws_the_same_holders_and_another_seed_others():
    holders = register(300)
    first = [h.permit_number for h, s in campaigns.draw(holders, PLAN, seed=7)[1] if s == 0]
    again = [h.permit_number for h, s in campaigns.draw(holders, PLAN, seed=7)[1] if s == 0]
    other = [h.permit_number for h, s in campaigns.draw(holders, PLAN, seed=8)[1] if s == 0]
    assert first == again and first != other


def test_a_plan_that_misses_holders_is_refused_naming_the_strata():
    plan = strata.parse([{"name": "settled", "where": {"residence_years": ["11+"]}, "target": 10}])
    with pytest.raises(campaigns.CampaignRefused) as refused:
        campaigns.draw(register(30), plan, seed=1)
    assert refused.value.status == 422 and refused.value.field == "plan.strata"
    assert "20 holders of the permit register are in no stratum" in refused.value.message
    assert "residence_years=0–2" in refused.value.message
