"""Scoring's request models (responses are the documents the use cases return)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared import names
from shared.ranges import BusinessDate

MAX_CANDIDATES = 100_000


class EvaluateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    facts: dict[str, Any] = Field(
        description="The holder's facts, as departments report them (see the README)",
        examples=[
            {
                "permit_status": "valid",
                "birth_date": "1990-05-01",
                "education": ["bachelor"],
                "residence_spans": [{"start": "2015-03-01", "end": None}],
            }
        ],
    )
    application_date: BusinessDate | None = Field(
        None, description="Defaults to today; the cut-off date follows from it"
    )
    acceptance_opens: BusinessDate | None = Field(
        None, description="For a yearly round: when its acceptance period opens"
    )
    rule_set_id: str | None = Field(None, description="Defaults to the rule set in force on the cut-off date")


class Candidate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=100)
    facts: dict[str, Any] | None = None
    parents: list[dict[str, Any]] | None = Field(
        None, min_length=1, max_length=2, description="For a child: each parent's facts"
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Candidate:
        if (self.facts is None) == (self.parents is None):
            raise ValueError("give either facts (a holder) or parents (a child)")
        return self


class RankRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    candidates: list[Candidate] = Field(min_length=1, max_length=MAX_CANDIDATES)
    application_date: BusinessDate | None = None
    acceptance_opens: BusinessDate | None = None
    threshold: float | None = Field(None, description="This round's published line, if not the module's")
    quota: int | None = Field(None, ge=1, description="Places in this round (e.g. one school district's)")


class ExplanationLine(BaseModel):
    """One indicator of a score: the fact, where it came from, and the points it gave."""

    model_config = ConfigDict(extra="allow")
    indicator: str = Field(examples=["residence_years"])
    category: str = Field(examples=["basic"])
    name_zh: str | None = Field(None, examples=["居住年限"])
    name_en: str | None = Field(None, examples=["Years of residence"])
    fact: str | None = Field(None, examples=["residence_spans"])
    fact_value: Any = Field(None, description="The measured fact (with the category counted, for highest-of lines)")
    department: str | None = Field(None, examples=["police"])
    raw_points: float | None = None
    cap: float | None = None
    points: float = Field(description="What counts toward the total")
    rule: str | None = Field(None, description="The rule in words and numbers", examples=["每满1年计5分，最高100分"])
    window: dict[str, str] | None = Field(
        None, description="The look-back window the line counts in: from (counted) and to_before (not counted)"
    )
    records: list[dict[str, Any]] | None = Field(
        None, description="Every record behind the line: what of it counted, or why it was left out"
    )
    summary_zh: str | None = Field(None, description="The line as one sentence a holder can check")


class Explanation(BaseModel):
    """A score line by line (a department sees its own lines only, and no totals)."""

    model_config = ConfigDict(extra="allow")
    lines: list[ExplanationLine]
    status: str | None = Field(None, description="scored, vetoed, paused or void")
    reason: str | None = None
    total: float | None = None
    categories: dict[str, float] | None = Field(None, description="Points per category: basic, bonus, deduction")


class RuleSetRef(BaseModel):
    id: str = Field(examples=["hangzhou-2021"])
    hash: str = Field(description="The rule set's content hash (SHA-256)")


class Determination(BaseModel):
    """What a score was made of, by hash: recompute it with `python -m services.scoring.recompute`."""

    id: str | None = Field(None, description="sha256 over the answers, rule texts, cut-off, rules date and engine")
    engine_version: str | None = Field(None, examples=["2026.11.1"])
    module_hashes: dict[str, str] = Field(
        default_factory=dict, description="Each X-module in force, by its text's hash (GET /v1/modules/{id}/source)"
    )


class Score(BaseModel):
    """An application's score under one rule set, explained (one immutable version)."""

    application_id: str = Field(examples=["APP-20261126-0001"])
    version: int = Field(examples=[1])
    versions: list[int] | None = Field(None, description="Every version's number, oldest first (latest only)")
    status: str | None = Field(None, description="scored, vetoed, paused or void (not shown to a department)")
    total: float | None = Field(None, examples=[112.5])
    rule_set: RuleSetRef
    determination: Determination | None = None
    cut_off_date: date
    computed_at: datetime
    departments: list[str] | None = Field(None, description="For a department: whose lines these are")
    explanation: Explanation


class RuleSetSummary(BaseModel):
    """A rule set as listed: which, in force when, its content hash (the full text: GET /v1/rule-sets/{id})."""

    id: str = Field(examples=["hangzhou-2021"])
    state: str = Field(description="published or draft", examples=["published"])
    name: dict[str, str] = Field(
        description="In Chinese and English", examples=[{"zh": "杭州市积分指标体系", "en": "Hangzhou"}]
    )
    effective_from: date
    effective_to: date | None = None
    content_hash: str = Field(description="SHA-256 of the rule set's content")
    indicators: int = Field(description="How many indicators it has")
    uploaded_by: str | None = Field(None, description="A draft's uploader")
    uploaded_at: datetime | None = Field(None, description="When a draft was uploaded")


def _one_of(table: dict[str, Any], what: str):
    def check(value: str | None) -> str | None:
        if value is not None and value not in table:
            raise ValueError(f"{what}: one of {', '.join(table)}")
        return value

    return check


class EstimateRequest(BaseModel):
    """What a holder knows about themselves (模拟积分): no name, no ID number, nothing kept."""

    model_config = ConfigDict(extra="forbid")
    birth_date: BusinessDate
    education: str | None = Field(None, description="Highest education: " + ", ".join(names.EDUCATION_LEVELS))
    skill_title: str | None = Field(None, description="Highest title or skill level: " + ", ".join(names.SKILL_LEVELS))
    employed: bool = False
    insurance_months: int = Field(0, ge=0, le=720, description="Months of social insurance paid in the city")
    residence_years: int = Field(0, ge=0, le=80, description="Full years of residence registration in the city")
    own_home: bool = False
    rental_years: int = Field(0, ge=0, le=80, description="Full years on a registered lease")
    volunteer_hours: float = Field(0, ge=0, le=100_000, description="Registered volunteer hours, last five years")
    charity_yuan: float = Field(0, ge=0, le=1e9, description="Donations to recognised charities, last five years")
    income_tax_yuan: float = Field(0, ge=0, le=1e9, description="Income tax paid in the city, last five years")
    investment_tax_yuan: float = Field(
        0, ge=0, le=1e10, description="City tax paid a year by the enterprises one invested in (last three years' mean)"
    )
    blood_donated_ml: float = Field(0, ge=0, le=100_000)
    marrow_donated: bool = False
    honours: list[str] = Field(default_factory=list, max_length=20, description="One level per matter honoured")
    patents: list[str] = Field(default_factory=list, max_length=50, description="One inventor role per patent")
    offences: list[str] = Field(default_factory=list, max_length=8, description="Cases in the last five years")
    application_date: BusinessDate | None = Field(None, description="Defaults to today")

    _education = field_validator("education")(_one_of(names.EDUCATION_LEVELS, "education"))
    _skill = field_validator("skill_title")(_one_of(names.SKILL_LEVELS, "skill_title"))

    @field_validator("honours", "patents", "offences")
    @classmethod
    def _levels(cls, v: list[str], info: Any) -> list[str]:
        table = {"honours": names.HONOUR_LEVELS, "patents": names.PATENT_ROLES, "offences": names.OFFENCES}
        for item in v:
            _one_of(table[info.field_name], info.field_name)(item)
        return v if info.field_name != "offences" else list(dict.fromkeys(v))
