"""Request bodies of verification's API."""

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
