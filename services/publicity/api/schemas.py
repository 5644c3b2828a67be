"""Publicity's request models, and the documents its answers are made of (masked data only)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from services.publicity import domain
from shared import names
from shared.ranges import BusinessDate


class RoundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    module_id: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]*$")
    acceptance_opens: BusinessDate
    acceptance_closes: BusinessDate
    cut_off_date: BusinessDate | None = Field(
        None, description="Facts count up to this day; by default the first day of the month before acceptance opens"
    )
    quota: int | None = Field(None, ge=1, le=10_000_000)
    threshold: float | None = Field(None, ge=0, le=100_000)
    notice_working_days: int = Field(7, ge=1, le=30)

    @model_validator(mode="after")
    def _coherent(self) -> RoundRequest:
        if self.acceptance_closes < self.acceptance_opens:
            raise PydanticCustomError("round", "acceptance_closes: the acceptance period closes before it opens")
        if self.quota is None and self.threshold is None:
            raise PydanticCustomError("round", "quota: give a quota, a threshold or both")
        return self


class _Challenge(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    items: list[str] = Field(min_length=1, max_length=10, description="The indicators whose facts are in doubt")
    reason: str = Field(min_length=5, max_length=500, description="What is wrong, in a few sentences")

    @field_validator("items")
    @classmethod
    def _items(cls, v: list[str]) -> list[str]:
        for item in v:
            # An indicator id, or a module owner's item: `<module id>/<indicator id>`.
            module, _, indicator = item.rpartition("/")
            if (
                not (1 <= len(item) <= 60)
                or not indicator
                or not all(c.islower() or c.isdigit() or c == "_" for c in indicator)
                or not all(c.islower() or c.isdigit() or c == "-" for c in module)
                or ("/" in item and not module)
            ):
                raise ValueError(f"{item[:60]!r} is not an indicator id")
        return list(dict.fromkeys(v))


class ObjectionRequest(_Challenge):
    round_id: str | None = Field(None, max_length=40)
    entry: int | None = Field(None, ge=1, description="The entry number on the list (with round_id)")
    notice_id: str | None = Field(None, max_length=40, description="Or: a score's public notice")
    contact_phone: str | None = Field(None, pattern=r"^1\d{10}$", description="For the reply; never published")

    @model_validator(mode="after")
    def _one_target(self) -> ObjectionRequest:
        if (self.round_id is None) != (self.entry is None):
            raise PydanticCustomError("target", "entry: a list entry is named by round_id and entry together")
        if (self.round_id is None) == (self.notice_id is None):
            raise PydanticCustomError(
                "target", "round_id: name either a list entry (round_id and entry) or a notice (notice_id)"
            )
        return self


class ReviewRequest(_Challenge):
    application_id: str = Field(min_length=1, max_length=40)
    id_number: str = Field(min_length=15, max_length=18, description="The holder's, to show the score is their own")


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    outcome: str = Field(min_length=2, max_length=1000)


def public_lines_doc(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """A score's lines as the public sees them: sensitive deductions only as their total."""
    shown, deductions = domain.public_view(lines)
    may_object = {line["indicator"] for line in domain.objectable(shown)}
    return {
        "lines": [
            {
                **line,
                "category_zh": names.zh(names.CATEGORIES, line["category"]),
                "objectable": line["indicator"] in may_object,
            }
            for line in shown
        ],
        "deductions_total": deductions,
    }


def notice_doc(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "application_id": row.application_id,
        "score_version": row.score_version,
        "current": row.current,
        "holder": row.holder_name_masked,
        "id_number": row.id_number_masked,
        "total": row.total,
        "categories": row.categories,
        **public_lines_doc(row.lines),
        "rule_set_id": row.rule_set_id,
        "period_start": row.period_start.isoformat(),
        "period_end": row.period_end.isoformat(),
        "published_at": row.published_at.isoformat(),
    }


def round_doc(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "module_id": r.module_id,
        "owner": r.owner,
        "candidate": r.candidate,
        "name": r.name,
        "tie_breakers": r.tie_breakers,
        "acceptance_opens": r.acceptance_opens.isoformat(),
        "acceptance_closes": r.acceptance_closes.isoformat(),
        "cut_off_date": r.cut_off_date.isoformat(),
        "quota": r.quota,
        "threshold": r.threshold,
        "notice_working_days": r.notice_working_days,
        "status": r.status,
        "list_version": r.list_version,
        "entries": r.entries,
        "admitted": r.admitted,
        "notice_start": r.notice_start.isoformat() if r.notice_start else None,
        "notice_end": r.notice_end.isoformat() if r.notice_end else None,
        "finalized_at": r.finalized_at.isoformat() if r.finalized_at else None,
        "rescored_at_cut_off": bool(getattr(r, "rescored", False)),
        "links": {"entries": f"/v1/rounds/{r.id}/entries", "page": f"/rounds/{r.id}"},
    }


def entry_doc(e: Any) -> dict[str, Any]:
    return {
        "entry": e.seq,
        "rank": e.rank,
        "name": e.name_masked,
        "id_number": e.id_masked,
        "score": e.score,
        "admitted": e.admitted,
    }


def history_doc(h: Any) -> dict[str, Any]:
    return {"superseded_in_version": h.version, "rank": h.rank, "score": h.score, "admitted": h.admitted}


def objection_doc(row: Any) -> dict[str, Any]:
    """An objection as its receipt shows it: no contact, no client address."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    return {
        "id": get("id"),
        "kind": get("kind"),
        "status": get("status"),
        "round_id": get("round_id"),
        "entry": get("seq"),
        "notice_id": get("notice_id"),
        "items": get("items"),
        "due_by": get("due_by").isoformat(),
        "lodged_at": get("lodged_at").isoformat(),
        "outcome": get("outcome"),
        "score_before": get("score_before"),
        "score_after": get("score_after"),
    }


class ObjectionReceipt(BaseModel):
    """The receipt an objector or holder gets (the document `objection_doc` makes): no contact, no address."""

    id: str = Field(examples=["OBJ-20261130-7f3a9c"])
    kind: str = Field(description="`objection` (anyone) or `review` (the holder's 复核)", examples=["objection"])
    status: str = Field(examples=["open"])
    round_id: str | None = None
    entry: int | None = Field(None, description="The list entry objected to (with round_id)")
    notice_id: str | None = None
    items: list[str] = Field(description="The indicators whose facts are in doubt", examples=[["residence_years"]])
    due_by: date = Field(description="The answer is due by this working day")
    lodged_at: datetime
    outcome: str | None = None
    score_before: float | None = None
    score_after: float | None = None


class Notice(BaseModel):
    """A score's public notice (公示): masked name and ID number, the score line by line."""

    id: str = Field(examples=["NTC-20261130-0001"])
    application_id: str
    score_version: int
    current: bool = Field(description="The application's current notice (false: superseded by a later version)")
    holder: str = Field(description="The name, masked", examples=["李*"])
    id_number: str = Field(description="The ID number, masked", examples=["330106********0019"])
    total: float
    categories: dict[str, float] = Field(description="Points per category: basic, bonus, deduction")
    lines: list[dict[str, Any]] = Field(
        description="Each indicator's points as the public sees them (sensitive deductions only in deductions_total)"
    )
    deductions_total: float = Field(description="The deductions, as one total: the public sees no deduction itemised")
    rule_set_id: str = Field(examples=["hangzhou-2021"])
    period_start: date = Field(description="The notice period's first working day")
    period_end: date = Field(description="Its last: objections are taken until then")
    published_at: datetime


class Round(BaseModel):
    """A round of an X-module: acceptance, ranking, the notice of its list, then the final list."""

    id: str = Field(examples=["RND-20261130-0001"])
    module_id: str = Field(examples=["binjiang-talent"])
    owner: str = Field(description="The principal that owns the module", examples=["module:district:binjiang"])
    candidate: str = Field(description="`holder`, or `child` (ranked by the better parent)")
    name: Any = Field(description="The module's name, as the module gives it")
    tie_breakers: list[Any]
    acceptance_opens: date
    acceptance_closes: date
    cut_off_date: date
    quota: int | None = None
    threshold: float | None = None
    notice_working_days: int
    status: str = Field(
        description="accepting, scoring (closed: candidates being re-scored at the cut-off), notice or final",
        examples=["accepting"],
    )
    list_version: int
    entries: int
    admitted: int
    notice_start: date | None = None
    notice_end: date | None = None
    finalized_at: datetime | None = None
    rescored_at_cut_off: bool = Field(
        False,
        description="Every candidate on the list was re-scored from their verified facts at the round's cut-off "
        "(under the rules in force on the round's opening), not ranked by the score of their own application",
    )
    links: dict[str, str]


class Entry(BaseModel):
    """One line of a round's list, masked (`entry_doc`)."""

    entry: int = Field(description="The entry's number in the round", examples=[7])
    rank: int | None = Field(examples=[3])
    name: str = Field(description="The name, masked", examples=["李*"])
    id_number: str = Field(description="The ID number, masked", examples=["330106********0019"])
    score: float | int | None = Field(examples=[112.5])
    admitted: bool | None


class Candidate(Entry):
    """An entry with its application: for scoring's replays only (scope rounds:candidates)."""

    application_id: str = Field(examples=["APP-20261130-3F2A1B9C0D4E"])


class RoundCandidates(BaseModel):
    """A round and its whole list, with each entry's application, best first."""

    round: Round
    candidates: list[Candidate]


class AdmittedEntry(BaseModel):
    """One admitted candidate of a final list, for the module's owner (who grants the service)."""

    rank: int = Field(examples=[3])
    entry: int = Field(description="The entry's number in the round", examples=[7])
    application_id: str = Field(examples=["APP-20261130-3F2A1B9C0D4E"])
    name: str = Field(description="The candidate's name, masked as the list shows it", examples=["李*"])
    id_number: str = Field(description="The candidate's ID number, masked", examples=["330106********0019"])
    score: float | int = Field(examples=[112.5])


class AdmittedPage(BaseModel):
    """A page of a final list's admitted candidates, best first; `next_after` asks for the next page
    (null: the last)."""

    round_id: str = Field(examples=["RND-20261130-0001"])
    list_version: int = Field(description="The final list's version, as round.finalized named it", examples=[2])
    admitted: int = Field(description="How many the list admits, in all pages", examples=[20000])
    items: list[AdmittedEntry]
    next_after: int | None = Field(examples=[1000])


class EntriesPage(BaseModel):
    """A page of a round's list, best first; `next_after` asks for the next page (null: the last)."""

    round_id: str = Field(examples=["RND-20261130-0001"])
    items: list[Entry]
    next_after: int | None = Field(examples=[20])


class EntryChange(BaseModel):
    """An entry as an earlier publication of the list showed it."""

    superseded_in_version: int
    rank: int | None
    score: float | int | None
    admitted: bool | None


class EntryDetail(Entry):
    """One entry with its round, its score's public lines and how it changed between publications."""

    model_config = ConfigDict(extra="allow")
    round: Round
    lines: list[dict[str, Any]] = Field(description="Each indicator's points (sensitive deductions only as a total)")
    deductions_total: float | int = Field(description="The sensitive deductions, as one figure")
    history: list[EntryChange]


class ListVersion(BaseModel):
    """A publication of a round's list: when, why, and how many entries changed."""

    version: int = Field(examples=[2])
    published_at: str = Field(json_schema_extra={"format": "date-time"})
    reason: str | None = Field(examples=["objection OBJ-20261130-7f3a9c upheld"])
    changed: int | None = Field(description="Entries that changed")


class DeskObjection(ObjectionReceipt):
    """An objection or review on the officers' desk: the receipt, with what an officer needs."""

    application_id: str | None
    reason: str | None
    pending_departments: list[str] | None = Field(description="Departments still to re-verify")
    overdue: bool
