"""hangzhou-2021 as OpenFisca variables: per-person facts in, points out, on the cut-off day.

The item lists (spans, donations, honours, offences) come in as the per-person aggregates an
OpenFisca model takes as input (inputs.py derives them from the population file); every
number of the rules (points, units, caps, age brackets) is a dated parameter.
"""

from __future__ import annotations

import numpy as np
from openfisca_core.model_api import DAY, Enum, Variable, date, max_, min_, select, where

from bench.openfisca_hangzhou.entities import Person


class PermitStatus(Enum):
    valid = "Valid"
    suspended = "Suspended"
    terminated = "Terminated"
    expired = "Expired"
    mismatch = "Mismatch"
    not_found = "Not found"
    other = "A state the rules do not name"


class Education(Enum):
    none = "None on record"
    high_school = "High school"
    secondary_vocational = "Secondary vocational"
    junior_college = "Junior college"
    bachelor = "Bachelor"
    master = "Master"
    doctorate = "Doctorate"


class SkillTitle(Enum):
    none = "None on record"
    senior_worker = "Senior worker"
    technician = "Technician"
    senior_technician = "Senior technician"
    intermediate_title = "Intermediate title"
    deputy_senior_title = "Deputy senior title"
    senior_title = "Senior title"


DEDUCTION_CASES = ("criminal", "drug_rehab", "detention", "custody_education", "dishonesty", "family_planning")
HONOUR_LEVELS = ("national", "provincial", "city", "district")
PATENT_ROLES = ("first_inventor", "other_inventor", "transferred_in")


def _input(name: str, value_type: type, label: str, **extra: object) -> type[Variable]:
    """An input variable of a person, on the cut-off day."""
    attrs = {"value_type": value_type, "entity": Person, "definition_period": DAY, "label": label, **extra}
    return type(name, (Variable,), attrs)


def _units(value: np.ndarray, unit: float) -> np.ndarray:
    return np.floor(value / unit + 1e-9)


INPUTS = [
    _input(
        "permit_status",
        Enum,
        "State of the residence permit",
        possible_values=PermitStatus,
        default_value=PermitStatus.not_found,
    ),
    _input("birth_date", date, "Birth date (unknown: after any cut-off)", default_value=date(9999, 12, 31)),
    _input("education", Enum, "Highest education", possible_values=Education, default_value=Education.none),
    _input(
        "skill_title", Enum, "Highest title or skill level", possible_values=SkillTitle, default_value=SkillTitle.none
    ),
    _input("employed", bool, "In lawful stable employment"),
    _input("own_home", bool, "Owns a home in the city"),
    _input("marrow_donated", bool, "Donated bone marrow (stem cells)"),
    _input("blood_donated_ml", float, "Whole blood donated in the city (ml)"),
    _input("residence_days", int, "Days of residence registration before the cut-off (overlaps once)"),
    _input("rental_days", int, "Days of registered rental before the cut-off (overlaps once)"),
    _input("social_insurance_months", int, "Months of pension or medical insurance paid before the cut-off month"),
    _input("volunteer_hours", float, "Volunteer hours in the look-back"),
    _input("charity_yuan", float, "Donations to recognised charities in the look-back (yuan)"),
    _input("income_tax_yuan", float, "Income tax paid in the city in the look-back (yuan)"),
    _input("investment_tax_yuan", float, "City tax of the holder's enterprises over the averaged full years"),
    _input("vetoing_cases", int, "Serious crimes or banned organisations on record (any time)"),
    *[_input(f"honour_matters_{lv}", int, f"Honour matters whose highest level is {lv}") for lv in HONOUR_LEVELS],
    *[_input(f"patents_{role}", int, f"Invention patents with role {role}") for role in PATENT_ROLES],
    *[
        _input(f"cases_{c}", int, f"Cases of {c} in the look-back (one act once, at the largest)")
        for c in DEDUCTION_CASES
    ],
]


class age(Variable):
    value_type = int
    entity = Person
    definition_period = DAY
    label = "Completed years of age on the cut-off day (-1: unknown)"

    def formula(person, period, parameters):
        birth = person("birth_date", period)
        day = np.datetime64(period.start.date, "D")
        (by, bm, bd), (cy, cm, cd) = _ymd(birth), _ymd(day)
        # A birthday later in the calendar year than the cut-off day has not come yet.
        not_yet = (bm > cm) | ((bm == cm) & (bd > cd))
        return where(birth > day, -1, cy - by - not_yet)


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    return (
        years.astype(int) + 1970,
        months.astype(int) - (years.astype(int) * 12),
        (days - months.astype("datetime64[D]")).astype(int),
    )


class age_points(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    label = "Points for age"

    def formula(person, period, parameters):
        a = person("age", period)
        p = parameters(period).age
        return select(
            [a < 0, a <= p.young_max, a <= p.middle_max, a <= p.older_max],
            [0, p.young_points, p.middle_points + p.middle_slope * (p.middle_max - a), p.older_points],
            default=0,
        )


class education_points(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    label = "Points for the highest education"

    def formula(person, period, parameters):
        return parameters(period).education[person("education", period)]


class skill_title_points(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    label = "Points for the highest title or skill level"

    def formula(person, period, parameters):
        return parameters(period).skill_title[person("skill_title", period)]


class employment_points(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    label = "Points for lawful stable employment"

    def formula(person, period, parameters):
        return person("employed", period) * parameters(period).flags.employment


class social_insurance_points(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    label = "Points for months of social insurance"

    def formula(person, period, parameters):
        p = parameters(period).per_unit
        return min_(person("social_insurance_months", period) * p.social_insurance_per_month, p.social_insurance_cap)


def _years(days: np.ndarray) -> np.ndarray:
    """Full years in a number of days: 30 days a month, 12 months a year (the rules' counting)."""
    return (days // 30) // 12


class residence_points(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    label = "Points for years of residence registration"

    def formula(person, period, parameters):
        p = parameters(period).per_unit
        return min_(_years(person("residence_days", period)) * p.residence_per_year, p.residence_cap)


class housing_points(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    label = "Points for housing: an own home or years of registered rental, whichever is more"

    def formula(person, period, parameters):
        p = parameters(period)
        rental = min_(_years(person("rental_days", period)) * p.per_unit.rental_per_year, p.per_unit.rental_cap)
        return max_(person("own_home", period) * p.flags.own_home, rental)


class honours_points(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    label = "Points for honours (each matter at its highest level)"

    def formula(person, period, parameters):
        p = parameters(period).honours
        return sum(person(f"honour_matters_{lv}", period) * p[lv] for lv in HONOUR_LEVELS)


class marrow_points(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    label = "Points for a bone-marrow donation"

    def formula(person, period, parameters):
        return person("marrow_donated", period) * parameters(period).flags.marrow_donation


class blood_points(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    label = "Points for whole blood donated"

    def formula(person, period, parameters):
        p = parameters(period).blood
        ml = person("blood_donated_ml", period)
        above = p.base + _units(ml - p.threshold_ml, p.unit_ml) * p.per_unit
        return where(ml >= p.threshold_ml, min_(above, p.cap), 0)


def _per_unit(amount: np.ndarray, unit: float, points: float, cap: float) -> np.ndarray:
    return min_(_units(amount, unit) * points, cap)


class volunteering_points(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    label = "Points for volunteer hours in the look-back"

    def formula(person, period, parameters):
        p = parameters(period).per_unit
        return _per_unit(
            person("volunteer_hours", period), p.volunteering_unit, p.volunteering_per_unit, p.volunteering_cap
        )


class charity_points(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    label = "Points for charity donations in the look-back"

    def formula(person, period, parameters):
        p = parameters(period).per_unit
        return _per_unit(person("charity_yuan", period), p.charity_unit, p.charity_per_unit, p.charity_cap)


class tax_points(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    label = "Points for income tax in the look-back"

    def formula(person, period, parameters):
        p = parameters(period).per_unit
        return _per_unit(person("income_tax_yuan", period), p.tax_unit, p.tax_per_unit, p.tax_cap)


class patents_points(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    label = "Points for invention patents"

    def formula(person, period, parameters):
        p = parameters(period).patents
        return sum(person(f"patents_{role}", period) * p[role] for role in PATENT_ROLES)


class investment_points(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    label = "Points for the mean yearly city tax of the holder's enterprises"

    def formula(person, period, parameters):
        p = parameters(period).per_unit
        mean = person("investment_tax_yuan", period) / p.investment_years
        return _per_unit(mean, p.investment_unit, p.investment_per_unit, p.investment_cap)


class deduction_points(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    label = "Points deducted for cases in the look-back"

    def formula(person, period, parameters):
        p = parameters(period).deductions
        return sum(person(f"cases_{c}", period) * p[c] for c in DEDUCTION_CASES)


class scored(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY
    label = "Scored at all: a valid permit and nothing that vetoes"

    def formula(person, period, parameters):
        valid = person("permit_status", period) == PermitStatus.valid
        return valid & (person("vetoing_cases", period) == 0)


POINTS = [
    "age_points",
    "education_points",
    "skill_title_points",
    "employment_points",
    "social_insurance_points",
    "residence_points",
    "housing_points",
    "honours_points",
    "marrow_points",
    "blood_points",
    "volunteering_points",
    "charity_points",
    "tax_points",
    "patents_points",
    "investment_points",
    "deduction_points",
]


class total_points(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    label = "Total points (0 unless scored)"

    def formula(person, period, parameters):
        return where(person("scored", period), sum(person(v, period) for v in POINTS), 0)


FORMULAS = [
    age,
    age_points,
    education_points,
    skill_title_points,
    employment_points,
    social_insurance_points,
    residence_points,
    housing_points,
    honours_points,
    marrow_points,
    blood_points,
    volunteering_points,
    charity_points,
    tax_points,
    patents_points,
    investment_points,
    deduction_points,
    scored,
    total_points,
]
