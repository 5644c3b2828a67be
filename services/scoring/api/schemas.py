"""Scoring's request models (responses are the documents the use cases return)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
