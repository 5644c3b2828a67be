"""Request bodies of verification's API."""

from __future__ import annotations

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
