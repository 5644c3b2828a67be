"""Verification's request bodies, and the documents its answers are made of."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_core import PydanticCustomError

from shared.documents import document_problem


class Decision(BaseModel):
    """An officer's desk decision (the body of POST .../reviews/{task_id}/decision; `Decision` in the
    published OpenAPI document, so the class keeps that name)."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["confirm", "return", "forged"]
    reason: str | None = Field(
        None,
        max_length=500,
        description="Required to return or to flag forged: the applicant must be able to act on it",
    )
    facts: dict[str, Any] = Field(
        default_factory=dict,
        description="Confirm: the facts the material proves, as the department's registry would give them",
    )

    @model_validator(mode="after")
    def _reasoned(self) -> Decision:
        if self.decision != "confirm" and not (self.reason or "").strip():
            raise PydanticCustomError("decision", "reason: say why, so the applicant can act on it")
        if self.decision != "confirm" and self.facts:
            raise PydanticCustomError("decision", "facts: only a confirmation vouches for facts")
        if problem := document_problem(self.facts):
            raise PydanticCustomError("decision", f"facts: the document {problem}")
        return self


class OwnerSource(BaseModel):
    """A module owner's registry: where its verifier asks for the owner's facts, and with what credential."""

    model_config = ConfigDict(extra="forbid")
    url: AnyHttpUrl = Field(
        description='The registry\'s endpoint: POST {"id_number", "cut_off", "facts": [names]} '
        '→ {"facts": {name: value}}'
    )
    credential: SecretStr = Field(
        min_length=16, max_length=500, description="Sent as `Authorization: Bearer …`; kept as a secret, never shown"
    )


class ReviewTask(BaseModel):
    """A task at a department's review desk: a supplemented item's material, to confirm, return or flag."""

    id: int
    department: str = Field(examples=["housing"])
    application_id: str
    indicator: str = Field(examples=["own_home"])
    state: str = Field(description="pending or decided", examples=["pending"])
    material: dict[str, Any] = Field(description="The material's id, media type, size and SHA-256")
    deadline: date | None = Field(None, description="Decide by this working day (the review deadline)")
    overdue: bool
    decision: dict[str, Any] | None = Field(None, description="The verdict, reason and facts, once decided")
    decided_by: str | None = None
    created_at: datetime
    decided_at: datetime | None = None
    links: dict[str, str]


class ReviewQueue(BaseModel):
    """A page of the desk's queue, oldest first; `next` continues it (null: the last page)."""

    items: list[ReviewTask]
    next: int | None = None


class DepartmentResult(BaseModel):
    """What a department answered for an application: the items asked, the facts found."""

    model_config = ConfigDict(extra="allow")
    application_id: str = Field(examples=["APP-20261126-0001"])
    department: str = Field(examples=["police"])
    items: list[Any] = Field(description="The items the department was asked for")
    facts: dict[str, Any] = Field(description="The facts it reported", examples=[{"permit_status": "valid"}])
    verified_at: str = Field(json_schema_extra={"format": "date-time"})


class AuditCheck(BaseModel):
    """The department's audit hash chain, recomputed and held against its latest anchor."""

    department: str = Field(examples=["police"])
    intact: bool
    entries_checked: int = Field(description="Intact entries, from the first")
    first_broken_entry: int | None = Field(description="The first entry that does not follow from the one before")
    last_entry: int | None = Field(description="The entry the chain ends at")
    anchored_entry: int | None = Field(description="The latest anchor's entry")
    reason: str | None = Field(description="Why it is not intact")


class OwnerSourceView(BaseModel):
    """An owner's registered registry: the credential is never shown, only whether one is set."""

    owner: str = Field(examples=["district:binjiang"])
    url: str = Field(examples=["https://registry.binjiang.example/facts"])
    credential_set: bool
    registered_by: str
    registered_at: str = Field(json_schema_extra={"format": "date-time"})
