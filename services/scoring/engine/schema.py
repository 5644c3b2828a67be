"""The base of every rule-file model: strict (an unknown field is a fault) and frozen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Names(Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
