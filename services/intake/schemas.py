"""Intake's request and response documents (the partner contract, in OpenAPI)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.identity import id_number_problem


class Applicant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, examples=["张三"])
    id_number: str = Field(description="18-character resident ID number (GB 11643)", examples=["330106199001011234"])
    phone: str = Field(pattern=r"^1\d{10}$", examples=["13800000000"])

    @field_validator("id_number")
    @classmethod
    def _valid_id(cls, v: str) -> str:
        problem = id_number_problem(v)
        if problem:
            raise ValueError(f"resident ID number {problem}")
        return v.strip().upper()


class ApplicationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    applicant: Applicant
    permit_number: str = Field(min_length=6, max_length=40, pattern=r"^[A-Z0-9-]+$", examples=["ZJ330100-000001"])
    intent: Literal["general", "settlement", "school_enrolment"] = "general"
    declared_facts: dict[str, Any] = Field(
        default_factory=dict,
        description="Facts per indicator that no registry holds; leave out what departments look up (data-sharing first).",
    )
    consent: bool = Field(description="The applicant consents to the departments' registry look-ups; must be true.")

    @field_validator("consent")
    @classmethod
    def _consented(cls, v: bool) -> bool:
        if not v:
            raise ValueError("the applicant must consent to the departments' look-ups before anything is verified")
        return v


class Item(BaseModel):
    indicator: str
    department: str
    state: Literal["pending", "passed", "in_review", "returned", "not_found", "not_applicable"]
    reason: str | None = None


class ScoreSummary(BaseModel):
    version: int
    status: str
    total: float | None
    rule_set_id: str | None
    explanation_url: str


class TimelineEntry(BaseModel):
    at: datetime
    event_type: str
    source: str
    summary: dict[str, Any]


class ApplicationView(BaseModel):
    id: str
    status: Literal["submitted", "verifying", "scored", "void", "paused", "vetoed", "withdrawn"]
    intent: str
    applied_on: date
    cut_off_date: date
    items: list[Item]
    score: ScoreSummary | None = None
    notice_url: str | None = None
    timeline: list[TimelineEntry]
    links: dict[str, str]
    rules_notice: dict[str, Any] | None = Field(None, description="On acceptance: the rules that apply (告知)")
