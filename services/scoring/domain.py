"""Scoring applications: gather the departments' facts, pick the rule set, explain.

Many applications are scored as one population: the engine is vectorised, so a consumer
batch that completes a hundred applications evaluates them in one pass.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from enum import StrEnum
from typing import Any

import orjson

from services.scoring.engine import ENGINE_VERSION
from services.scoring.engine.accounting import explain_lines
from services.scoring.engine.evaluate import evaluate
from services.scoring.engine.fact_sources import DERIVED, derived_facts, owner_facts
from services.scoring.engine.modules import Module, evaluate_module
from services.scoring.engine.population import Population
from services.scoring.engine.rules import RuleSet, in_force
from shared import clock, names
from shared.calendar import CalendarYearUnknown, add_working_days, shift_years
from shared.departments import ITEMS_BY_DEPARTMENT
from shared.logging import get_logger

FORGERY_BAR_YEARS = 5


class RuleSetState(StrEnum):
    """An uploaded rule set: a draft (replaceable), then published (never changed again)."""

    DRAFT = "draft"
    PUBLISHED = "published"


REVIEW_WORKING_DAYS = 15
log = get_logger("scoring")


def review_deadline(applied_on: date | None) -> date | None:
    """The day by which every department should have answered: 15 working days after applying."""
    if applied_on is None:
        return None
    try:
        return add_working_days(applied_on, REVIEW_WORKING_DAYS)
    except CalendarYearUnknown as exc:
        # No guessed deadline: the overdue sweep leaves this application alone until the calendar is known.
        log.warning("review deadline unknown", applied_on=applied_on.isoformat(), error=str(exc))
        return None


def past_deadline(answers: dict[str, dict[str, Any]], today: date) -> bool:
    """Has the earliest review deadline among the answers passed?"""
    deadlines: list[date] = [a["review_deadline"] for a in answers.values() if a.get("review_deadline")]
    return bool(deadlines) and today > min(deadlines)


def module_scores(explanation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The X-modules' results as score.computed carries them."""
    return {
        m: {
            "total": doc["total"],
            "module_points": doc["module_points"],
            "eligible": doc["eligible"],
            "sort_key": doc["sort_key"],
            "owner": doc.get("owner"),
            "owner_items": doc.get("owner_items", []),
        }
        for m, doc in explanation.get("modules", {}).items()
    }


def public_line(line: dict[str, Any]) -> dict[str, Any]:
    """An explanation line for the bus: points and labels; the facts themselves stay in scoring
    (readable at /v1/scores), so personal data does not travel further than it must."""
    return {k: v for k, v in line.items() if k not in ("fact", "fact_value", "records")}


def all_answered(expected: list[str], answered: set[str]) -> bool:
    return set(expected) <= answered


def returned_facts(rule_set: RuleSet, answers: list[dict[str, Any]]) -> set[str]:
    """Facts of items a department returned or could not find: they score 0, the other items go on."""
    dropped = {
        i["indicator"] for a in answers for i in a["items"] if i["state"] in ("returned", "not_found", "overdue")
    }
    return {ind.fact for ind in rule_set.indicators if ind.id in dropped and ind.fact}


def overdue_answers(
    expected: list[str], answered: set[str], owners_items: dict[str, list[str]] | None = None
) -> list[dict[str, Any]]:
    """Stand-in answers of the departments (and module owners) that missed the review deadline:
    their items score 0."""
    return [
        {
            "department": d,
            "facts": {},
            "items": [
                {"indicator": i, "state": "overdue", "reason": "not answered by the review deadline"}
                for i in ITEMS_BY_DEPARTMENT.get(d, ()) or (owners_items or {}).get(d, ())
            ],
        }
        for d in sorted(set(expected) - answered)
    ]


def awaited(expected: list[str], modules: dict[str, Module], named: list[str], cut_off: date) -> list[str]:
    """Who must answer the application: the departments intake expects, and the owner of each
    module it names (in force on the cut-off) whose facts the owner's registry answers."""
    owners = {
        m.owner
        for mid in named
        if (m := modules.get(mid)) is not None and m.in_force_on(cut_off) and owner_facts(m.fact_sources)
    }
    return [*expected, *sorted(owners - set(expected))]


def owners_items(modules: dict[str, Module]) -> dict[str, list[str]]:
    """Per owner, the items its registry answers (`<module>/<indicator>`)."""
    items: dict[str, list[str]] = {}
    for m in modules.values():
        items.setdefault(m.owner, []).extend(f"{m.id}/{ind}" for ind in owner_facts(m.fact_sources))
    return items


def forged_items(answers: list[dict[str, Any]]) -> list[str]:
    return [i["indicator"] for a in answers for i in a["items"] if i["state"] == "forged"]


def unproven_delegation(answers: list[dict[str, Any]]) -> str | None:
    """Why the delegation an application was made under does not hold, or None."""
    return next(
        (
            i["reason"] or "not verified"
            for a in answers
            for i in a["items"]
            if i["indicator"] == "delegation" and i["state"] in ("returned", "not_found")
        ),
        None,
    )


def _zeroed(explanation: dict[str, Any], **update: Any) -> None:
    explanation.update(total=0.0, modules={}, **update)
    explanation["categories"] = {c: 0.0 for c in explanation["categories"]}
    for line in explanation["lines"]:
        line["points"] = 0.0


def modules_in_force(modules: dict[str, Module] | None, day: date) -> dict[str, Module]:
    return {m.id: m for m in (modules or {}).values() if m.in_force_on(day)}


def canonical_answers(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answers as JSON has them (dates as ISO text, enumerations as their values): the form
    that is stored with a score, hashed into its determination id, and recomputed from."""
    # orjson for speed (every score makes this round trip), with json's forms where they differ:
    # dates and times through str, keys that are not text as text.
    loaded: list[dict[str, Any]] = orjson.loads(orjson.dumps(answers, default=str, option=_CANONICAL))
    return loaded


_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def score_row(
    application_id: str,
    version: int,
    explanation: dict[str, Any],
    cut_off: date,
    holder: dict[str, Any],
    answers: list[dict[str, Any]],
    computed_at: Any,
    round_id: str | None = None,
    based_on: int | None = None,
) -> dict[str, Any]:
    """A score version as kept: the explanation with what it was made of (the answers, canonical),
    and, for a round's re-score, the round and the application's own version it re-scored."""
    return {
        "application_id": application_id,
        "version": version,
        "status": explanation["status"],
        "total": explanation["total"],
        "rule_set_id": explanation["rule_set_id"],
        "rule_set_hash": explanation["rule_set_hash"],
        "cut_off_date": cut_off,
        "holder": holder,
        "explanation": explanation,
        "computed_at": computed_at,
        "answers": canonical_answers(answers),
        "engine_version": explanation["engine_version"],
        "determination_id": explanation["determination_id"],
        "round_id": round_id,
        "based_on": based_on,
    }


def determination_id(
    answers: list[dict[str, Any]],
    rule_set: RuleSet,
    modules: dict[str, Module],
    cut_off: date,
    engine: str,
    rules_on: date | None = None,
) -> str:
    """One hash over everything a determination is made of: the departments' answers (facts and
    items), the exact rule-set and module texts (by their hashes), the cut-off and the engine's
    version. The same inputs give the same id on any machine; any change gives another."""
    made_of = {
        # As given: the dump below writes dates, enumerations and keys as canonical_answers does, so
        # answers and their canonical form (as stored with a score) give the same id.
        "answers": answers,
        "rule_set": rule_set.content_hash,
        "modules": {m.id: m.content_hash for m in modules.values()},
        "cut_off": cut_off.isoformat(),
        "rules_on": (rules_on or cut_off).isoformat(),
        "engine": engine,
    }
    canonical = json.dumps(made_of, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def score_many(
    rule_sets: dict[str, RuleSet],
    cut_off: date,
    facts: list[dict[str, Any]],
    modules: dict[str, Module] | None = None,
    rules_on: date | None = None,
) -> list[dict[str, Any]]:
    """Explanations of holders' scores under the rule set in force on `rules_on` (the application
    date; by default the cut-off), facts counted up to the cut-off, with the points of every holder
    X-module in force on that day computed beside each."""
    rules_on = rules_on or cut_off
    rule_set = in_force(rule_sets, rules_on)
    pop = Population.from_records(facts)
    base = evaluate(rule_set, pop, cut_off)
    explanations = [base.explain(i) for i in range(pop.n)]
    for explanation, holder_facts in zip(explanations, facts, strict=True):
        explain_lines(explanation, rule_set, holder_facts, names.value_zh)
    for e in explanations:
        e["modules"] = {}
    for module in (modules or {}).values():
        if not module.in_force_on(rules_on):
            continue
        # A child's module is scored per parent here; publicity's round gives the child the better parent.
        result = evaluate_module(
            module, rule_sets, _module_population(module, pop, facts), cut_off, base=base, rules_on=rules_on
        )
        threshold = result.round.threshold if result.round else None
        for i, e in enumerate(explanations):
            doc = result.candidate(i)
            e["modules"][module.id] = {
                "owner": module.owner,
                "owner_items": [f"{module.id}/{ind}" for ind in owner_facts(module.fact_sources)],
                "module_points": doc["module_points"],
                "total": doc["total"],
                "eligible": doc["eligible"],
                "threshold": threshold,
                "meets_threshold": doc["eligible"] and (threshold is None or doc["total"] >= threshold),
                "lines": doc["lines"],
                "sort_key": doc["sort_key"],
            }
    return explanations


def _module_population(module: Module, pop: Population, facts: list[dict[str, Any]]) -> Population:
    """The holders with the module's derived facts added (district residence: from the police record).
    A fact given as such (a self-estimate's `district_residence_spans`) stands."""
    sources = module.fact_sources
    if not any(s.source == DERIVED for s in sources.values()):
        return pop
    return Population.from_records([{**derived_facts(sources, f, module.owner), **f} for f in facts])


def score_facts(
    rule_sets: dict[str, RuleSet],
    cut_off: date,
    facts: dict[str, Any],
    modules: dict[str, Module] | None = None,
    rules_on: date | None = None,
) -> dict[str, Any]:
    return score_many(rule_sets, cut_off, [facts], modules, rules_on)[0]


def application_facts(rule_set: RuleSet, answers: list[dict[str, Any]]) -> dict[str, Any]:
    """One holder's facts from all departments' answers. A fact several departments add to (offences:
    police, credit and health each report their own) is the union of their lists; what a department
    returned or could not find is left out of its own contribution."""
    facts: dict[str, Any] = {}
    for a in answers:
        dropped = returned_facts(rule_set, [a])
        for fact, value in a["facts"].items():
            if fact in dropped:
                continue
            if isinstance(value, list) and isinstance(facts.get(fact), list):
                facts[fact] = facts[fact] + value
            else:
                facts[fact] = value
    return facts


def score_applications(
    rule_sets: dict[str, RuleSet],
    cut_off: date,
    answers: list[list[dict[str, Any]]],
    modules: dict[str, Module] | None = None,
    today: date | None = None,
    rules_on: date | None = None,
) -> list[dict[str, Any]]:
    """Explanations of applications' scores from their departments' answers (one list per application).

    The rules are those in force on `rules_on` (the application date; by default the cut-off), the
    facts those up to the cut-off. Forged materials void the score and bar the holder for five
    years; an unproven delegation refuses it (nothing scored, no bar); a permit's state
    (terminated, suspended) is applied by the rule set's eligibility rule.
    """
    rules_on = rules_on or cut_off
    rule_set = in_force(rule_sets, rules_on)
    explanations = score_many(rule_sets, cut_off, [application_facts(rule_set, a) for a in answers], modules, rules_on)
    in_force_modules = modules_in_force(modules, rules_on)
    for app_answers, explanation in zip(answers, explanations, strict=True):
        explanation["rules_on"] = rules_on.isoformat()
        explanation["engine_version"] = ENGINE_VERSION
        explanation["module_hashes"] = {m.id: m.content_hash for m in in_force_modules.values()}
        explanation["determination_id"] = determination_id(
            app_answers, rule_set, in_force_modules, cut_off, ENGINE_VERSION, rules_on
        )
        forged = forged_items(app_answers)
        unproven = unproven_delegation(app_answers)
        late = sorted(a["department"] for a in app_answers if any(i["state"] == "overdue" for i in a["items"]))
        if late:
            overdue = f"overdue, scored 0 until they answer: {', '.join(late)}"
            explanation["reason"] = "; ".join(r for r in (explanation.get("reason"), overdue) if r)
        if forged:
            _zeroed(
                explanation,
                status="void",
                reason=f"forged materials: {', '.join(sorted(forged))}",
                barred_until=shift_years(today or clock.today(), FORGERY_BAR_YEARS).isoformat(),
            )
        elif unproven:
            # Nothing is scored for someone who has not shown they may act for the holder; nobody is barred.
            _zeroed(explanation, status="refused", reason=f"delegation not verified: {unproven}")
    return explanations


def score_application(
    rule_sets: dict[str, RuleSet],
    cut_off: date,
    answers: list[dict[str, Any]],
    modules: dict[str, Module] | None = None,
    today: date | None = None,
    rules_on: date | None = None,
) -> dict[str, Any]:
    return score_applications(rule_sets, cut_off, [answers], modules, today, rules_on)[0]
