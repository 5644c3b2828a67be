"""Intake's request and response documents (the partner contract, in OpenAPI)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from pydantic import Base64Bytes, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from shared import clock
from shared.documents import document_problem
from shared.identity import age_on, id_number_problem
from shared.ranges import BusinessDate


class Applicant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, examples=["张三"])
    id_number: str = Field(description="18-character resident ID number (GB 11643)", examples=["330106199001011234"])
    phone: str = Field(pattern=r"^1\d{10}$", examples=["13800000000"])

    @field_validator("id_number")
    @classmethod
    def _valid_id(cls, v: str) -> str:
        return _valid_id_number(v)


def _valid_id_number(v: str) -> str:
    problem = id_number_problem(v)
    if problem:
        raise ValueError(f"resident ID number {problem}")
    return v.strip().upper()


class FamilyMember(BaseModel):
    """A spouse or child named in an application (settlement: those who move with the holder)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    id_number: str = Field(description="18-character resident ID number (GB 11643)")
    relation: Literal["spouse", "child"]

    _id = field_validator("id_number")(classmethod(lambda cls, v: _valid_id_number(v)))


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    id_number: str = Field(description="18-character resident ID number (GB 11643)")

    _id = field_validator("id_number")(classmethod(lambda cls, v: _valid_id_number(v)))


class Authorisation(BaseModel):
    """An employer's written authorisation, signed by the employee (委托书)."""

    model_config = ConfigDict(extra="forbid")
    signed_on: BusinessDate
    document: Base64Bytes = Field(
        description="The signed letter, base64: PDF, JPEG or PNG (type read from the content)"
    )
    filename: str | None = Field(None, max_length=200)


MODULE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,59}")
INTENT_MODULES = {"settlement": ["settlement"], "school_enrolment": ["school-enrolment"]}
ELDERLY_AGE = 60
MINOR_AGE = 16
RELATIVES = ("parent", "guardian", "spouse", "child", "grandparent", "grandchild", "sibling")


class Delegation(BaseModel):
    """Someone applying for the holder (委托办). An employer (its key names it) shows the holder's written
    authorisation; social insurance then confirms the employment. A guardian or close relative applies
    for a minor under 16, an elderly or a disabled holder; the police household registry confirms the relation."""

    model_config = ConfigDict(extra="forbid")
    relation: Literal["employer", "parent", "guardian", "spouse", "child", "grandparent", "grandchild", "sibling"] = (
        Field(description="What the one acting is to the holder")
    )
    grounds: Literal["employment", "minor", "elderly", "disabled"]
    representative: Person | None = Field(None, description="The relative or guardian who acts (not for employers)")
    authorisation: Authorisation | None = Field(None, description="Employers: the holder's written authorisation")

    @model_validator(mode="after")
    def _consistent(self) -> Delegation:
        if self.relation == "employer":
            if self.grounds != "employment":
                raise PydanticCustomError(
                    "delegation", "delegation.grounds: an employer applies on the grounds of employment"
                )
            if self.authorisation is None:
                raise PydanticCustomError(
                    "delegation", "delegation.authorisation: an employer must show the holder's written authorisation"
                )
            if self.authorisation.signed_on > clock.today():
                raise PydanticCustomError("delegation", "delegation.authorisation.signed_on: cannot be in the future")
            if self.representative is not None:
                raise PydanticCustomError(
                    "delegation",
                    "delegation.representative: an employer acts through its key "
                    "and the written authorisation, not a representative",
                )
        else:
            if self.authorisation is not None:
                raise PydanticCustomError(
                    "delegation",
                    "delegation.authorisation: only an employer shows a written "
                    "authorisation; a relative's relation is checked in the registry",
                )
            if self.grounds == "employment":
                raise PydanticCustomError(
                    "delegation", "delegation.grounds: only an employer applies on the grounds of employment"
                )
            if self.representative is None:
                raise PydanticCustomError(
                    "delegation", "delegation.representative: name the guardian or relative who acts"
                )
            if age_on(self.representative.id_number, clock.today()) < 18:
                raise PydanticCustomError("delegation", "delegation.representative: must be an adult")
        return self


class ApplicationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    applicant: Applicant
    permit_number: str = Field(min_length=6, max_length=40, pattern=r"^[A-Z0-9-]+$", examples=["ZJ330100-000001"])
    intent: Literal["general", "settlement", "school_enrolment"] = "general"
    declared_facts: dict[str, Any] = Field(
        default_factory=dict,
        description="Facts per indicator that no registry holds; leave out what departments look up "
        "(data-sharing first).",
    )
    family: list[FamilyMember] = Field(
        default_factory=list,
        max_length=10,
        description="Settlement: the spouse and minor children who settle with the holder. School enrolment: "
        "exactly one child, under 16 on the application date, who uses the holder's score.",
    )
    delegation: Delegation | None = Field(
        None,
        description="When someone applies for the holder: who, on what grounds and authority (委托办). "
        "Required with an employer's or a guardian's key.",
    )
    consent: bool = Field(description="The applicant consents to the departments' registry look-ups; must be true.")
    modules: list[str] | None = Field(
        None,
        max_length=5,
        description="The X-modules (services) this score is for, e.g. a district's module; by default the one the "
        "intent names (settlement → settlement, school_enrolment → school-enrolment). A round ranks "
        "only those who chose its module.",
    )

    @field_validator("modules")
    @classmethod
    def _module_ids(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return None
        for m in v:
            if not MODULE_ID.fullmatch(m):
                raise ValueError(f"{m[:60]!r} is not a module id (lower-case letters, digits and hyphens)")
        return list(dict.fromkeys(v))

    def chosen_modules(self) -> list[str]:
        return self.modules if self.modules is not None else INTENT_MODULES.get(self.intent, [])

    @field_validator("declared_facts")
    @classmethod
    def _storable(cls, v: dict[str, Any]) -> dict[str, Any]:
        problem = document_problem(v)
        if problem:
            raise ValueError(f"the declared facts {problem}")
        return v

    @field_validator("consent")
    @classmethod
    def _consented(cls, v: bool) -> bool:
        if not v:
            raise ValueError("the applicant must consent to the departments' look-ups before anything is verified")
        return v

    @model_validator(mode="after")
    def _family_fits_intent(self) -> ApplicationRequest:
        today = clock.today()
        children = [m for m in self.family if m.relation == "child"]
        if self.intent == "general" and self.family:
            raise PydanticCustomError(
                "family", "family: only a settlement or school-enrolment application names family"
            )
        if self.intent == "settlement":
            if sum(m.relation == "spouse" for m in self.family) > 1:
                raise PydanticCustomError("family", "family: at most one spouse")
            if any(age_on(c.id_number, today) >= 18 for c in children):
                raise PydanticCustomError(
                    "family", "family: children who settle with the holder must be minors (under 18)"
                )
        if self.intent == "school_enrolment":
            if len(children) != 1 or len(self.family) != 1:
                raise PydanticCustomError("family", "family: a school-enrolment application names exactly one child")
            if age_on(children[0].id_number, today) >= 16:
                raise PydanticCustomError("family", "family: the child must be under 16")
        d = self.delegation
        if d is not None and d.grounds in ("minor", "elderly"):
            age = age_on(self.applicant.id_number, today)
            if d.grounds == "minor" and age >= MINOR_AGE:
                raise PydanticCustomError(
                    "delegation", f"delegation.grounds: the holder is {age}, not a minor under {MINOR_AGE}"
                )
            if d.grounds == "elderly" and age < ELDERLY_AGE:
                raise PydanticCustomError("delegation", f"delegation.grounds: the holder is {age}, under {ELDERLY_AGE}")
        if d is not None and d.representative is not None and d.representative.id_number == self.applicant.id_number:
            raise PydanticCustomError("delegation", "delegation.representative: the holder cannot represent themselves")
        ids = [m.id_number for m in self.family] + [self.applicant.id_number]
        if len(set(ids)) != len(ids):
            raise PydanticCustomError("family", "family: each person may appear once")
        return self


class Item(BaseModel):
    indicator: str
    department: str
    state: Literal["pending", "passed", "in_review", "returned", "not_found", "forged", "overdue", "not_applicable"]
    reason: str | None = None
    supplement_by: date | None = Field(
        None, description="Returned or not found: the last day to upload a supplement; after it the item scores 0"
    )


class Material(BaseModel):
    id: str
    indicator: str
    purpose: Literal["evidence", "supplement", "authorisation"]
    media_type: str
    size: int
    sha256: str
    filename: str | None
    uploaded_at: datetime
    links: dict[str, str]


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
    status: Literal["submitted", "verifying", "scored", "void", "paused", "vetoed", "refused", "withdrawn"]
    intent: str
    modules: list[str] = Field(default_factory=list, description="The X-modules this score is for")
    family: list[FamilyMember] = Field(default_factory=list)
    delegation: dict[str, Any] | None = Field(None, description="Who acted for the holder and on what authority")
    applied_on: date
    cut_off_date: date
    items: list[Item]
    score: ScoreSummary | None = None
    notice_url: str | None = None
    timeline: list[TimelineEntry]
    links: dict[str, str]
    rules_notice: dict[str, Any] | None = Field(None, description="On acceptance: the rules that apply (告知)")


class ApplicationSummary(BaseModel):
    """One line of the partner's list of applications."""

    id: str = Field(examples=["APP-20261126-3F2A9C1B0D4E"])
    status: str = Field(examples=["scored"])
    intent: str = Field(examples=["general"])
    applied_on: date
    score_total: float | None = None
    score_version: int | None = None
    links: dict[str, str]


class ApplicationPage(BaseModel):
    """A page of applications, newest first; `next` is the cursor of the following page (null: the last)."""

    items: list[ApplicationSummary]
    next: str | None = None


class MaterialList(BaseModel):
    items: list[Material]


class Bilingual(BaseModel):
    model_config = ConfigDict(extra="allow")
    zh: str
    en: str


class RulesNotice(BaseModel):
    """What the applicant is told on acceptance (告知): the dates that follow, the rules, the objection right."""

    model_config = ConfigDict(extra="allow")
    cut_off_date: date = Field(description="Facts are counted up to this day")
    review_deadline: str | None = Field(description="The departments' review ends by this day (null: not yet known)")
    result_date: str | None = Field(description="The score can be read from this day (null: not yet known)")
    objection: dict[str, Any] = Field(description="The objection period in working days, and what it means")
    summary: Bilingual
    rule_set: dict[str, Any] | None = Field(description="The rule set in force: id, name, content hash")
    indicators: list[dict[str, Any]] = Field(description="Each indicator, and the department that checks it")
