"""The draft a request names: a rule set's id (in use, or an uploaded draft) or the YAML itself.
One road for every route that scores under a draft (simulations, round replays)."""

from __future__ import annotations

import asyncio

from fastapi import Request

from services.scoring.engine.rules import RuleSet, RuleSetError, parse_rule_set
from services.scoring.simulation.drafts import parse_draft
from shared.problems import Problem


def exactly_one(draft: str | None, draft_document: str | None) -> None:
    """A request names its draft one way: refused (for the model's validator) otherwise."""
    if (draft is None) == (draft_document is None):
        raise ValueError("give exactly one of draft (an id) and draft_document (YAML)")


async def draft_of(request: Request, draft: str | None, draft_document: str | None) -> RuleSet:
    """The rule set named; a problem naming `draft` or `draft_document` if it cannot be had."""
    in_use: dict[str, RuleSet] = request.app.state.rule_sets
    try:
        # Parsed in a thread: even a document at the limits (see bounded_yaml) leaves the event loop free.
        if draft_document is not None:
            return await asyncio.to_thread(parse_draft, draft_document, "draft_document", in_use)
        assert draft is not None
        if draft in in_use:
            return in_use[draft]
        async with request.app.state.db.unit_of_work() as uow:
            source = await uow.store.rule_set_source(draft)
        if source is None:
            raise Problem.at("draft", f"no rule set or uploaded draft {draft!r}")
        return await asyncio.to_thread(parse_rule_set, source, f"{draft}.yaml")
    except RuleSetError as exc:
        raise Problem.at("draft_document" if draft_document is not None else "draft", str(exc)) from exc
