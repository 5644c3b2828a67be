"""The strata a campaign's plan is made of: bands, classing a holder, and a plan that covers the register."""

from __future__ import annotations

from shared import strata


def cell(**labels: str) -> strata.Cell:
    base = {
        "district": "xihu",
        "age_band": "25–34",
        "education": "bachelor",
        "housing": "neither",
        "residence_years": "3–5",
    }
    return strata.cell_of({**base, **labels})


def test_bands():
    assert strata.age_band(None) == "unknown" and strata.age_band(12) == "unknown"
    assert strata.age_band(18) == "18–24" and strata.age_band(34) == "25–34" and strata.age_band(70) == "55+"
    assert strata.residence_band(0) == "0–2" and strata.residence_band(2.99) == "0–2"
    assert strata.residence_band(3) == "3–5" and strata.residence_band(11) == "11+"
    assert strata.education_label([]) == "none on record"
    assert strata.education_label(["bachelor", "master", "high_school"]) == "master"
    assert strata.housing_label(True, True) == "owner" and strata.housing_label(False, True) == "registered renter"


def test_a_plan_that_classes_every_holder_once_covers_the_register():
    plan = strata.parse(
        [
            {"name": "young", "where": {"age_band": ["unknown", "18–24", "25–34"]}, "target": 5},
            {"name": "older", "where": {"age_band": ["35–44", "45–54", "55+"]}, "target": 5},
        ]
    )
    got = strata.assign([cell(), cell(age_band="55+"), cell(age_band="unknown")], plan)
    assert got.covers and got.strata == [0, 1, 0]


def test_a_plan_that_leaves_holders_out_or_counts_them_twice_does_not():
    plan = strata.parse(
        [
            {"name": "xihu", "where": {"district": ["xihu"]}, "target": 5},
            {"name": "owners", "where": {"housing": ["owner"]}, "target": 5},
        ]
    )
    got = strata.assign([cell(), cell(district="binjiang"), cell(district="binjiang"), cell(housing="owner")], plan)
    assert not got.covers
    assert got.strata == [0, None, None, None]
    assert got.uncovered == {cell(district="binjiang"): 2}
    assert sum(got.overlapping.values()) == 1  # a Xihu owner is in both


def test_plan_faults_name_the_field():
    faults = strata.plan_faults(
        [
            {"name": "a", "where": {"colour": ["red"]}, "target": 1},
            {"name": "a", "where": {"age_band": ["elderly"]}, "target": 1},
        ]
    )
    fields = [f for f, _ in faults]
    assert "plan.strata[0].where.colour" in fields
    assert "plan.strata[1].where.age_band" in fields
    assert "plan.strata[1].name" in fields
    assert strata.plan_faults([]) == [("plan.strata", "at least one stratum")]
