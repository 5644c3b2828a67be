"""A changed score moves only the entries between its old place and its new one: against the real
PostgreSQL, a list of 400 entries (with ties in score and date) is restated, joined and left at
random, and after every change the stored ranks, admissions and kept history are what sorting the
whole list again gives."""

from __future__ import annotations

import random
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from services.publicity.store import Store
from services.publicity.tables import round_entries, round_entry_history, rounds

pytestmark = pytest.mark.integration
ROUND = "RND-RERANK-TEST"
QUOTA = 40


def expected(entries: dict[int, dict]) -> dict[int, tuple[int, bool]]:
    order = sorted(entries.values(), key=lambda e: (tuple(-k for k in e["sort_key"]), e["applied_on"], e["app"]))
    return {e["seq"]: (rank, rank <= QUOTA) for rank, e in enumerate(order, start=1)}


def person(rng: random.Random, seq: int) -> dict:
    score = float(rng.randrange(50, 90))  # few distinct scores: many ties, broken by date then id
    return {
        "seq": seq,
        "app": f"APP-RR-{rng.randrange(10**6):06d}-{seq}",
        "sort_key": [score, float(rng.randrange(3))],
        "applied_on": date(2026, 3, 1 + rng.randrange(5)),
    }


async def test_moving_one_entry_ranks_the_list_as_a_full_sort_would(platform):
    rng = random.Random(19)
    engine = create_async_engine(platform.database_url)
    people = {seq: person(rng, seq) for seq in range(1, 401)}
    async with engine.begin() as conn:
        for table in (round_entry_history, round_entries):
            await conn.execute(table.delete().where(table.c.round_id == ROUND))
        await conn.execute(rounds.delete().where(rounds.c.id == ROUND))
        await conn.execute(
            insert(rounds).values(
                id=ROUND,
                module_id="rerank-test",
                owner="test",
                candidate="holder",
                name={"zh": "测"},
                tie_breakers=[],
                acceptance_opens=date(2026, 3, 1),
                acceptance_closes=date(2026, 3, 5),
                cut_off_date=date(2026, 2, 1),
                quota=QUOTA,
                threshold=None,
                notice_working_days=7,
                status="notice",
                list_version=1,
                created_by="test",
            )
        )
        ranks = expected(people)
        await conn.execute(
            insert(round_entries),
            [
                {
                    "round_id": ROUND,
                    "seq": p["seq"],
                    "rank": ranks[p["seq"]][0],
                    "application_id": p["app"],
                    "candidate_key": f"k{p['seq']}",
                    "name_masked": "王*",
                    "id_masked": "3301**********0001",
                    "surname": "王",
                    "id_tail": "0001",
                    "score": p["sort_key"][0],
                    "sort_key": p["sort_key"],
                    "applied_on": p["applied_on"],
                    "admitted": ranks[p["seq"]][1],
                }
                for p in people.values()
            ],
        )
    r = SimpleNamespace(id=ROUND, quota=QUOTA, threshold=None)
    next_seq = 401
    for version in range(2, 62):
        async with engine.begin() as conn:
            store = Store(SimpleNamespace(conn=conn))
            before = {
                row.seq: (row.rank, row.admitted)
                for row in await conn.execute(
                    text("SELECT seq, rank, admitted FROM publicity.round_entries WHERE round_id = :r"), {"r": ROUND}
                )
            }
            kind = rng.choice(["restate", "restate", "restate", "join", "leave"])
            if kind == "restate":
                seq = rng.choice(list(people))
                new = person(rng, seq)
                people[seq].update(sort_key=new["sort_key"])
                await store.keep_old_entry(ROUND, version, seq)
                await conn.execute(
                    text(
                        "UPDATE publicity.round_entries SET sort_key = :k, score = :s WHERE round_id = :r AND seq = :q"
                    ),
                    {"k": new["sort_key"], "s": new["sort_key"][0], "r": ROUND, "q": seq},
                )
                moved = await store.rerank(r, version, seq, before[seq][0])
            elif kind == "join":
                p = person(rng, next_seq)
                best = SimpleNamespace(
                    application_id=p["app"],
                    nm="李*",
                    idm="3301**********0002",
                    score=p["sort_key"][0],
                    sort_key=p["sort_key"],
                    applied_on=p["applied_on"],
                )
                seq = await store.add_entry(ROUND, f"k{next_seq}", best)
                assert seq == next_seq
                people[seq], next_seq = p, next_seq + 1
                moved = await store.rerank(r, version, seq, None)
            else:
                seq = rng.choice(list(people))
                await store.keep_old_entry(ROUND, version, seq)
                await store.remove_entry(ROUND, seq)
                del people[seq]
                moved = await store.rerank(r, version, None, before[seq][0])
            now = {
                row.seq: (row.rank, row.admitted)
                for row in await conn.execute(
                    text("SELECT seq, rank, admitted FROM publicity.round_entries WHERE round_id = :r"), {"r": ROUND}
                )
            }
            assert now == expected(people), f"version {version}: {kind} of entry {seq}"
            # Every entry that moved (or whose admission changed) has its old values kept, once.
            changed = {s for s in now if s in before and now[s] != before[s]}
            kept = {
                row.seq: (row.rank, row.admitted)
                for row in await conn.execute(
                    text(
                        "SELECT seq, rank, admitted FROM publicity.round_entry_history "
                        "WHERE round_id = :r AND version = :v"
                    ),
                    {"r": ROUND, "v": version},
                )
            }
            assert changed <= set(kept) and all(kept[s] == before[s] for s in changed)
            # It counts what it moved: the entries whose rank or admission changed (a newcomer included).
            assert moved == len({s for s in now if now[s] != before.get(s)})
    await engine.dispose()
