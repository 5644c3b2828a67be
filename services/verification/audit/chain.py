"""Appending to a department's hash chain, and checking one against its latest anchor."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from services.verification.domain import GENESIS, chain_hash

# uow.memo: the chain heads this transaction has locked, carried from one event of a batch to the next.
CHAIN_HEADS = "verification.chain_heads"


@dataclass
class ChainHeads:
    """Each department's chain head as this transaction has moved it (locked at first use)."""

    last_hash: dict[str, str] = field(default_factory=dict)


async def append(
    uow: Any, department: str, application_id: str, requester: str, entries: list[tuple[str, dict[str, Any], Any]]
) -> None:
    """Append (fact, query, response) entries to the department's chain, in this transaction.

    The log keeps a digest of what came back, not the personal data itself: enough to prove
    later what a department saw (the department's result holds the facts), without a second
    copy of everyone's records in a table nobody may ever delete from. The chain head is locked once per
    transaction and then carried in memory, so a batch of events extends the chain with one read and two
    batched writes at commit.
    """
    heads: ChainHeads = uow.memo.setdefault(CHAIN_HEADS, ChainHeads())
    prev = heads.last_hash.get(department)
    if prev is None:
        prev = await uow.store.lock_chain_head(department)
    for fact, query, response in entries:
        at = datetime.now(UTC)
        entry = {
            "department": department,
            "application_id": application_id,
            "requester": requester,
            "fact": fact,
            "query": query,
            "response": response_digest(response),
            "at": at.isoformat(),
        }
        h = chain_hash(prev, entry)
        uow.store.add_audit_entry({**entry, "at": at, "prev_hash": prev, "hash": h})
        prev = h
    heads.last_hash[department] = prev
    uow.store.move_chain_head(department, prev)


def response_digest(response: Any) -> dict[str, Any]:
    """What came back, as a SHA-256 of its canonical JSON, or of the bytes (and how many records, when a list)."""
    canonical = (
        response if isinstance(response, bytes) else orjson.dumps(response, option=orjson.OPT_SORT_KEYS, default=str)
    )
    digest: dict[str, Any] = {"sha256": hashlib.sha256(canonical).hexdigest()}
    if isinstance(response, list):
        digest["records"] = len(response)
    return digest


@dataclass(frozen=True)
class ChainCheck:
    intact: bool
    entries_checked: int  # intact entries, from the first
    first_broken_entry: int | None  # the id of the first entry that does not follow from the one before
    last_entry: int | None  # the id the chain ends at
    anchored_entry: int | None  # the latest anchor's entry id (anchors.py)
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def verify_chain(uow: Any, department: str) -> ChainCheck:
    """Recompute the chain and hold it against its latest anchor: an edited or removed entry breaks
    the chain where it was; a tail cut off leaves the chain ending before the anchored entry."""
    anchor = await uow.store.latest_anchor(department)
    prev, n, last = GENESIS, 0, None
    async for row in uow.store.chain(department):
        entry = {
            "department": row.department,
            "application_id": row.application_id,
            "requester": row.requester,
            "fact": row.fact,
            "query": row.query,
            "response": row.response,
            "at": row.at.isoformat(),
        }
        if row.prev_hash != prev or chain_hash(prev, entry) != row.hash:
            return ChainCheck(
                False,
                n,
                row.id,
                None,
                anchor and anchor.entry_id,
                f"entry {row.id} does not follow from the entry before it",
            )
        if anchor is not None and row.id == anchor.entry_id and row.hash != anchor.hash:
            return ChainCheck(
                False, n, row.id, None, anchor.entry_id, f"entry {row.id} is not the entry that was anchored"
            )
        prev, last = row.hash, row.id
        n += 1
    if anchor is not None and (last or 0) < anchor.entry_id:
        ends = f"ends at entry {last}" if last is not None else "is empty"
        return ChainCheck(
            False,
            n,
            None,
            last,
            anchor.entry_id,
            f"the chain {ends} but was anchored at entry {anchor.entry_id}: its tail was cut off",
        )
    return ChainCheck(True, n, None, last, anchor and anchor.entry_id)
