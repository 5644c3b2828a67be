"""Properties of the engine on random holders, checked against the plain-Python reference."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.scoring.engine import reference
from services.scoring.engine.evaluate import evaluate
from services.scoring.engine.population import Population
from services.scoring.engine.rules import load_shipped

RULES = load_shipped()
CUT_OFF = date(2026, 10, 1)
DEDUCTIONS = ["criminal", "drug_rehab", "detention", "custody_education", "dishonesty", "family_planning"]


def days(lo: date, hi: date):
    return st.integers(0, (hi - lo).days).map(lambda d: (lo + timedelta(days=d)).isoformat())


def months(lo_year: int, hi_year: int):
    return st.tuples(st.integers(lo_year, hi_year), st.integers(1, 12)).map(lambda ym: f"{ym[0]}-{ym[1]:02d}-01")


span = st.fixed_dictionaries(
    {
        "start": days(date(1995, 1, 1), date(2027, 1, 1)),
        "end": st.one_of(st.none(), days(date(1995, 1, 1), date(2028, 1, 1))),
    }
)
si_span = st.fixed_dictionaries(
    {
        "start": months(2000, 2026),
        "end": months(2000, 2028),
        "kind": st.sampled_from(["pension", "medical", "unemployment"]),
        "transferred_in": st.booleans(),
        "back_paid": st.booleans(),
    }
)
offence = st.fixed_dictionaries(
    {
        "date": days(date(2015, 1, 1), date(2027, 6, 1)),
        "act": st.sampled_from("abcd"),
        "case": st.sampled_from(DEDUCTIONS),
    }
)


def dated(field: str, hi: int) -> st.SearchStrategy:
    return st.fixed_dictionaries({"date": days(date(2018, 1, 1), date(2027, 1, 1)), field: st.integers(0, hi)})


holder = st.fixed_dictionaries(
    {
        "permit_status": st.sampled_from(["valid"] * 8 + ["suspended", "terminated"]),
        "birth_date": days(date(1950, 1, 1), date(2008, 1, 1)),
        "education": st.lists(
            st.sampled_from(["high_school", "junior_college", "bachelor", "master", "doctorate", "none"]), max_size=3
        ),
        "skill_title": st.lists(
            st.sampled_from(["senior_worker", "technician", "senior_title", "intermediate_title"]), max_size=2
        ),
        "employed": st.booleans(),
        "social_insurance_spans": st.lists(si_span, max_size=3),
        "residence_spans": st.lists(span, max_size=3),
        "own_home": st.booleans(),
        "rental_spans": st.lists(span, max_size=2),
        "honours": st.lists(
            st.fixed_dictionaries(
                {
                    "matter": st.sampled_from("xyz"),
                    "level": st.sampled_from(["national", "provincial", "city", "district"]),
                }
            ),
            max_size=3,
        ),
        "marrow_donated": st.booleans(),
        "blood_donated_ml": st.integers(0, 6000),
        "volunteer_service": st.lists(dated("hours", 300), max_size=3),
        "charity_donations": st.lists(dated("yuan", 9000), max_size=2),
        "income_tax": st.lists(dated("yuan", 300000), max_size=2),
        "patents": st.lists(
            st.fixed_dictionaries({"role": st.sampled_from(["first_inventor", "other_inventor", "transferred_in"])}),
            max_size=3,
        ),
        "offences": st.lists(offence, max_size=4),
    }
)


def explain_all(records: list[dict], rule_set_id: str = "hangzhou-2021"):
    result = evaluate(RULES[rule_set_id], Population.from_records(records), CUT_OFF)
    return [result.explain(i) for i in range(len(records))]


@settings(max_examples=150, deadline=None)
@given(st.lists(holder, min_size=1, max_size=6), st.sampled_from(["hangzhou-2018", "hangzhou-2021"]))
def test_the_vectorised_engine_agrees_with_the_per_person_reference(records, rule_set_id):
    for facts, ex in zip(records, explain_all(records, rule_set_id), strict=True):
        ref = reference.score(RULES[rule_set_id], facts, CUT_OFF)
        assert ex["status"] == ref["status"]
        assert abs(ex["total"] - ref["total"]) < 1e-9
        if ex["status"] == "scored":
            assert {line["indicator"]: line["points"] for line in ex["lines"]} == ref["points"]


@settings(max_examples=150, deadline=None)
@given(st.lists(holder, min_size=1, max_size=6))
def test_caps_hold_and_the_lines_always_sum_to_the_total(records):
    for ex in explain_all(records):
        for line in ex["lines"]:
            if line["cap"] is not None:
                assert line["points"] <= line["cap"]
        if ex["status"] == "scored":
            assert abs(sum(line["points"] for line in ex["lines"]) - ex["total"]) < 1e-9
            assert abs(sum(ex["categories"].values()) - ex["total"]) < 1e-9
        else:
            assert ex["total"] == 0


@settings(max_examples=100, deadline=None)
@given(
    holder,
    st.sampled_from(
        [
            "residence_spans",
            "rental_spans",
            "social_insurance_spans",
            "honours",
            "volunteer_service",
            "charity_donations",
            "income_tax",
            "patents",
            "education",
        ]
    ),
    st.data(),
)
def test_more_of_a_good_fact_never_lowers_the_score(facts, fact, data):
    more = dict(facts)
    extra = {
        "residence_spans": span,
        "rental_spans": span,
        "social_insurance_spans": si_span,
        "honours": holder.wrapped_strategy
        if False
        else st.fixed_dictionaries({"matter": st.sampled_from("xyzw"), "level": st.sampled_from(["national", "city"])}),
        "volunteer_service": dated("hours", 300),
        "charity_donations": dated("yuan", 9000),
        "income_tax": dated("yuan", 300000),
        "patents": st.fixed_dictionaries({"role": st.sampled_from(["first_inventor", "other_inventor"])}),
        "education": st.sampled_from(["bachelor", "doctorate"]),
    }[fact]
    more[fact] = list(facts[fact]) + [data.draw(extra)]
    before, after = explain_all([facts, more])
    assert after["total"] >= before["total"]


@settings(max_examples=100, deadline=None)
@given(
    holder,
    st.lists(
        st.fixed_dictionaries(
            {
                "date": st.one_of(days(date(2000, 1, 1), date(2021, 9, 30)), days(date(2026, 10, 1), date(2030, 1, 1))),
                "act": st.sampled_from("pq"),
                "case": st.sampled_from(DEDUCTIONS),
            }
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_deductions_outside_the_look_back_never_count(facts, outside):
    with_old = dict(facts, offences=list(facts["offences"]) + outside)
    without, with_ = explain_all([facts, with_old])
    assert with_["total"] == without["total"]
    assert with_["categories"]["deduction"] == without["categories"]["deduction"]


@settings(max_examples=100, deadline=None)
@given(holder, st.sampled_from(["serious_crime", "banned_org"]), days(date(1990, 1, 1), date(2026, 9, 30)))
def test_a_veto_always_yields_no_score(facts, case, day):
    vetoed = dict(facts, offences=list(facts["offences"]) + [{"date": day, "act": "v", "case": case}])
    ex = explain_all([vetoed])[0]
    assert ex["total"] == 0 and ex["status"] in ("vetoed", "void", "paused")
    if facts["permit_status"] == "valid":
        assert ex["status"] == "vetoed"


@settings(max_examples=60, deadline=None)
@given(st.lists(holder, min_size=2, max_size=9), st.integers(1, 4))
def test_evaluating_in_chunks_changes_nothing(records, chunk):
    pop = Population.from_records(records)
    whole = evaluate(RULES["hangzhou-2021"], pop, CUT_OFF)
    chunked = evaluate(RULES["hangzhou-2021"], pop, CUT_OFF, chunk=chunk)
    assert [whole.explain(i) for i in range(len(records))] == [chunked.explain(i) for i in range(len(records))]
