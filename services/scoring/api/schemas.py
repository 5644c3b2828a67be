"""Scoring's request models, and the documents its answers are made of."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared import names
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


class ExplanationLine(BaseModel):
    """One indicator of a score: the fact, where it came from, and the points it gave."""

    model_config = ConfigDict(extra="allow")
    indicator: str = Field(examples=["residence_years"])
    category: str = Field(examples=["basic"])
    name_zh: str | None = Field(None, examples=["居住年限"])
    name_en: str | None = Field(None, examples=["Years of residence"])
    fact: str | None = Field(None, examples=["residence_spans"])
    fact_value: Any = Field(None, description="The measured fact (with the category counted, for highest-of lines)")
    department: str | None = Field(None, examples=["police"])
    raw_points: float | None = None
    cap: float | None = None
    points: float = Field(description="What counts toward the total")
    rule: str | None = Field(None, description="The rule in words and numbers", examples=["每满1年计5分，最高100分"])
    window: dict[str, str] | None = Field(
        None, description="The look-back window the line counts in: from (counted) and to_before (not counted)"
    )
    records: list[dict[str, Any]] | None = Field(
        None, description="Every record behind the line: what of it counted, or why it was left out"
    )
    summary_zh: str | None = Field(None, description="The line as one sentence a holder can check")


class Explanation(BaseModel):
    """A score line by line (a department sees its own lines only, and no totals)."""

    model_config = ConfigDict(extra="allow")
    lines: list[ExplanationLine]
    status: str | None = Field(None, description="scored, vetoed, paused or void")
    reason: str | None = None
    total: float | None = None
    categories: dict[str, float] | None = Field(None, description="Points per category: basic, bonus, deduction")


class RuleSetRef(BaseModel):
    id: str = Field(examples=["hangzhou-2021"])
    hash: str = Field(description="The rule set's content hash (SHA-256)")


class Determination(BaseModel):
    """What a score was made of, by hash: recompute it with `python -m services.scoring.recompute`."""

    id: str | None = Field(None, description="sha256 over the answers, rule texts, cut-off, rules date and engine")
    engine_version: str | None = Field(None, examples=["2026.11.1"])
    module_hashes: dict[str, str] = Field(
        default_factory=dict, description="Each X-module in force, by its text's hash (GET /v1/modules/{id}/source)"
    )


class VersionMark(BaseModel):
    """A score version as the history lists it: the application's own score, or a round's re-scoring."""

    version: int
    kind: str = Field(description="`application` (its own score) or `round` (re-scored at a round's cut-off)")
    round_id: str | None = None
    based_on_version: int | None = Field(None, description="A round's: the own version whose answers it re-scored")
    cut_off_date: date
    label_zh: str


class Score(BaseModel):
    """An application's score under one rule set, explained (one immutable version)."""

    application_id: str = Field(examples=["APP-20261126-0001"])
    version: int = Field(examples=[1])
    versions: list[int] | None = Field(None, description="Every version's number, oldest first (latest only)")
    history: list[VersionMark] | None = Field(
        None, description="Every version, oldest first, labelled: the application's own or a round's (latest only)"
    )
    round: VersionMark | None = Field(None, description="Set on a round's version: which round, re-scoring which")
    status: str | None = Field(None, description="scored, vetoed, paused or void (not shown to a department)")
    total: float | None = Field(None, examples=[112.5])
    rule_set: RuleSetRef
    determination: Determination | None = None
    cut_off_date: date
    computed_at: datetime
    departments: list[str] | None = Field(None, description="For a department: whose lines these are")
    explanation: Explanation


class RuleSetSummary(BaseModel):
    """A rule set as listed: which, in force when, its content hash (the full text: GET /v1/rule-sets/{id})."""

    id: str = Field(examples=["hangzhou-2021"])
    state: str = Field(description="published or draft", examples=["published"])
    name: dict[str, str] = Field(
        description="In Chinese and English", examples=[{"zh": "杭州市积分指标体系", "en": "Hangzhou"}]
    )
    effective_from: date
    effective_to: date | None = None
    content_hash: str = Field(description="SHA-256 of the rule set's content")
    indicators: int = Field(description="How many indicators it has")
    uploaded_by: str | None = Field(None, description="A draft's uploader")
    uploaded_at: datetime | None = Field(None, description="When a draft was uploaded")


def _one_of(table: dict[str, Any], what: str):
    def check(value: str | None) -> str | None:
        if value is not None and value not in table:
            raise ValueError(f"{what}: one of {', '.join(table)}")
        return value

    return check


class EstimateRequest(BaseModel):
    """What a holder knows about themselves (模拟积分): no name, no ID number, nothing kept."""

    model_config = ConfigDict(extra="forbid")
    birth_date: BusinessDate
    education: str | None = Field(None, description="Highest education: " + ", ".join(names.EDUCATION_LEVELS))
    skill_title: str | None = Field(None, description="Highest title or skill level: " + ", ".join(names.SKILL_LEVELS))
    employed: bool = False
    insurance_months: int = Field(0, ge=0, le=720, description="Months of social insurance paid in the city")
    residence_years: int = Field(0, ge=0, le=80, description="Full years of residence registration in the city")
    own_home: bool = False
    rental_years: int = Field(0, ge=0, le=80, description="Full years on a registered lease")
    volunteer_hours: float = Field(0, ge=0, le=100_000, description="Registered volunteer hours, last five years")
    charity_yuan: float = Field(0, ge=0, le=1e9, description="Donations to recognised charities, last five years")
    income_tax_yuan: float = Field(0, ge=0, le=1e9, description="Income tax paid in the city, last five years")
    investment_tax_yuan: float = Field(
        0, ge=0, le=1e10, description="City tax paid a year by the enterprises one invested in (last three years' mean)"
    )
    blood_donated_ml: float = Field(0, ge=0, le=100_000)
    marrow_donated: bool = False
    honours: list[str] = Field(default_factory=list, max_length=20, description="One level per matter honoured")
    patents: list[str] = Field(default_factory=list, max_length=50, description="One inventor role per patent")
    offences: list[str] = Field(default_factory=list, max_length=8, description="Cases in the last five years")
    application_date: BusinessDate | None = Field(None, description="Defaults to today")

    _education = field_validator("education")(_one_of(names.EDUCATION_LEVELS, "education"))
    _skill = field_validator("skill_title")(_one_of(names.SKILL_LEVELS, "skill_title"))

    @field_validator("honours", "patents", "offences")
    @classmethod
    def _levels(cls, v: list[str], info: Any) -> list[str]:
        table = {"honours": names.HONOUR_LEVELS, "patents": names.PATENT_ROLES, "offences": names.OFFENCES}
        for item in v:
            _one_of(table[info.field_name], info.field_name)(item)
        return v if info.field_name != "offences" else list(dict.fromkeys(v))


# Responses. Documents whose parts grow with the rules (explanations, modules, rule sets) are open
# (`extra="allow"`): the model names what a client may rely on, and passes the rest through.
# Numbers are `int | float` where the engine may give either, so the JSON is exactly what it was.
Number = int | float
# An ISO 8601 instant, passed through as the store wrote it (a datetime would turn +00:00 into Z).
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class ModuleStanding(BaseModel):
    """A holder's standing under one X-module, beside the base score."""

    model_config = ConfigDict(extra="allow")
    owner: str = Field(examples=["module:district:binjiang"])
    module_points: Number
    total: Number = Field(description="Base points plus the module's")
    eligible: bool
    threshold: Number | None = Field(description="The module's line, if it has one")
    meets_threshold: bool
    lines: list[dict[str, Any]] = Field(description="The module's own lines, explained like the base ones")


class Evaluation(BaseModel):
    """Facts scored under one rule set, line by line, with each X-module's standing; nothing stored."""

    model_config = ConfigDict(extra="allow")
    rule_set_id: str = Field(examples=["hangzhou-2021"])
    rule_set_hash: str = Field(description="The rule set's content hash (SHA-256)")
    cut_off_date: date
    status: str = Field(description="scored, vetoed, paused or void", examples=["scored"])
    reason: str | None = None
    total: Number = Field(examples=[112.5])
    categories: dict[str, Number] = Field(
        description="Points per category", examples=[{"basic": 100.0, "bonus": 12.5, "deduction": 0.0}]
    )
    lines: list[dict[str, Any]] = Field(description="Each indicator: fact, department, raw points, cap, points")
    modules: dict[str, ModuleStanding] = Field(default_factory=dict, description="By module id")


class EstimateRuleSet(BaseModel):
    id: str = Field(examples=["hangzhou-2021"])
    name_zh: str = Field(examples=["杭州市积分指标体系"])
    name_en: str = Field(examples=["Hangzhou"])
    content_hash: str
    effective_from: date


class EstimateCategory(BaseModel):
    category: str = Field(examples=["basic"])
    name_zh: str = Field(examples=["基础分"])
    points: Number


class EstimateLine(BaseModel):
    model_config = ConfigDict(extra="allow")
    indicator: str = Field(examples=["residence_years"])
    name_zh: str = Field(examples=["居住年限"])
    name_en: str = Field(examples=["Years of residence"])
    category: str
    category_zh: str
    raw_points: Number | None
    cap: Number | None
    points: Number
    computation_zh: str = Field(description="How the line came about, in one sentence")
    rule: str


class Estimate(BaseModel):
    """模拟积分: the points a holder's answers give under the rule set in force, nothing kept."""

    model_config = ConfigDict(extra="allow")
    rule_set: EstimateRuleSet
    cut_off_date: date
    status: str = Field(examples=["scored"])
    status_zh: str = Field(examples=["已计分"])
    reason_zh: str | None = None
    total: Number = Field(examples=[86.0])
    categories: list[EstimateCategory]
    lines: list[EstimateLine]


class RuleSetDocument(BaseModel):
    """A rule set in full: every indicator, its fact, its points and cap (the YAML's content)."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(examples=["hangzhou-2021"])
    name: dict[str, str] = Field(examples=[{"zh": "杭州市积分指标体系", "en": "Hangzhou"}])
    effective_from: date
    effective_to: date | None
    lookback_years: int = Field(examples=[5])
    eligibility: Any = Field(description="Who may be scored at all")
    indicators: list[dict[str, Any]]
    content_hash: str = Field(description="SHA-256 of the rule set's text")


class ModuleSummary(BaseModel):
    """An X-module as listed (in full: GET /v1/modules/{id})."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(examples=["binjiang-talent"])
    owner: str = Field(examples=["module:district:binjiang"])
    name: dict[str, str] = Field(examples=[{"zh": "滨江人才积分", "en": "Binjiang talent"}])
    candidate: str = Field(description="`holder`, or `child` (ranked by the better parent)", examples=["holder"])
    effective_from: date
    indicators: list[str] = Field(description="The module's own indicators' ids")
    rounds: list[dict[str, Any]]
    tie_breakers: list[str]
    content_hash: str


class ModuleVersion(ModuleSummary):
    """A module as stored by PUT: its summary and the version number it got."""

    version: int = Field(examples=[1])


class ModuleDocument(BaseModel):
    """An X-module in full: indicators, rounds, tie-breakers and where its owner's facts come from."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(examples=["binjiang-talent"])
    owner: str = Field(examples=["module:district:binjiang"])
    name: dict[str, str]
    candidate: str = Field(examples=["holder"])
    effective_from: date
    effective_to: date | None
    indicators: list[dict[str, Any]]
    rounds: list[dict[str, Any]]
    tie_breakers: list[Any]
    content_hash: str


class Ranking(BaseModel):
    """A round's candidates ranked under a module (nothing stored)."""

    model_config = ConfigDict(extra="allow")
    module: str = Field(examples=["binjiang-talent"])
    cut_off_date: date
    rule_set_id: str = Field(examples=["hangzhou-2021"])
    threshold: Number | None
    quota: int | None
    ranking: list[dict[str, Any]] = Field(description="Best first: rank, candidate id, points, admitted")


class SimulationProgress(BaseModel):
    holders_done: int | None
    holders_total: int | None


class Simulation(BaseModel):
    """A simulation job: its state and progress, what was asked, and its headline figures when done."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(examples=["SIM-20261130-8c1d2e"])
    state: str = Field(description="queued, running, done or failed", examples=["running"])
    phase: str | None = Field(examples=["scoring"])
    attempts: int
    progress: SimulationProgress
    request: dict[str, Any] = Field(description="Population, baseline, draft and its hash, module, cut-off")
    error: str | None
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    links: dict[str, str] = Field(examples=[{"self": "/v1/simulations/SIM-20261130-8c1d2e"}])
    result: dict[str, Any] | None = Field(
        None, description="When done: holders, the change, the line, timings (the figures: …/summary)"
    )


class SimulationSummary(BaseModel):
    """A finished simulation's figures (summary.json): the population, before and after the draft."""

    model_config = ConfigDict(extra="allow")
    holders: int = Field(examples=[1_000_000])
    cut_off_date: date
    baseline: dict[str, Any] = Field(description="The rule set in force: id and content hash")
    draft: dict[str, Any] = Field(description="The draft: id and content hash")
    module: dict[str, Any] | None = Field(description="The X-module ranked under, if any")
    scores_are: str = Field(examples=["points totals"])
    status: dict[str, Any] = Field(description="Holders by status, before and after")
    score: dict[str, Any] = Field(description="Score statistics, before and after")
    change: dict[str, Any] = Field(description="How the holders' points moved")
    indicators: list[dict[str, Any]] = Field(description="Each indicator's points, before and after")
    histogram: dict[str, Any]
    groups: dict[str, Any] = Field(description="By age, education and residence")
    line: dict[str, Any] | None = Field(description="Who crosses the line or quota, if one was given")
    population: dict[str, Any]
    timings: dict[str, Any]


# -- a past round replayed under a draft (replay/routes.py) ------------------------------------------
class ReplayedEntry(BaseModel):
    """An entry of the round's list, masked as published."""

    entry: int = Field(description="The entry's number in the round", examples=[2])
    name: str = Field(description="The name, masked", examples=["周*"])
    id_number: str = Field(description="The ID number, masked", examples=["3301**********0289"])


class ReplayAdmitted(ReplayedEntry):
    rank: int = Field(description="Rank under the draft", examples=[1])
    total: Number = Field(description="Module total under the draft", examples=[548.0])


class ReplayMove(ReplayedEntry):
    """Someone who enters or leaves the admitted list: rank and module total before and under the draft."""

    rank_before: int | None = Field(examples=[2])
    rank_after: int | None = Field(examples=[3])
    total_before: Number | None = Field(examples=[269.0])
    total_after: Number | None = Field(examples=[437.0])


class ReplayNotRescored(ReplayedEntry):
    reason: str = Field(examples=["scored before determinations were kept: nothing to re-score from"])


class ReplayLine(BaseModel):
    indicator: str = Field(examples=["social_insurance"])
    category: str = Field(examples=["basic"])
    name_zh: str
    name_en: str
    points_before: Number | None = Field(examples=[56.0])
    points_after: Number | None = Field(examples=[224.0])


class ReplayPerson(ReplayedEntry):
    """One person's line-by-line difference (officers only)."""

    application_id: str
    total_before: Number | None
    total_after: Number | None
    lines: list[ReplayLine]


class ReplayBaseline(BaseModel):
    admitted: int = Field(description="Admitted when re-scored under the rules the round was scored with")
    agrees_with_published_list: bool
    differences: list[str] = Field(description="Where the baseline and the published list differ, per application")


class ReplayDraft(BaseModel):
    id: str = Field(examples=["hangzhou-2021-si"])
    content_hash: str


class ReplayGroupCounts(BaseModel):
    candidates: int
    admitted_before: int
    admitted_after: int
    entering: int
    leaving: int


class ReplayGroup(BaseModel):
    name_zh: str = Field(examples=["住房"])
    name_en: str = Field(examples=["Housing"])
    labels: dict[str, ReplayGroupCounts] = Field(
        description="By label, in Chinese",
        examples=[
            {"自有住房": {"candidates": 1, "admitted_before": 1, "admitted_after": 0, "entering": 0, "leaving": 1}}
        ],
    )


class Replay(BaseModel):
    """A final round replayed under a draft: the list it would have admitted, who enters and who leaves."""

    round_id: str = Field(examples=["RND-20261130-44472CABE1"])
    module_id: str = Field(examples=["binjiang-talent"])
    draft: ReplayDraft
    quota: int | None
    threshold: Number | None
    candidates: int = Field(description="Entries on the published list")
    rescored: int
    not_rescored: list[ReplayNotRescored]
    baseline: ReplayBaseline
    admitted_before: int
    admitted_after: int
    admitted: list[ReplayAdmitted] = Field(description="The draft's admitted list, best first")
    entering: list[ReplayMove]
    leaving: list[ReplayMove]
    by_group: dict[str, ReplayGroup] = Field(description="age_band, education, housing, residence_years")
    people: list[ReplayPerson] | None = Field(
        None, description="Each person whose points moved, line by line: officers (rounds:officer) only"
    )
