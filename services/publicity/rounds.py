"""Rounds of an X-module: accept, close and rank, publish, re-rank during the notice, finalise.

Ranking runs in PostgreSQL over each application's latest score: a round of a million
candidates is one statement, not a million Python objects. A candidate's `sort_key` (from
scoring: the module total, then each tie-breaker signed so larger ranks first) compares as
an array; a tie left after every tie-breaker goes to the earlier application.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import func, insert, select, text, update

from services.publicity import domain
from services.publicity.tables import applicants, round_entries, round_versions, rounds
from shared.db import UnitOfWork
from shared.events import Envelope
from shared.events.catalogue import AdmittedEntry, RoundFinalized

# One candidate per person: a child named by both parents takes the better parent's score.
_CANDIDATES = """
  SELECT DISTINCT ON (ck) ck, application_id, nm, idm, applied_on, score, sort_key FROM (
    SELECT a.application_id, a.applied_on,
           CASE WHEN r.candidate = 'child' THEN a.child_key ELSE a.holder_key END AS ck,
           CASE WHEN r.candidate = 'child' THEN a.child_name_masked ELSE a.holder_name_masked END AS nm,
           CASE WHEN r.candidate = 'child' THEN a.child_id_masked ELSE a.holder_id_masked END AS idm,
           CAST(s.modules -> r.module_id ->> 'total' AS float8) AS score,
           ARRAY(SELECT CAST(jsonb_array_elements_text(s.modules -> r.module_id -> 'sort_key') AS float8)) AS sort_key
    FROM publicity.rounds r
    JOIN publicity.applicants a ON a.modules @> jsonb_build_array(r.module_id)
         AND a.applied_on BETWEEN r.acceptance_opens AND r.acceptance_closes AND a.withdrawn_at IS NULL
    JOIN publicity.scores s ON s.application_id = a.application_id
    WHERE r.id = :round AND s.status = 'scored' AND CAST(s.modules -> r.module_id ->> 'eligible' AS boolean)
  ) c WHERE ck IS NOT NULL {only}
  ORDER BY ck, sort_key DESC, applied_on, application_id
"""
RANK_ORDER = "sort_key DESC, applied_on, application_id"
PUBLISH = text(f"""
WITH cand AS ({_CANDIDATES.format(only="")}),
ranked AS (SELECT *, row_number() OVER (ORDER BY {RANK_ORDER}) AS rk FROM cand)
INSERT INTO publicity.round_entries (round_id, seq, rank, application_id, candidate_key, name_masked, id_masked,
                                     surname, id_tail, score, sort_key, applied_on, admitted)
SELECT :round, rk, rk, application_id, ck, nm, idm, left(nm, 1), right(idm, 4), score, sort_key, applied_on,
       (CAST(:quota AS int) IS NULL OR rk <= CAST(:quota AS int))
       AND (CAST(:threshold AS float8) IS NULL OR score >= CAST(:threshold AS float8))
FROM ranked
""")
BEST_OF = text(_CANDIDATES.format(only="AND ck = :ck"))
# New ranks for the whole list; the old values of every entry that moves are kept for the version.
RERANK = text(f"""
WITH n AS (
  SELECT seq, rank AS old_rank, score, admitted AS old_admitted,
         row_number() OVER (ORDER BY {RANK_ORDER}) AS rk
  FROM publicity.round_entries WHERE round_id = :round
), m AS (
  SELECT *, (CAST(:quota AS int) IS NULL OR rk <= CAST(:quota AS int))
            AND (CAST(:threshold AS float8) IS NULL OR score >= CAST(:threshold AS float8)) AS adm
  FROM n
), moved AS (
  SELECT * FROM m WHERE old_rank <> rk OR old_admitted <> adm
), kept AS (
  INSERT INTO publicity.round_entry_history (round_id, version, seq, rank, score, admitted)
  SELECT :round, :version, seq, old_rank, score, old_admitted FROM moved
  WHERE NOT EXISTS (SELECT 1 FROM publicity.round_entry_history h
                    WHERE h.round_id = :round AND h.version = :version AND h.seq = moved.seq)
)
UPDATE publicity.round_entries e SET rank = moved.rk, admitted = moved.adm
FROM moved WHERE e.round_id = :round AND e.seq = moved.seq
RETURNING e.seq
""")
KEEP_OLD = text("""
INSERT INTO publicity.round_entry_history (round_id, version, seq, rank, score, admitted)
SELECT round_id, :version, seq, rank, score, admitted FROM publicity.round_entries WHERE round_id = :round AND seq = :seq
""")
COUNTS = text("""
SELECT count(*) AS entries, count(*) FILTER (WHERE admitted) AS admitted FROM publicity.round_entries WHERE round_id = :round
""")
# Rounds on notice whose period is over and where no objection or review is open against the list or anyone on it.
DUE_FOR_FINAL = text("""
SELECT r.id FROM publicity.rounds r
WHERE r.status = 'notice' AND r.notice_end < :today
  AND NOT EXISTS (SELECT 1 FROM publicity.objections o WHERE o.status = 'open'
                  AND (o.round_id = r.id OR EXISTS (SELECT 1 FROM publicity.round_entries e
                                                    WHERE e.round_id = r.id AND e.application_id = o.application_id)))
ORDER BY r.id FOR UPDATE OF r SKIP LOCKED
""")
ROUNDS_OF_APPLICATION = text("""
SELECT r.* FROM publicity.rounds r JOIN publicity.applicants a ON a.application_id = :app
WHERE r.status = 'notice' AND a.modules @> jsonb_build_array(r.module_id)
  AND a.applied_on BETWEEN r.acceptance_opens AND r.acceptance_closes
ORDER BY r.id FOR UPDATE OF r
""")


def _params(r: Any) -> dict[str, Any]:
    return {"round": r.id, "quota": r.quota, "threshold": r.threshold}


async def close_round(uow: UnitOfWork, round_id: str, today: date) -> dict[str, Any]:
    """Rank everyone eligible who chose the module and publish the list for the notice period."""
    r = (await uow.conn.execute(select(rounds).where(rounds.c.id == round_id).with_for_update())).first()
    if r is None or r.status != "accepting":
        raise domain.ObjectionRefused(409, f"Round {round_id} is not accepting: it was closed already.",
                                      "/problems/round-closed")
    await uow.conn.execute(PUBLISH, _params(r))
    counts = (await uow.conn.execute(COUNTS, {"round": r.id})).one()
    start, end = domain.notice_period(today, r.notice_working_days)
    await uow.conn.execute(update(rounds).where(rounds.c.id == r.id).values(
        status="notice", list_version=1, entries=counts.entries, admitted=counts.admitted,
        notice_start=start, notice_end=end))
    await uow.conn.execute(insert(round_versions).values(round_id=r.id, version=1, reason="published",
                                                         changed=counts.entries))
    return {"entries": counts.entries, "admitted": counts.admitted, "notice_start": start, "notice_end": end}


async def close_due(uow: UnitOfWork, today: date) -> list[str]:
    due = (await uow.conn.execute(select(rounds.c.id).where(rounds.c.status == "accepting",
                                                           rounds.c.acceptance_closes < today))).scalars().all()
    for round_id in due:
        await close_round(uow, round_id, today)
    return list(due)


async def rescore(uow: UnitOfWork, application_id: str) -> list[str]:
    """A new score during a notice: move the candidate's entry, re-rank, publish a new version
    with the old values kept. Returns the rounds re-published."""
    changed_rounds = []
    keys = (await uow.conn.execute(select(applicants.c.holder_key, applicants.c.child_key)
                                   .where(applicants.c.application_id == application_id))).first()
    for r in (await uow.conn.execute(ROUNDS_OF_APPLICATION, {"app": application_id})).all():
        key = keys.child_key if r.candidate == "child" else keys.holder_key
        if key is None:
            continue
        best = (await uow.conn.execute(BEST_OF, {"round": r.id, "ck": key})).first()
        entry = (await uow.conn.execute(select(round_entries).where(
            round_entries.c.round_id == r.id, round_entries.c.candidate_key == key))).first()
        version = r.list_version + 1
        if entry is not None and best is not None and (entry.score, list(entry.sort_key), entry.application_id) == (
                best.score, list(best.sort_key), best.application_id):
            continue  # the same standing: nothing to re-publish
        if entry is None and best is None:
            continue
        if entry is not None:
            await uow.conn.execute(KEEP_OLD, {"round": r.id, "version": version, "seq": entry.seq})
        if best is None:
            await uow.conn.execute(round_entries.delete().where(round_entries.c.round_id == r.id,
                                                                round_entries.c.seq == entry.seq))
        elif entry is None:
            new_seq = (await uow.conn.scalar(select(func.coalesce(func.max(round_entries.c.seq), 0))
                                         .where(round_entries.c.round_id == r.id))) + 1
            await uow.conn.execute(insert(round_entries).values(
                round_id=r.id, seq=new_seq, rank=2**31 - 1, application_id=best.application_id, candidate_key=key,
                name_masked=best.nm, id_masked=best.idm, surname=best.nm[:1], id_tail=best.idm[-4:],
                score=best.score, sort_key=list(best.sort_key), applied_on=best.applied_on, admitted=False))
        else:
            await uow.conn.execute(update(round_entries).where(
                round_entries.c.round_id == r.id, round_entries.c.seq == entry.seq).values(
                score=best.score, sort_key=list(best.sort_key), application_id=best.application_id))
        moved = (await uow.conn.execute(RERANK, {**_params(r), "version": version})).all()
        counts = (await uow.conn.execute(COUNTS, {"round": r.id})).one()
        await uow.conn.execute(update(rounds).where(rounds.c.id == r.id).values(
            list_version=version, entries=counts.entries, admitted=counts.admitted))
        seq = entry.seq if entry is not None else "new"
        reason = f"第{seq}号重新计分 entry {seq} re-scored"
        await uow.conn.execute(insert(round_versions).values(round_id=r.id, version=version, reason=reason,
                                                             changed=max(len(moved), 1)))
        changed_rounds.append(r.id)
    return changed_rounds


async def finalize_due(uow: UnitOfWork, today: date, source: str = "publicity") -> list[str]:
    """Lists whose notice ended with nothing open become final, and the module owner is told who is admitted."""
    done = []
    for round_id in (await uow.conn.execute(DUE_FOR_FINAL, {"today": today})).scalars().all():
        now = datetime.now(timezone.utc)
        r = (await uow.conn.execute(update(rounds).where(rounds.c.id == round_id)
                                    .values(status="final", finalized_at=now).returning(rounds))).one()
        admitted = (await uow.conn.execute(select(round_entries).where(
            round_entries.c.round_id == round_id, round_entries.c.admitted).order_by(round_entries.c.rank))).all()
        uow.emit(Envelope.new(RoundFinalized(
            round_id=r.id, module_id=r.module_id, owner=r.owner, list_version=r.list_version, notice_end=r.notice_end,
            finalized_at=now, entries=r.entries,
            admitted=[AdmittedEntry(rank=e.rank, application_id=e.application_id, candidate_name_masked=e.name_masked,
                                    candidate_id_number_masked=e.id_masked, score=e.score) for e in admitted]),
            source=source, subject=r.id))
        done.append(round_id)
    return done

