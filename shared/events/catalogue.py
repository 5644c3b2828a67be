"""Versioned payloads of every event type, and the topic each one travels on.

Adding a field with a default is a compatible change; anything else is a new version,
registered beside the old one so consumers can read both during a rollout.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.events.envelope import Envelope, EventParseError

APPLICATIONS = "points.applications"
VERIFICATIONS = "points.verifications"
SCORES = "points.scores"
NOTICES = "points.notices"
AUDIT = "points.audit"
TOPICS = [APPLICATIONS, VERIFICATIONS, SCORES, NOTICES, AUDIT]

Department = Literal["police", "social_insurance", "human_resources", "education", "housing", "tax", "civil_affairs",
                     "health", "credit", "market_regulation"]
# overdue: the department had not answered by the review deadline; the item scores 0 until it does.
ItemState = Literal["passed", "in_review", "returned", "not_found", "forged", "overdue"]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Holder(_Payload):
    name: str
    id_number: str
    permit_number: str


class ApplicationSubmitted(_Payload):
    application_id: str
    holder: Holder
    intent: str = "general"
    applied_on: date
    cut_off_date: date
    expected_departments: list[Department]
    declared_facts: dict[str, Any] = Field(default_factory=dict)
    # Settlement: spouse and minor children; school enrolment: the child. [{name, id_number, relation}]
    family: list[dict[str, Any]] = Field(default_factory=list)
    # Delegated applications (委托办): who acted for the holder and on what authority, for the
    # departments to verify: {relation, grounds, representative?, employer_credit_code?, authority}.
    delegation: dict[str, Any] | None = None
    # The X-modules (services) the holder applies to with this score, e.g. ["school-enrolment"].
    modules: list[str] = Field(default_factory=list)
    # Where the holder is told of the score (publicity's notifications); never shown in public.
    contact_phone: str | None = None
    # The partner (principal name) that submitted it: keys are per service, names are shared, so
    # scoring shows the score to this partner. Absent on events written before it was added.
    principal: str | None = None


class MaterialRef(_Payload):
    """A stored material, by reference: the bytes stay in intake, readable with a department's key."""
    id: str
    media_type: str
    size: int
    sha256: str
    url: str


class MaterialAdded(_Payload):
    """A material uploaded for an item; `supplement` when it answers a returned item before its deadline."""
    application_id: str
    indicator: str
    department: str
    material: MaterialRef
    supplement: bool
    supplement_deadline: date | None = None
    added_at: datetime


class ApplicationWithdrawn(_Payload):
    application_id: str
    withdrawn_at: datetime
    principal: str


class VerifiedItem(_Payload):
    indicator: str
    state: ItemState
    reason: str | None = None
    # What the applicant declared, when the registry says otherwise: the registry's value counts.
    declared: Any = None


class VerificationCompleted(_Payload):
    application_id: str
    department: Department
    expected_departments: list[Department]
    cut_off_date: date
    holder: Holder
    items: list[VerifiedItem]
    facts: dict[str, Any]
    verified_at: datetime
    # The application's acceptance date: its review deadline runs from it.
    applied_on: date | None = None
    # Set when this answers a re-verification request (an objection or a review): its id.
    in_answer_to: str | None = None


class ScoreLine(_Payload):
    indicator: str
    category: str
    name_zh: str
    name_en: str
    fact_value: Any = None
    department: str | None = None
    raw_points: float
    cap: float | None = None
    points: float


class ModuleScore(_Payload):
    total: float
    module_points: float
    eligible: bool
    # Compared as a list, larger first: the total, then each tie-breaker in the module's order.
    sort_key: list[float]


class ScoreComputed(_Payload):
    application_id: str
    score_version: int
    holder: Holder
    # refused: the delegation it was made under could not be verified (nothing is scored, nobody is barred)
    status: Literal["scored", "void", "paused", "vetoed", "refused"]
    reason: str | None = None
    # Forged materials: no new application before this date.
    barred_until: date | None = None
    rule_set_id: str
    rule_set_hash: str
    cut_off_date: date
    total: float
    categories: dict[str, float]
    lines: list[ScoreLine]
    computed_at: datetime
    # Per X-module in force: the module's total and the keys it ranks by, for publicity's rounds.
    modules: dict[str, ModuleScore] = Field(default_factory=dict)
    # The re-verification requests whose answers this version takes in: [{request_id, department}].
    answers_to: list[dict[str, str]] = Field(default_factory=list)


class ReverificationRequested(_Payload):
    """An objection to a published score: the departments owning these items look them up again."""
    application_id: str
    # The objection's or review's id: the departments' answers carry it back (in_answer_to).
    request_id: str | None = None
    items: list[str]
    reason: str
    requested_by: str
    requested_at: datetime


class NoticePublished(_Payload):
    notice_id: str
    application_id: str
    score_version: int
    total: float
    status: str
    url: str
    period_start: date
    period_end: date


class AdmittedEntry(_Payload):
    rank: int
    application_id: str
    candidate_name_masked: str
    candidate_id_number_masked: str
    score: float


class RoundFinalized(_Payload):
    """A round's list is final: the module owner's systems grant the service to those admitted."""
    round_id: str
    module_id: str
    owner: str
    list_version: int
    notice_end: date
    finalized_at: datetime
    entries: int
    admitted: list[AdmittedEntry]


class AuditChainAnchored(_Payload):
    """A department's audit chain head, published daily: a copy outside the database, so a chain cut
    short later (even by someone who may change the database) shows against it."""
    department: Department
    entry_id: int  # the chain's last entry when anchored
    hash: str  # that entry's hash, which covers every entry before it
    anchored_at: datetime


# (type, version) -> (payload model, topic)
CATALOGUE: dict[tuple[str, int], tuple[type[_Payload], str]] = {
    ("application.submitted", 1): (ApplicationSubmitted, APPLICATIONS),
    ("application.withdrawn", 1): (ApplicationWithdrawn, APPLICATIONS),
    ("application.material_added", 1): (MaterialAdded, APPLICATIONS),
    ("verification.completed", 1): (VerificationCompleted, VERIFICATIONS),
    ("score.computed", 1): (ScoreComputed, SCORES),
    ("notice.published", 1): (NoticePublished, NOTICES),
    ("reverification.requested", 1): (ReverificationRequested, NOTICES),
    ("round.finalized", 1): (RoundFinalized, NOTICES),
    ("audit.chain_anchored", 1): (AuditChainAnchored, AUDIT),
}
_BY_MODEL = {model: key for key, (model, _topic) in CATALOGUE.items()}


def type_of(model: type[BaseModel]) -> tuple[str, int]:
    return _BY_MODEL[model]


def topic_of(event: Envelope) -> str:
    return CATALOGUE[(event.type, event.version)][1]


def parse_data(event: Envelope) -> Any:
    entry = CATALOGUE.get((event.type, event.version))
    if entry is None:
        raise EventParseError(f"unknown event type {event.type!r} version {event.version}")
    try:
        return entry[0].model_validate(event.data)
    except ValidationError as exc:
        raise EventParseError(f"invalid {event.type} v{event.version} payload: {exc}") from exc


def asyncapi_document(service: str, publishes: list[str], subscribes: list[str]) -> dict[str, Any]:
    """The catalogue as an AsyncAPI 3 document, served beside each service's OpenAPI one."""
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for (etype, version), (model, topic) in CATALOGUE.items():
        name = f"{etype}.v{version}"
        messages[name] = {
            "name": etype,
            "title": f"{etype} (version {version})",
            "payload": {"schemaFormat": "application/schema+json;version=draft-07", "schema": model.model_json_schema()},
        }
        ch = channels.setdefault(topic, {"address": topic, "messages": {}})
        ch["messages"][name] = {"$ref": f"#/components/messages/{name}"}
    operations: dict[str, Any] = {}
    for action, types in (("send", publishes), ("receive", subscribes)):
        for etype in types:
            for (t, v), (_m, topic) in CATALOGUE.items():
                if t == etype:
                    operations[f"{action}-{t}-v{v}"] = {
                        "action": action,
                        "channel": {"$ref": f"#/channels/{topic}"},
                        "messages": [{"$ref": f"#/channels/{topic}/messages/{t}.v{v}"}],
                    }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": f"points platform — {service} events", "version": "1"},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
