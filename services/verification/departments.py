"""Pure answers of the departments beyond police and social insurance (see domain.py for those).

Each takes the department's registry records of the holder (JSON rows, dates as ISO strings)
and returns its items and the facts it vouches for, in the shapes the rule sets consume. An
item with nothing on record is "not_found": the applicant may supplement it with materials.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from services.verification.domain import Answer, ItemState

# The facts each item rests on: what an officer's confirmation may set, what a re-verification renews.
FACTS_OF_ITEM: dict[str, tuple[str, ...]] = {
    "permit": ("permit_status",),
    "age": ("birth_date",),
    "residence": ("residence_spans", "residence_districts"),
    "criminal": ("offences",),
    "drug_rehab": ("offences",),
    "detention": ("offences",),
    "custody_education": ("offences",),
    "serious_crime": ("offences",),
    "banned_org": ("offences",),
    "social_insurance": ("social_insurance_spans",),
    "employment": ("employed",),
    "skill_title": ("skill_title",),
    "education": ("education",),
    "housing": ("own_home", "rental_spans"),
    "tax": ("income_tax",),
    "honours": ("honours",),
    "volunteering": ("volunteer_service",),
    "charity": ("charity_donations",),
    "marrow_donation": ("marrow_donated",),
    "blood_donation": ("blood_donated_ml",),
    "family_planning": ("offences",),
    "dishonesty": ("offences",),
    "patents": ("patents",),
    "investment": ("investment_tax",),
    "delegation": (),
}

POLICE_CASES = ("criminal", "drug_rehab", "detention", "custody_education", "serious_crime", "banned_org")


def _item(indicator: str, found: bool, missing: str) -> dict[str, Any]:
    return {
        "indicator": indicator,
        "state": ItemState.PASSED if found else ItemState.NOT_FOUND,
        "reason": None if found else missing,
    }


def _clean(indicator: str) -> dict[str, Any]:
    """A deduction or veto item: nothing on record is a pass, not a gap."""
    return {"indicator": indicator, "state": ItemState.PASSED, "reason": None}


def police_records(records: dict[str, list[dict]], ctx: dict[str, Any]) -> Answer:
    offences = [{"case": o["case"], "act": o["act"], "date": o["date"]} for o in records["offences"]]
    return Answer(items=[_clean(case) for case in POLICE_CASES], facts={"offences": offences})


def human_resources(records: dict[str, list[dict]], ctx: dict[str, Any]) -> Answer:
    levels = sorted({q["level"] for q in records["qualifications"]})
    return Answer(
        items=[_item("skill_title", bool(levels), "no skill level or professional title on record")],
        facts={"skill_title": levels},
    )


def education(records: dict[str, list[dict]], ctx: dict[str, Any]) -> Answer:
    counted = sorted({d["level"] for d in records["degrees"] if not d["foreign"] or d["certified"]})
    uncertified = [d["level"] for d in records["degrees"] if d["foreign"] and not d["certified"]]
    if uncertified and not counted:
        item = {
            "indicator": "education",
            "state": ItemState.RETURNED,
            "reason": f"a foreign {uncertified[0]} degree counts once certified (学历学位认证): "
            "upload the certification",
        }
    else:
        item = _item("education", bool(counted), "no degree on record in the education registry")
    return Answer(items=[item], facts={"education": counted})


def housing(records: dict[str, list[dict]], ctx: dict[str, Any]) -> Answer:
    # Homes of the holder or of the family named in the application; only registered rentals count.
    own_home = bool(records["homes"])
    rentals = [{"start": r["start_date"], "end": r["end_date"]} for r in records["rentals"] if r["registered"]]
    return Answer(
        items=[_item("housing", own_home or bool(rentals), "no home and no registered rental on record")],
        facts={"own_home": own_home, "rental_spans": rentals},
    )


def tax(records: dict[str, list[dict]], ctx: dict[str, Any]) -> Answer:
    payments = [{"date": p["date"], "yuan": p["yuan"]} for p in records["payments"]]
    return Answer(
        items=[_item("tax", bool(payments), "no personal income tax paid on record")], facts={"income_tax": payments}
    )


def civil_affairs(records: dict[str, list[dict]], ctx: dict[str, Any]) -> Answer:
    donations = [{"date": d["date"], "yuan": d["yuan"]} for d in records["donations"]]
    volunteering = [{"date": v["date"], "hours": v["hours"]} for v in records["volunteering"]]
    honours = [{"matter": h["matter"], "level": h["level"], "date": h["date"]} for h in records["honours"]]
    return Answer(
        items=[
            _item("honours", bool(honours), "no honour on record"),
            _item("volunteering", bool(volunteering), "no volunteer service on record"),
            _item("charity", bool(donations), "no charity donation on record"),
        ],
        facts={"charity_donations": donations, "volunteer_service": volunteering, "honours": honours},
    )


def health(records: dict[str, list[dict]], ctx: dict[str, Any]) -> Answer:
    blood_ml = sum(d["ml"] for d in records["donations"] if d["kind"] == "blood")
    marrow = any(d["kind"] == "marrow" for d in records["donations"])
    offences = [{"case": "family_planning", "act": f["act"], "date": f["date"]} for f in records["family_planning"]]
    return Answer(
        items=[
            _item("marrow_donation", marrow, "no marrow donation on record"),
            _item("blood_donation", blood_ml > 0, "no blood donation on record"),
            _clean("family_planning"),
        ],
        facts={"marrow_donated": marrow, "blood_donated_ml": blood_ml, "offences": offences},
    )


def credit(records: dict[str, list[dict]], ctx: dict[str, Any]) -> Answer:
    cut_off = date.fromisoformat(ctx["cut_off_date"])
    # A listing counts from the day it was made; one lifted before the cut-off still happened.
    offences = [
        {"case": "dishonesty", "act": entry["act"], "date": entry["listed_on"]}
        for entry in records["listings"]
        if date.fromisoformat(entry["listed_on"]) < cut_off
    ]
    return Answer(items=[_clean("dishonesty")], facts={"offences": offences})


def market_regulation(records: dict[str, list[dict]], ctx: dict[str, Any]) -> Answer:
    def role(p: dict) -> str:
        if p["transferred_in"]:
            return "transferred_in"  # bought, not invented: counts nothing
        return "first_inventor" if p["inventor_order"] == 1 else "other_inventor"

    found = [{"patent": p["patent_number"], "role": role(p), "date": p["granted_on"]} for p in records["patents"]]
    # Only full tax years before the cut-off are final figures; a later year is not reported.
    last_year = date.fromisoformat(ctx["cut_off_date"]).year - 1
    taxed = [
        {"enterprise": i["enterprise_credit_code"], "year": i["tax_year"], "yuan": i["tax_yuan"]}
        for i in records.get("investments", [])
        if i["tax_year"] <= last_year
    ]
    return Answer(
        items=[
            _item("patents", bool(found), "no granted invention patent on record"),
            _item("investment", bool(taxed), "no investment in an enterprise paying tax in the city on record"),
        ],
        facts={"patents": found, "investment_tax": taxed},
    )


# department -> (the registry look-up it runs, its answer)
ANSWERS: dict[str, tuple[str, Callable[[dict[str, list[dict]], dict[str, Any]], Answer]]] = {
    "human_resources": ("human_resources", human_resources),
    "education": ("education", education),
    "housing": ("housing", housing),
    "tax": ("tax", tax),
    "civil_affairs": ("civil_affairs", civil_affairs),
    "health": ("health", health),
    "credit": ("credit", credit),
    "market_regulation": ("market_regulation", market_regulation),
}
