"""Which department answers which indicator: the joint review's division of labour.

Intake shows each item as pending with its department and expects an answer from every
department; each department's verifier answers exactly these items. The rule sets name the
same departments for display and must agree (a test checks it).
"""

from __future__ import annotations

ITEMS_BY_DEPARTMENT: dict[str, tuple[str, ...]] = {
    "police": (
        "permit",
        "age",
        "residence",
        "criminal",
        "drug_rehab",
        "detention",
        "custody_education",
        "serious_crime",
        "banned_org",
    ),
    "social_insurance": ("social_insurance", "employment"),
    "human_resources": ("skill_title",),
    "education": ("education",),
    "housing": ("housing",),
    "tax": ("tax",),
    "civil_affairs": ("honours", "volunteering", "charity"),
    "health": ("marrow_donation", "blood_donation", "family_planning"),
    "credit": ("dishonesty",),
    "market_regulation": ("patents", "investment"),
}
DEPARTMENTS: tuple[str, ...] = tuple(ITEMS_BY_DEPARTMENT)
DEPARTMENT_OF: dict[str, str] = {item: dept for dept, items in ITEMS_BY_DEPARTMENT.items() for item in items}

# The facts each department reports (the shapes the rule sets read): what a module's indicator may
# name as a department's fact. `residence_districts` is the police residence record with its district.
FACTS_BY_DEPARTMENT: dict[str, tuple[str, ...]] = {
    "police": ("permit_status", "birth_date", "residence_spans", "residence_districts", "offences"),
    "social_insurance": ("social_insurance_spans", "employed"),
    "human_resources": ("skill_title",),
    "education": ("education",),
    "housing": ("own_home", "rental_spans"),
    "tax": ("income_tax",),
    "civil_affairs": ("honours", "volunteer_service", "charity_donations"),
    "health": ("marrow_donated", "blood_donated_ml", "offences"),
    "credit": ("offences",),
    "market_regulation": ("patents",),
}
# A module owner with registries of its own (the city's modules use the departments' facts only).
OWNER_PATTERN = r"^(district|department):[a-z0-9_-]+$"
