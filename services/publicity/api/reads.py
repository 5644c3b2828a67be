"""Reads the JSON API and the public pages share: a round, a page of its list, an entry with its history."""

from __future__ import annotations

from typing import Any

from services.publicity import domain
from services.publicity.api.schemas import entry_doc, history_doc
from services.publicity.store import Store
from shared.problems import Problem

PAGE_MAX = 100


async def find_round(store: Store, round_id: str) -> Any:
    r = await store.round(round_id)
    if r is None:
        raise Problem(404, f"No round {round_id}.")
    return r


async def entries_page(store: Store, round_id: str, q: str | None, after: int, limit: int) -> list[Any]:
    return await store.entries_page(round_id, domain.parse_search(q), after, limit)


async def entry_with_history(store: Store, round_id: str, seq: int) -> tuple[dict, list[dict]]:
    e = await store.entry(round_id, seq)
    if e is None:
        raise Problem(404, f"No entry {seq} in round {round_id}.")
    return entry_doc(e), [history_doc(h) for h in await store.entry_history(round_id, seq)]
