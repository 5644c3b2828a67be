"""Versioned payloads of every event type, and the topic each one travels on.

Adding a field with a default is a compatible change; anything else is a new version,
registered beside the old one so consumers can read both during a rollout.

Personal data travels only where a consumer needs it (README, "Personal data on the bus"):
every field that holds some is marked with its kind (`personal(...)`), and the AsyncAPI
document lists the kinds per message (`x-personal-data`). The full ID numbers and permit
numbers go to the departments only (application.submitted); everything downstream knows the
holder by a pseudonymous key and the masked forms intake computed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from pydantic.json_schema import models_json_schema

from shared.departments import OWNER_PATTERN
from shared.events.envelope import Envelope, EventParseError
from shared.masking import mask_id_number, mask_name

APPLICATIONS = "points.applications"
VERIFICATIONS = "points.verifications"
SCORES = "points.scores"
NOTICES = "points.notices"
AUDIT = "points.audit"
# The policy office's 模拟积分 campaigns: invitations, participation and their cross-checked facts.
CAMPAIGNS = "points.campaigns"
TOPICS = [APPLICATIONS, VERIFICATIONS, SCORES, NOTICES, AUDIT, CAMPAIGNS]

Department = Literal[
    "police",
    "social_insurance",
    "human_resources",
    "education",
    "housing",
    "tax",
    "civil_affairs",
    "health",
    "credit",
    "market_regulation",
]
# Who answers items: one of the ten departments, or a module's owner answering its own facts
# from its registry (`district:binjiang`, `department:<name>`).
Answerer = Department | Annotated[str, StringConstraints(pattern=OWNER_PATTERN, max_length=40)]
# overdue: the department had not answered by the review deadline; the item scores 0 until it does.
ItemState = Literal["passed", "in_review", "returned", "not_found", "forged", "overdue"]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


# The kinds of personal data a field may hold, as the AsyncAPI document names them.
PERSONAL_DATA_KINDS = ("id_number", "permit_number", "name", "phone", "masked_name", "masked_id_number", "holder_key")
PERSONAL_DATA = "x-personal-data"


def personal(kind: str, description: str, default: Any = ...) -> Any:
    """A field holding personal data of this kind: the AsyncAPI document declares it."""
    assert kind in PERSONAL_DATA_KINDS, kind
    return Field(default, description=description, json_schema_extra={PERSONAL_DATA: kind})


def _masked_from_legacy(data: Any) -> Any:
    """Events written before the masked forms travelled carry the full name and number: mask them
    here, so an old event still parses (and nothing downstream ever holds the full forms)."""
    if isinstance(data, dict):
        data = dict(data)
        if data.get("name_masked") is None and isinstance(data.get("name"), str):
            data["name_masked"] = mask_name(data["name"])
        if data.get("id_number_masked") is None and isinstance(data.get("id_number"), str):
            data["id_number_masked"] = mask_id_number(data["id_number"])
    return data


class Holder(_Payload):
    """The holder as intake tells the departments: the numbers their registries are keyed by, and
    what publicity shows. No full name: no consumer needs it (the police read it from the permit)."""

    id_number: str = personal("id_number", "The full ID number: the departments look their registries up by it")
    permit_number: str = personal("permit_number", "The residence permit's number, for the police registry")
    name_masked: str = personal("masked_name", "The name as notices show it (shared.masking)")
    id_number_masked: str = personal("masked_id_number", "The ID number as notices show it (shared.masking)")
    # Absent on events written before it was added: consumers then derive it from the ID number.
    key: str | None = personal("holder_key", "Pseudonymous key of the holder (shared.pseudonyms)", None)

    _legacy = model_validator(mode="before")(_masked_from_legacy)

    def ref(self) -> HolderRef:
        """The holder as the services downstream of the departments know them."""
        return HolderRef(key=self.key, name_masked=self.name_masked, id_number_masked=self.id_number_masked)


class HolderRef(_Payload):
    """The holder downstream of the departments: a pseudonymous key and the masked forms, nothing more."""

    key: str | None = personal(
        "holder_key", "Pseudonymous key of the holder (shared.pseudonyms); absent on old events", None
    )
    name_masked: str = personal("masked_name", "The name as notices show it")
    id_number_masked: str = personal("masked_id_number", "The ID number as notices show it")

    _legacy = model_validator(mode="before")(_masked_from_legacy)


class FamilyMember(_Payload):
    """A spouse or child named in a settlement or school-enrolment application."""

    relation: str
    id_number: str = personal("id_number", "For the departments (housing: the family's homes count too)")
    name_masked: str = personal("masked_name", "The name as a ranked list shows it (the child of a school enrolment)")
    id_number_masked: str = personal("masked_id_number", "The ID number as a ranked list shows it")
    key: str | None = personal("holder_key", "Pseudonymous key: groups a child's parents in a round", None)

    _legacy = model_validator(mode="before")(_masked_from_legacy)


class Representative(_Payload):
    id_number: str = personal("id_number", "The police check the household relation to the holder by it")


class Delegation(_Payload):
    """Who acted for the holder (委托办) and on what authority, for the departments to verify."""

    relation: str
    grounds: str | None = None
    representative: Representative | None = None
    employer_credit_code: str | None = None
    authority: dict[str, Any] = Field(default_factory=dict)
    channel: str | None = None


class ApplicationSubmitted(_Payload):
    application_id: str
    holder: Holder
    intent: str = "general"
    applied_on: date
    cut_off_date: date
    expected_departments: list[Department]
    declared_facts: dict[str, Any] = Field(default_factory=dict)
    # Settlement: spouse and minor children; school enrolment: the child.
    family: list[FamilyMember] = Field(default_factory=list)
    # Delegated applications (委托办): who acted for the holder and on what authority.
    delegation: Delegation | None = None
    # The X-modules (services) the holder applies to with this score, e.g. ["school-enrolment"].
    modules: list[str] = Field(default_factory=list)
    # Where the holder is told of the score (publicity's notifications); never shown in public.
    contact_phone: str | None = personal("phone", "Where publicity notifies the holder; never shown in public", None)
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
    department: Answerer
    expected_departments: list[Department]
    cut_off_date: date
    holder: HolderRef
    items: list[VerifiedItem]
    facts: dict[str, Any]
    verified_at: datetime
    # The application's acceptance date: its review deadline runs from it.
    applied_on: date | None = None
    # Set when this answers a re-verification request (an objection or a review): its id.
    in_answer_to: str | None = None
    # The application's X-modules: scoring also waits for the owners of those with facts of their own.
    modules: list[str] = Field(default_factory=list)

    def each(self) -> list[VerificationCompleted]:
        """The department answers this event carries: itself (v2 carries several)."""
        return [self]


class DepartmentAnswer(_Payload):
    """One department's answer inside verification.completed v2."""

    department: Answerer
    holder: HolderRef
    items: list[VerifiedItem]
    facts: dict[str, Any]
    verified_at: datetime


class VerificationsCompleted(_Payload):
    """verification.completed v2: the first answers to one application of every department one verifier
    answers for, in one event (one a department cost every consumer a delivery, a parse and a claim
    each). Each answer means what a v1 event of its own would; `each()` gives them so."""

    application_id: str
    expected_departments: list[Department]
    cut_off_date: date
    applied_on: date | None = None
    modules: list[str] = Field(default_factory=list)
    answers: list[DepartmentAnswer] = Field(min_length=1)

    def each(self) -> list[VerificationCompleted]:
        # (Validated as this event was: each answer is built without validating it again.)
        return [
            VerificationCompleted.model_construct(
                application_id=self.application_id,
                expected_departments=self.expected_departments,
                cut_off_date=self.cut_off_date,
                applied_on=self.applied_on,
                modules=self.modules,
                department=a.department,
                holder=a.holder,
                items=a.items,
                facts=a.facts,
                verified_at=a.verified_at,
                in_answer_to=None,
            )
            for a in self.answers
        ]


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
    # The rule in words and numbers, and the line as one sentence (the records behind it stay in scoring).
    rule: str | None = None
    summary_zh: str | None = None


class ModuleScore(_Payload):
    total: float
    module_points: float
    eligible: bool
    # Compared as a list, larger first: the total, then each tie-breaker in the module's order.
    sort_key: list[float]
    # The module's owner, and the items its registry answers (`<module>/<indicator>`): an objection
    # may name them, and the owner verifies them again.
    owner: str | None = None
    owner_items: list[str] = Field(default_factory=list)


class ScoreComputed(_Payload):
    application_id: str
    score_version: int
    holder: HolderRef
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


class RoundFinalized(_Payload):
    """A round's list is final: the module owner's systems fetch those admitted from `admitted_url`
    (a page at a time, with the owner's key) and grant them the service.

    Version 2. Version 1 carried the admitted list itself, which at a city's size (20,000 admitted)
    is megabytes in one message; the list is now delivered by reference, at the list version named."""

    round_id: str
    module_id: str
    owner: str
    list_version: int
    notice_end: date
    finalized_at: datetime
    entries: int
    admitted: int  # how many the list admits: the pages at admitted_url hold exactly these
    admitted_url: str  # GET …/v1/rounds/{round_id}/admitted?version={list_version}, then &after=<last rank>


class RoundClosing(_Payload):
    """A round's acceptance closed: scoring re-scores these candidates (one chunk of the round's) from
    their verified facts at the round's cut-off, under the rules in force on `rules_on`, and answers
    with round.scored. While the list is on notice, a new score of one of them is re-scored for the
    round too, until round.finalized."""

    round_id: str
    module_id: str
    candidate: Literal["holder", "child"]
    cut_off_date: date
    rules_on: date  # the round's date: its acceptance opening
    chunk: int  # 1..chunks: a round of many thousands travels in several events
    chunks: int
    application_ids: list[str]


class RoundLine(_Payload):
    """A line of a round score as the list's entry page shows it: labels and points only."""

    indicator: str
    category: str
    name_zh: str
    name_en: str
    points: float
    department: str | None = None


class RoundCandidateScore(_Payload):
    application_id: str
    # The score version scoring kept for the round (None: nothing to re-score from, e.g. never scored).
    score_version: int | None = None
    # unscored: no verified facts to re-score from (publicity then leaves the candidate off the list).
    status: Literal["scored", "void", "paused", "vetoed", "refused", "unscored"]
    based_on_version: int | None = None  # the application's own score version whose answers were re-scored
    total: float = 0.0
    # The round's module as re-scored (total, eligibility, sort keys); None when unscored.
    module: ModuleScore | None = None
    lines: list[RoundLine] = Field(default_factory=list)


class RoundScored(_Payload):
    """Candidates of a round re-scored at its cut-off. Not a score notice: nobody is notified of it."""

    round_id: str
    module_id: str
    cut_off_date: date
    scores: list[RoundCandidateScore]


class AuditChainAnchored(_Payload):
    """A department's audit chain head, published daily: a copy outside the database, so a chain cut
    short later (even by someone who may change the database) shows against it. A module owner's
    chain too (`district:binjiang`)."""

    department: Answerer
    entry_id: int  # the chain's last entry when anchored
    hash: str  # that entry's hash, which covers every entry before it
    anchored_at: datetime


class CampaignInvited(_Payload):
    """A holder drawn from the permit register for a 模拟积分 campaign: publicity texts the invitation."""

    campaign_id: str
    number: int  # the invitation's place in the draw (1, 2, …): one SMS per invitation, however redelivered
    title_zh: str
    closes_on: date
    phone: str = personal("phone", "The phone the police register holds for the permit: the invitation's SMS")
    # Publicity keeps the invitation's one-time code under it: the holder's proof on the public page.
    holder_key: str | None = personal("holder_key", "Pseudonymous key of the holder drawn (shared.pseudonyms)", None)


class CampaignOpened(_Payload):
    """A campaign opened by the policy office: publicity's estimate page offers it while it is open."""

    campaign_id: str
    title_zh: str
    consent_text: str  # shown in full where a holder consents
    opens_on: date
    closes_on: date


class CampaignJoined(_Payload):
    """A holder consented to take part in a campaign: verification looks their facts up (a campaign
    look-up, audited as such), as for an application but scored for no service."""

    campaign_id: str
    holder_key: str = personal("holder_key", "Pseudonymous key of the holder (shared.pseudonyms)")
    id_number: str = personal("id_number", "The departments look their registries up by it")
    permit_number: str = personal("permit_number", "The residence permit's number, for the police registry")
    cut_off_date: date


class CampaignFactsVerified(_Payload):
    """The departments' answers for a campaign's participant, and where the register classes them."""

    campaign_id: str
    holder_key: str = personal("holder_key", "Pseudonymous key of the holder (shared.pseudonyms)")
    on_register: bool  # a valid permit whose number and ID number agree
    invited: bool  # drawn in the campaign's random sample (else: joined of their own accord)
    stratum: int | None = None  # index into the campaign's strata
    labels: dict[str, str] = Field(default_factory=dict)  # per dimension (shared.strata), the register's label
    answers: list[dict[str, Any]] = Field(default_factory=list)  # per department: items and facts


class CampaignWithdrawn(_Payload):
    """A participant withdrew consent: every service removes what it holds of them for the campaign."""

    campaign_id: str
    holder_key: str = personal("holder_key", "Pseudonymous key of the holder (shared.pseudonyms)")


# (type, version) -> (payload model, topic)
CATALOGUE: dict[tuple[str, int], tuple[type[_Payload], str]] = {
    ("application.submitted", 1): (ApplicationSubmitted, APPLICATIONS),
    ("application.withdrawn", 1): (ApplicationWithdrawn, APPLICATIONS),
    ("application.material_added", 1): (MaterialAdded, APPLICATIONS),
    ("verification.completed", 1): (VerificationCompleted, VERIFICATIONS),
    ("verification.completed", 2): (VerificationsCompleted, VERIFICATIONS),
    ("score.computed", 1): (ScoreComputed, SCORES),
    ("notice.published", 1): (NoticePublished, NOTICES),
    ("reverification.requested", 1): (ReverificationRequested, NOTICES),
    ("round.finalized", 2): (RoundFinalized, NOTICES),
    ("round.closing", 1): (RoundClosing, NOTICES),
    ("round.scored", 1): (RoundScored, SCORES),
    ("audit.chain_anchored", 1): (AuditChainAnchored, AUDIT),
    ("campaign.opened", 1): (CampaignOpened, CAMPAIGNS),
    ("campaign.invited", 1): (CampaignInvited, CAMPAIGNS),
    ("campaign.joined", 1): (CampaignJoined, CAMPAIGNS),
    ("campaign.facts_verified", 1): (CampaignFactsVerified, CAMPAIGNS),
    ("campaign.withdrawn", 1): (CampaignWithdrawn, CAMPAIGNS),
}
_BY_MODEL = {model: key for key, (model, _topic) in CATALOGUE.items()}


def type_of(model: type[BaseModel]) -> tuple[str, int]:
    return _BY_MODEL[model]  # type: ignore[index]  # any model not in the catalogue is a KeyError, as meant


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


def personal_data(model: type[_Payload]) -> list[str]:
    """The kinds of personal data an event type's payload holds, from its fields' marks."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get(PERSONAL_DATA), str):
                found.add(node[PERSONAL_DATA])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(model.model_json_schema())
    return sorted(found)


def asyncapi_document(service: str, publishes: list[str], subscribes: list[str]) -> dict[str, Any]:
    """The catalogue as an AsyncAPI 3 document, served beside each service's OpenAPI one.

    Every payload and the models inside it are hoisted into `components.schemas` and referred to
    from there: a payload's own `$defs` would not resolve inside the larger document. Schemas are
    in AsyncAPI's default format (JSON Schema draft 07 and its extensions), which pydantic's
    output fits once `$defs` are gone."""
    mode: Literal["validation"] = "validation"  # what a consumer accepts, as model_json_schema() gave
    models = [(model, mode) for model, _topic in CATALOGUE.values()]
    refs, schemas = models_json_schema(models, ref_template="#/components/schemas/{model}")
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for (etype, version), (model, topic) in CATALOGUE.items():
        name = f"{etype}.v{version}"
        messages[name] = {
            "name": etype,
            "title": f"{etype} (version {version})",
            # The kinds of personal data the message holds (empty: none); see PERSONAL_DATA_KINDS.
            PERSONAL_DATA: personal_data(model),
            "payload": refs[(model, mode)],
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
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas.get("$defs", {}), "messages": messages},
    }
