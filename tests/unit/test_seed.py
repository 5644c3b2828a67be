"""The demo registries' seed: the synthetic population's facts, the residues the tests name kept."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from services.verification import seed
from services.verification.domain import currently_employed
from shared.calendar import cut_off_date
from shared.identity import birth_date, id_number_problem
from shared.synthetic.holders import DEFAULT_AS_OF, generate

AS_OF = date(2026, 11, 1)
HOLDERS = 3000


@pytest.fixture(scope="module")
def population() -> list[tuple[dict, dict]]:
    """(generator facts, registry rows) of holders 1..HOLDERS, generated in one call as `seed` does."""
    facts = generate(np.arange(1, HOLDERS + 1), as_of=AS_OF).to_pylist()
    return [(f, seed.holder_rows(f["holder"], f, AS_OF)) for f in facts]


def test_a_holder_alone_has_the_rows_it_has_in_bulk(population):
    for n in (1, 67, 68, 130, 315, 462, 1000, 2999):
        assert seed.demo_holder(n, AS_OF) == population[n - 1][1], n
        assert seed.demo_id_number(n) == population[n - 1][1]["permit"]["id_number"]


def test_id_numbers_are_valid_unique_and_carry_the_generators_birth_date(population):
    ids = [rows["permit"]["id_number"] for _, rows in population]
    assert len(set(ids)) == len(ids) and not any(id_number_problem(i) for i in ids)
    born = generate(np.arange(1, HOLDERS + 1), as_of=DEFAULT_AS_OF).column("birth_date").to_pylist()
    assert [birth_date(i) for i in ids] == born


def test_ordinary_facts_are_the_generators(population):
    for n, (facts, rows) in enumerate(population, start=1):
        levels = [d["level"] for d in rows["degrees"]]
        assert levels == ([facts["education"]] if facts["education"] else ["master"] if n % 59 == 20 else [])
        assert [q["level"] for q in rows["qualifications"]] == ([facts["skill_title"]] if facts["skill_title"] else [])
        own = [h for h in rows["homes"] if h["id_number"] == rows["permit"]["id_number"]]
        assert bool(own) == facts["own_home"]
        assert [(r["start_date"], r["end_date"], r["registered"]) for r in rows["rentals"]] == [
            (r["start"], r["end"], True) for r in facts["rental_spans"]
        ]
        assert sum(b["ml"] for b in rows["blood"] if b["kind"] == "blood") == facts["blood_donated_ml"]
        assert any(b["kind"] == "marrow" for b in rows["blood"]) == facts["marrow_donated"]
        assert len(rows["tax"]) == len(facts["income_tax"]) and len(rows["honours"]) == len(facts["honours"])
        assert len(rows["volunteering"]) == len(facts["volunteer_service"])
        assert len(rows["donations"]) == len(facts["charity_donations"])
        moved_in = [(s["start"], s["end"]) for s in facts["social_insurance_spans"] if s["transferred_in"]]
        assert [(s["start_month"], s["end_month"]) for s in rows["spans"] if s["transferred_in"]] == moved_in
        generated = {p["patent"]: p["role"] for p in facts["patents"]}
        for p in rows["patents"]:
            if p["patent_number"] in generated:
                role = generated[p["patent_number"]]
                assert (p["transferred_in"], p["inventor_order"]) == (
                    role == "transferred_in",
                    2 if role == "other_inventor" else 1,
                )


def test_what_the_tests_name_by_residue_stays_at_its_residue(population):
    cut_off = cut_off_date(AS_OF)  # an application made in the seed's month
    applied_on = AS_OF.replace(day=20)
    for n, (_facts, rows) in enumerate(population, start=1):
        own_id = rows["permit"]["id_number"]
        expected = "suspended" if n % 97 == 13 else "terminated" if n % 89 == 7 else "valid"
        assert rows["permit"]["status"] == expected, n
        registered = [r for r in rows["residence"] if r["id_number"] == own_id and r["start_date"] < cut_off]
        assert bool(registered) == (n % 101 != 29), n
        on_record = [s for s in rows["spans"] if s["start_month"] < cut_off]
        assert currently_employed(on_record, applied_on, seed.demo_credit_code(n % 7)), n
        residues = any(n % m == r for m, r, _ in seed.OFFENCES) or n % 1000 in (460, 461)
        assert bool(rows["offences"]) == residues, n
        assert bool(rows["credit"]) == (n % 211 == 100) and bool(rows["family_planning"]) == (n % 223 == 101)
        assert bool(rows["certificates"]) == (n % 31 == 3)
        foreign = [(d["foreign"], d["certified"]) for d in rows["degrees"] if d["foreign"]]
        assert foreign == ([(True, n % 118 == 79)] if n % 59 == 20 else [])
    first, second = population[66][1]["patents"][0], population[67][1]["patents"][0]
    assert first["patent_number"] == second["patent_number"]
    assert (first["inventor_order"], second["inventor_order"]) == (1, 2)
    gap = [(r["start_date"], r["end_date"]) for r in population[461][1]["residence"]]
    assert gap == [(date(2010, 1, 1), date(2014, 1, 1)), (date(2018, 1, 1), None)]
