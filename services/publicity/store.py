"""Publicity's store: every SQL statement of the service, one method by intent, on a unit of work.

One store for the whole service, the rounds and objections sub-domains included: their statements
read each other's tables (a list becomes final only when no objection is open against anyone on
it; a review's window is the end of a score notice or of a list's notice), so splitting them would
only move those joins into a store that reaches into the other's tables.

Ranking runs in PostgreSQL over each candidate's round score (their application re-scored at the
round's cut-off, `round_scores`, sent by scoring): a round of a million candidates is one
statement, not a million Python objects; a changed score moves only the entries between its old
place and its new one. A candidate's `sort_key` (from scoring: the module
total, then each tie-breaker signed so larger ranks first) compares as an array; a tie left after
every tie-breaker goes to the earlier application. Statements are built once, at import.
"""

from __future__ import annotations

import zlib
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.publicity.domain import Search
from services.publicity.tables import (
    applicants,
    campaign_codes,
    campaigns,
    notices,
    notifications,
    objections,
    round_entries,
    round_entry_history,
    round_scores,
    round_versions,
    rounds,
    scores,
)
from shared.ranges import INT32_MAX

# A city's round sorts a few hundred thousand candidates: in memory, not in temporary files (the
# default 4 MB spilled 26 MB to disk at 200,000). Set for the transaction that ranks.
ROOMY_SORTS = text("SET LOCAL work_mem = '64MB'")
SWEEP_LOCK = select(func.pg_try_advisory_xact_lock(zlib.crc32(b"publicity:rounds")))

# -- applicants, scores, notices, notifications --------------------------------------------------
ADD_NOTICE = pg_insert(notices).on_conflict_do_nothing().returning(notices.c.id)
ADD_NOTIFICATION = pg_insert(notifications).on_conflict_do_nothing()
NOTIFY_APPLICANT = text("""
INSERT INTO publicity.notifications (application_id, score_version, phone, body)
SELECT CAST(:app AS varchar), CAST(:version AS int),
       (SELECT contact_phone FROM publicity.applicants WHERE application_id = CAST(:app AS varchar)),
       CAST(:body AS text)
ON CONFLICT DO NOTHING
""")
ADD_APPLICANT = pg_insert(applicants).on_conflict_do_nothing()
_score = pg_insert(scores)
# An older version arriving late (a replay) never overwrites a newer one.
PUT_SCORE = _score.on_conflict_do_update(
    index_elements=[scores.c.application_id],
    set_={c: _score.excluded[c] for c in ("version", "status", "total", "modules", "lines", "computed_at")},
    where=scores.c.version < _score.excluded.version,
).returning(scores.c.version)
DUE_NOTIFICATIONS = (
    select(notifications)
    .where(notifications.c.status == "pending", notifications.c.next_attempt_at <= bindparam("now"))
    .order_by(notifications.c.next_attempt_at)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)

RECORD_DELIVERY = (
    update(notifications)
    .where(notifications.c.id == bindparam("notification"))
    .values(
        status=bindparam("outcome"),
        attempts=bindparam("tries"),
        error=bindparam("failure"),
        sent_at=bindparam("sent"),
        next_attempt_at=bindparam("next_try"),
    )
)

# -- rounds ----------------------------------------------------------------------------------------
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
    JOIN publicity.round_scores s ON s.round_id = r.id AND s.application_id = a.application_id
    WHERE r.id = :round AND s.status = 'scored' AND CAST(s.modules -> r.module_id ->> 'eligible' AS boolean) {near}
  ) c WHERE ck IS NOT NULL {only}
  ORDER BY ck, sort_key DESC, applied_on, application_id
"""
RANK_ORDER = "sort_key DESC, applied_on, application_id"
PUBLISH = text(f"""
WITH cand AS ({_CANDIDATES.format(near="", only="")}),
ranked AS (SELECT *, row_number() OVER (ORDER BY {RANK_ORDER}) AS rk FROM cand)
INSERT INTO publicity.round_entries (round_id, seq, rank, application_id, candidate_key, name_masked, id_masked,
                                     surname, id_tail, score, sort_key, applied_on, admitted)
SELECT :round, rk, rk, application_id, ck, nm, idm, left(nm, 1), right(idm, 4), score, sort_key, applied_on,
       (CAST(:quota AS int) IS NULL OR rk <= CAST(:quota AS int))
       AND (CAST(:threshold AS float8) IS NULL OR score >= CAST(:threshold AS float8))
FROM ranked
""")
# A closed round's candidates, awaiting their re-scoring at the round's cut-off (one per application:
# a child's two parents are both re-scored, and the ranking takes the better), and the round.closing
# events that ask for it, `:chunk` applications an event: written here, in the database, from the
# template envelope's outbox row, so a city's round never passes through the service's memory.
START_SCORING = text("""
WITH pending AS (
  INSERT INTO publicity.round_scores (round_id, application_id)
  SELECT r.id, a.application_id FROM publicity.rounds r
  JOIN publicity.applicants a ON a.modules @> jsonb_build_array(r.module_id)
       AND a.applied_on BETWEEN r.acceptance_opens AND r.acceptance_closes AND a.withdrawn_at IS NULL
  WHERE r.id = :round AND (CASE WHEN r.candidate = 'child' THEN a.child_key ELSE a.holder_key END) IS NOT NULL
  ON CONFLICT DO NOTHING
  RETURNING application_id
), chunks AS (
  SELECT n, jsonb_agg(application_id ORDER BY application_id) AS ids FROM (
    SELECT application_id, (row_number() OVER (ORDER BY application_id) - 1) / CAST(:chunk AS int) AS n FROM pending
  ) numbered GROUP BY n
), events AS (
  SELECT gen_random_uuid() AS id, n, ids, count(*) OVER () AS total FROM chunks
), written AS (
  INSERT INTO publicity.outbox (event_id, topic, key, event_type, payload)
  SELECT id, :topic, :key, :event_type,
         CAST(:payload AS jsonb) || jsonb_build_object(
           'id', id,
           'data', (CAST(:payload AS jsonb) -> 'data')
                   || jsonb_build_object('chunk', n + 1, 'chunks', total, 'application_ids', ids))
  FROM events ORDER BY n
  RETURNING 1
)
SELECT (SELECT count(*) FROM pending) AS candidates, (SELECT count(*) FROM written) AS chunks
""")
# A list published: each candidate is told their place or, re-scored and not on it, that they are not
# (a child's other parent, whose application the list did not take, is the one not told). A page of
# the round's applications at a time, after the cursor: at close a city's round would cost seconds
# of writing (store.py's texts from domain.round_notification_templates).
TELL_PAGE = text("""
WITH page AS (
  SELECT application_id, version FROM publicity.round_scores
  WHERE round_id = :round AND application_id > :after ORDER BY application_id LIMIT :limit
), told AS (
  INSERT INTO publicity.notifications (application_id, score_version, phone, body, round_id)
  SELECT p.application_id, coalesce(p.version, 0), a.contact_phone,
         CASE WHEN e.seq IS NOT NULL
              THEN format(:placed, p.application_id, e.score, e.rank, CAST(:entries AS int),
                          CASE WHEN e.admitted THEN :admitted ELSE :not_admitted END)
              ELSE format(:not_listed, p.application_id) END,
         :round
  FROM page p
  JOIN publicity.applicants a ON a.application_id = p.application_id
  LEFT JOIN publicity.round_entries e ON e.round_id = :round AND e.application_id = p.application_id
  WHERE e.seq IS NOT NULL OR NOT EXISTS (
    SELECT 1 FROM publicity.round_entries o WHERE o.round_id = :round
    AND o.candidate_key = CASE WHEN CAST(:child AS boolean) THEN a.child_key ELSE a.holder_key END)
  ON CONFLICT DO NOTHING
  RETURNING 1
)
SELECT (SELECT max(application_id) FROM page) AS last, (SELECT count(*) FROM page) AS read,
       (SELECT count(*) FROM told) AS told
""")
ROUNDS_TO_TELL = select(rounds).where(rounds.c.telling_after.is_not(None)).order_by(rounds.c.id)
_round_score = pg_insert(round_scores)
# An answer fills a pending row; a later version (an objection's re-score) replaces an earlier one;
# a round.scored delivered again, or late, changes nothing.
PUT_ROUND_SCORE = _round_score.on_conflict_do_update(
    index_elements=[round_scores.c.round_id, round_scores.c.application_id],
    set_={
        **{c: _round_score.excluded[c] for c in ("status", "version", "based_on", "total", "modules", "lines")},
        "updated_at": func.now(),
    },
    where=(round_scores.c.status == "pending")
    | (
        _round_score.excluded.version.is_not(None)
        & (round_scores.c.version.is_(None) | (round_scores.c.version < _round_score.excluded.version))
    ),
)
PENDING_ROUND_SCORES = select(func.count()).where(
    round_scores.c.round_id == bindparam("round"), round_scores.c.status == "pending"
)
# One candidate's applications only (the key indexes), not the whole round's candidates filtered.
BEST_OF = text(_CANDIDATES.format(near="AND (a.holder_key = :ck OR a.child_key = :ck)", only="AND ck = :ck"))
# One entry changed (its score, or it is new to the list, or it left it): only the entries between
# its old place and its new one move, each by one. The rest of the list is still in order, so the
# new place is one more than the number of the others ranked ahead of it (a scan, no sort), and the
# entries of that range (with the changed one, wherever it is) are ranked among themselves from
# the range's first rank. An objection moving someone a few thousand places re-ranks a few thousand
# entries, not the city. The old values of every entry that moves are kept for the version.
# (The changed entry is read once, materialised: on a list just published, with no statistics yet,
# a join could re-read the whole list for every entry it counts.)
PLACE = text("""
WITH s AS MATERIALIZED (
  SELECT sort_key, applied_on, application_id FROM publicity.round_entries WHERE round_id = :round AND seq = :seq
)
SELECT count(*) + 1 FROM publicity.round_entries o, s
WHERE o.round_id = :round AND o.seq <> :seq
  AND (o.sort_key > s.sort_key
       OR (o.sort_key = s.sort_key AND (o.applied_on, o.application_id) < (s.applied_on, s.application_id)))
""")
_IN_RANGE = "(rank BETWEEN CAST(:lo AS int) AND CAST(:hi AS int) OR seq = CAST(:seq AS int))"
# The update finds each moved entry by its key: with no statistics yet on a list just published,
# the planner may loop over the moved rows, and the range condition there would re-read the range
# once per moved entry.
RERANK = text(f"""
WITH n AS (
  SELECT seq, rank AS old_rank, score, admitted AS old_admitted,
         CAST(:lo AS int) - 1 + row_number() OVER (ORDER BY {RANK_ORDER}) AS rk
  FROM publicity.round_entries WHERE round_id = :round AND {_IN_RANGE}
), m AS (
  SELECT *, (CAST(:quota AS int) IS NULL OR rk <= CAST(:quota AS int))
            AND (CAST(:threshold AS float8) IS NULL OR score >= CAST(:threshold AS float8)) AS adm
  FROM n
), moved AS (
  SELECT * FROM m WHERE old_rank <> rk OR old_admitted <> adm
), kept AS (
  INSERT INTO publicity.round_entry_history (round_id, version, seq, rank, score, admitted)
  SELECT :round, :version, seq, old_rank, score, old_admitted FROM moved
  -- (a hashed subplan: the entry kept already by the caller)
  WHERE seq NOT IN (SELECT h.seq FROM publicity.round_entry_history h
                    WHERE h.round_id = :round AND h.version = :version)
)
UPDATE publicity.round_entries e SET rank = moved.rk, admitted = moved.adm
FROM moved WHERE e.round_id = :round AND e.seq = moved.seq
RETURNING e.seq
""")
KEEP_OLD = text("""
INSERT INTO publicity.round_entry_history (round_id, version, seq, rank, score, admitted)
SELECT round_id, :version, seq, rank, score, admitted
FROM publicity.round_entries WHERE round_id = :round AND seq = :seq
""")
COUNTS = text("""
SELECT count(*) AS entries, count(*) FILTER (WHERE admitted) AS admitted
FROM publicity.round_entries WHERE round_id = :round
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
_e = round_entries.c
_PAGE_COLUMNS = (_e.seq, _e.rank, _e.name_masked, _e.id_masked, _e.score, _e.admitted)
# Keyset pages: rank after the last one seen, on (round, rank) or (round, surname|id_tail, rank) indexes.
PAGE = (
    select(*_PAGE_COLUMNS)
    .where(_e.round_id == bindparam("round"), _e.rank > bindparam("after"))
    .order_by(_e.rank)
    .limit(bindparam("limit"))
)
# The owner's admitted list, keyset on rank like the public pages (the (round, rank) index).
ADMITTED_PAGE = (
    select(_e.rank, _e.seq, _e.application_id, _e.name_masked, _e.id_masked, _e.score)
    .where(_e.round_id == bindparam("round"), _e.admitted, _e.rank > bindparam("after"))
    .order_by(_e.rank)
    .limit(bindparam("limit"))
)
PAGE_BY_SURNAME = PAGE.where(_e.surname == bindparam("surname"))
PAGE_BY_TAIL = PAGE.where(_e.id_tail == bindparam("id_tail"))

# The notice board: current notices, newest first, keyset on (published_at, id) of the last one seen.
SUPERSEDE_NOTICES = (
    update(notices)
    .where(
        notices.c.application_id == bindparam("app"),
        notices.c.score_version < bindparam("version"),
        notices.c.current,
    )
    .values(current=False)
)
_BOARD = """
SELECT n.* FROM publicity.notices n
WHERE n.current {only}
  AND (CAST(:before AS text) IS NULL
       OR (n.published_at, n.id) < (SELECT b.published_at, b.id FROM publicity.notices b WHERE b.id = :before))
ORDER BY n.published_at DESC, n.id DESC
LIMIT :limit
"""
BOARD = text(_BOARD.format(only=""))
BOARD_BY_SURNAME = text(_BOARD.format(only="AND n.surname = :surname"))
BOARD_BY_TAIL = text(_BOARD.format(only="AND n.id_tail = :id_tail"))

# -- objections and reviews --------------------------------------------------------------------------
TAKE_ANSWER = text("""
UPDATE publicity.objections SET pending_departments = pending_departments - CAST(:department AS text)
WHERE id = :id AND status = 'open' RETURNING pending_departments
""")
REVIEW_WINDOWS = text("""
SELECT max(end_on) FROM (
  SELECT max(period_end) AS end_on FROM publicity.notices WHERE application_id = :app
  UNION ALL
  SELECT max(r.notice_end) FROM publicity.round_entries e JOIN publicity.rounds r ON r.id = e.round_id
  WHERE e.application_id = :app AND r.status = 'notice') w
""")


def _round_params(r: Any) -> dict[str, Any]:
    return {"round": r.id, "quota": r.quota, "threshold": r.threshold}


class Store:
    """Publicity's SQL on one unit of work's connection."""

    def __init__(self, uow: Any) -> None:
        self.uow = uow

    @property
    def conn(self) -> Any:
        return self.uow.conn

    # -- applicants, scores, notices ------------------------------------------------------------
    async def add_applicant(self, **row: Any) -> None:
        await self.uow.run(ADD_APPLICANT, row)

    async def withdraw_applicant(self, application_id: str, withdrawn_at: Any) -> None:
        await self.conn.execute(
            update(applicants).where(applicants.c.application_id == application_id).values(withdrawn_at=withdrawn_at)
        )

    async def holder_key(self, application_id: str) -> str | None:
        return await self.conn.scalar(
            select(applicants.c.holder_key).where(applicants.c.application_id == application_id)
        )

    async def candidate_keys(self, application_id: str) -> Any:
        """The applicant's holder and child keys (None for an application publicity never heard of)."""
        return (
            await self.conn.execute(
                select(applicants.c.holder_key, applicants.c.child_key).where(
                    applicants.c.application_id == application_id
                )
            )
        ).first()

    async def put_score(self, **row: Any) -> bool:
        """Keep a score; False when a newer version is kept already (a replay)."""
        return bool(await self.uow.fetch(PUT_SCORE, row))

    async def score(self, application_id: str) -> Any:
        return (await self.conn.execute(select(scores).where(scores.c.application_id == application_id))).first()

    async def add_notice(self, **row: Any) -> bool:
        """Publish a notice; False when this score version was on notice already."""
        return bool(await self.uow.fetch(ADD_NOTICE, row))

    async def notice(self, notice_id: str) -> Any:
        return (await self.conn.execute(select(notices).where(notices.c.id == notice_id))).first()

    async def supersede_notices(self, application_id: str, score_version: int) -> None:
        """A newer score version exists: earlier notices of the application leave the board (at commit,
        batched: nothing in the transaction reads them back)."""
        self.uow.later(SUPERSEDE_NOTICES, {"app": application_id, "version": score_version})

    async def notices(self, application_id: str | None, limit: int) -> list[Any]:
        q = select(notices).order_by(notices.c.published_at.desc(), notices.c.id).limit(limit)
        if application_id:
            q = q.where(notices.c.application_id == application_id)
        return list((await self.conn.execute(q)).all())

    async def notice_versions(self, application_id: str) -> list[Any]:
        """Every notice of one application, newest score version first (the history a notice shows)."""
        q = select(notices).where(notices.c.application_id == application_id).order_by(notices.c.score_version.desc())
        return list((await self.conn.execute(q)).all())

    async def notice_board(self, search: Search, before: str | None, limit: int) -> list[Any]:
        """A keyset page of the board: current notices only, newest first, after the notice `before`
        (the last one of the previous page), of one surname or ID ending if searched."""
        params: dict[str, Any] = {"before": before, "limit": limit}
        if search.id_tail:
            statement, params["id_tail"] = BOARD_BY_TAIL, search.id_tail
        elif search.surname:
            statement, params["surname"] = BOARD_BY_SURNAME, search.surname
        else:
            statement = BOARD
        return list((await self.conn.execute(statement, params)).all())

    # -- notifications ----------------------------------------------------------------------------
    async def add_notification(self, **row: Any) -> None:
        await self.conn.execute(ADD_NOTIFICATION, row)

    def notify_applicant(self, application_id: str, score_version: int, body: str) -> None:
        """A score's message to the applicant, at the phone they gave (written at commit, batched)."""
        self.uow.later(NOTIFY_APPLICANT, {"app": application_id, "version": score_version, "body": body})

    async def due_notifications(self, now: datetime, limit: int) -> list[Any]:
        """Pending notifications due by `now`, locked (SKIP LOCKED: replicas never send one twice)."""
        return list((await self.conn.execute(DUE_NOTIFICATIONS, {"now": now, "limit": limit})).all())

    async def record_deliveries(self, outcomes: list[dict[str, Any]]) -> None:
        """What came of each delivery tried ({id, status, attempts, error, sent_at, next_attempt_at}), in
        one statement for the batch (a round's list tells a city at once)."""
        if outcomes:
            rows = [
                {
                    "notification": o["id"],
                    "outcome": o["status"],
                    "tries": o["attempts"],
                    "failure": o["error"],
                    "sent": o["sent_at"],
                    "next_try": o["next_attempt_at"],
                }
                for o in outcomes
            ]
            await self.conn.execute(RECORD_DELIVERY, rows)

    # -- campaigns (模拟积分 with real holders) -------------------------------------------------------
    async def add_campaign(self, **row: Any) -> None:
        await self.conn.execute(pg_insert(campaigns).values(**row).on_conflict_do_nothing())

    async def open_campaigns(self, today: date) -> list[Any]:
        q = select(campaigns).where(campaigns.c.opens_on <= today, campaigns.c.closes_on >= today)
        return list((await self.conn.execute(q.order_by(campaigns.c.closes_on, campaigns.c.id))).all())

    async def campaign(self, campaign_id: str) -> Any:
        return (await self.conn.execute(select(campaigns).where(campaigns.c.id == campaign_id))).first()

    async def add_campaign_code(self, **row: Any) -> bool:
        """False if the holder has a code for the campaign already (a redelivered invitation)."""
        q = pg_insert(campaign_codes).values(**row).on_conflict_do_nothing().returning(campaign_codes.c.holder_key)
        return (await self.conn.execute(q)).first() is not None

    async def campaign_code(self, campaign_id: str, key: str) -> Any:
        """The holder's code, locked: two guesses at once cannot both pass the failure count."""
        q = select(campaign_codes).where(
            campaign_codes.c.campaign_id == campaign_id, campaign_codes.c.holder_key == key
        )
        return (await self.conn.execute(q.with_for_update())).first()

    async def campaign_code_failed(self, campaign_id: str, key: str) -> None:
        await self.conn.execute(
            update(campaign_codes)
            .where(campaign_codes.c.campaign_id == campaign_id, campaign_codes.c.holder_key == key)
            .values(failures=campaign_codes.c.failures + 1)
        )

    async def forget_closed_campaigns(self, today: date) -> None:
        await self.conn.execute(delete(campaign_codes).where(campaign_codes.c.closes_on < today))
        await self.conn.execute(delete(campaigns).where(campaigns.c.closes_on < today))

    # -- rounds -------------------------------------------------------------------------------------
    async def take_sweep_lock(self) -> bool:
        """One replica sweeps at a time (until this transaction ends); False if another one is."""
        return bool(await self.conn.scalar(SWEEP_LOCK))

    async def add_round(self, **row: Any) -> None:
        await self.conn.execute(insert(rounds).values(**row))

    async def round(self, round_id: str, *, lock: bool = False) -> Any:
        q = select(rounds).where(rounds.c.id == round_id)
        return (await self.conn.execute(q.with_for_update() if lock else q)).first()

    async def rounds(self, status: str | None, limit: int) -> list[Any]:
        q = select(rounds).order_by(rounds.c.created_at.desc()).limit(limit)
        if status:
            q = q.where(rounds.c.status == status)
        return list((await self.conn.execute(q)).all())

    async def public_rounds(self, limit: int = 50) -> list[Any]:
        """Rounds the public pages list: on notice first, then final; latest notice first."""
        return list(
            (
                await self.conn.execute(
                    select(rounds)
                    .where(rounds.c.status.in_(["notice", "final"]))
                    .order_by(rounds.c.status.desc(), rounds.c.notice_end.desc())
                    .limit(limit)
                )
            ).all()
        )

    async def rounds_due_to_close(self, today: date) -> list[str]:
        return list(
            (
                await self.conn.execute(
                    select(rounds.c.id).where(rounds.c.status == "accepting", rounds.c.acceptance_closes < today)
                )
            )
            .scalars()
            .all()
        )

    async def publish_list(self, r: Any) -> tuple[int, int]:
        """Rank everyone eligible who chose the round's module; returns (entries, admitted)."""
        await self.conn.execute(ROOMY_SORTS)
        await self.conn.execute(PUBLISH, _round_params(r))
        return await self.list_counts(r.id)

    async def rounds_to_tell(self) -> list[Any]:
        """Rounds whose published list has candidates yet to be told."""
        return list((await self.conn.execute(ROUNDS_TO_TELL)).all())

    async def tell_page(
        self, r: Any, texts: tuple[str, str], admitted: dict[bool, str], limit: int
    ) -> tuple[int, int, str | None]:
        """Tell the next `limit` applications of the round after its cursor (store.TELL_PAGE); returns
        how many were read and told, and the last one read (None: the round had nobody left)."""
        placed, not_listed = texts
        page = (
            await self.conn.execute(
                TELL_PAGE,
                {
                    "round": r.id,
                    "after": r.telling_after,
                    "limit": limit,
                    "placed": placed,
                    "not_listed": not_listed,
                    "entries": r.entries,
                    "admitted": admitted[True],
                    "not_admitted": admitted[False],
                    "child": r.candidate == "child",
                },
            )
        ).one()
        return int(page.read), int(page.told), page.last

    async def start_round_scoring(self, round_id: str, closing: dict[str, Any], chunk: int) -> tuple[int, int]:
        """Every candidate of the round, pending their round score, and the round.closing events asking
        for them (`closing`: the outbox row of one, its data without applications); returns how many
        candidates and events."""
        params = {
            "round": round_id,
            "chunk": chunk,
            "topic": closing["topic"],
            "key": closing["key"],
            "event_type": closing["event_type"],
            "payload": orjson.dumps(closing["payload"]).decode(),
        }
        counts = (await self.conn.execute(START_SCORING, params)).one()
        return int(counts.candidates), int(counts.chunks)

    async def put_round_scores(self, rows: list[dict[str, Any]]) -> None:
        """Keep candidates' round scores ({round_id, application_id, status, version, based_on, total,
        modules, lines}); an older version than the one kept changes nothing."""
        if rows:
            await self.conn.execute(PUT_ROUND_SCORE, rows)

    async def round_scores_pending(self, round_id: str) -> int:
        return int(await self.conn.scalar(PENDING_ROUND_SCORES, {"round": round_id}) or 0)

    async def list_counts(self, round_id: str) -> tuple[int, int]:
        counts = (await self.conn.execute(COUNTS, {"round": round_id})).one()
        return counts.entries, counts.admitted

    async def update_round(self, round_id: str, **values: Any) -> None:
        await self.conn.execute(update(rounds).where(rounds.c.id == round_id).values(**values))

    async def add_list_version(self, round_id: str, version: int, reason: str, changed: int) -> None:
        await self.conn.execute(
            insert(round_versions).values(round_id=round_id, version=version, reason=reason, changed=changed)
        )

    async def rounds_on_notice_of(self, application_id: str) -> list[Any]:
        """The rounds on notice whose list the application belongs on, locked for a re-rank."""
        return await self.uow.fetch(ROUNDS_OF_APPLICATION, {"app": application_id})

    async def best_candidate(self, round_id: str, candidate_key: str) -> Any:
        """The candidate's best eligible application in the round (None: none counts now)."""
        return (await self.conn.execute(BEST_OF, {"round": round_id, "ck": candidate_key})).first()

    async def entry_of_candidate(self, round_id: str, candidate_key: str) -> Any:
        return (
            await self.conn.execute(
                select(round_entries).where(_e.round_id == round_id, _e.candidate_key == candidate_key)
            )
        ).first()

    async def keep_old_entry(self, round_id: str, version: int, seq: int) -> None:
        await self.conn.execute(KEEP_OLD, {"round": round_id, "version": version, "seq": seq})

    async def remove_entry(self, round_id: str, seq: int) -> None:
        await self.conn.execute(round_entries.delete().where(_e.round_id == round_id, _e.seq == seq))

    async def add_entry(self, round_id: str, candidate_key: str, best: Any) -> int:
        """A candidate new to the list, at the bottom until re-ranked; returns its entry number."""
        seq = (await self.conn.scalar(select(func.coalesce(func.max(_e.seq), 0)).where(_e.round_id == round_id))) + 1
        await self.conn.execute(
            insert(round_entries).values(
                round_id=round_id,
                seq=seq,
                rank=2**31 - 1,
                application_id=best.application_id,
                candidate_key=candidate_key,
                name_masked=best.nm,
                id_masked=best.idm,
                surname=best.nm[:1],
                id_tail=best.idm[-4:],
                score=best.score,
                sort_key=list(best.sort_key),
                applied_on=best.applied_on,
                admitted=False,
            )
        )
        return seq

    async def restate_entry(self, round_id: str, seq: int, best: Any) -> None:
        await self.conn.execute(
            update(round_entries)
            .where(_e.round_id == round_id, _e.seq == seq)
            .values(score=best.score, sort_key=list(best.sort_key), application_id=best.application_id)
        )

    async def rerank(self, r: Any, version: int, seq: int | None, old_rank: int | None) -> int:
        """Put the changed entry `seq` in its place (it was ranked `old_rank`; None: new to the list,
        at its end), moving the entries in between by one; with no `seq`, close the gap an entry
        removed at `old_rank` left. Keeps the old values of what moved; returns how many moved."""
        if seq is None:
            lo, hi = old_rank or 1, INT32_MAX
        else:
            new_rank = await self.conn.scalar(PLACE, {"round": r.id, "seq": seq})
            if old_rank is None:
                old_rank = (await self.list_counts(r.id))[0]
            lo, hi = min(old_rank, new_rank), max(old_rank, new_rank)
        await self.conn.execute(ROOMY_SORTS)
        params = {**_round_params(r), "version": version, "lo": lo, "hi": hi, "seq": seq}
        return len((await self.conn.execute(RERANK, params)).all())

    async def rounds_due_for_final(self, today: date) -> list[str]:
        return list((await self.conn.execute(DUE_FOR_FINAL, {"today": today})).scalars().all())

    async def finalise_round(self, round_id: str, at: datetime) -> Any:
        return (
            await self.conn.execute(
                update(rounds).where(rounds.c.id == round_id).values(status="final", finalized_at=at).returning(rounds)
            )
        ).one()

    async def admitted_page(self, round_id: str, after: int, limit: int) -> list[Any]:
        """Admitted entries ranked after `after`, best first, at most `limit`."""
        return list((await self.conn.execute(ADMITTED_PAGE, {"round": round_id, "after": after, "limit": limit})).all())

    async def entries_page(self, round_id: str, search: Search, after: int, limit: int) -> list[Any]:
        params: dict[str, Any] = {"round": round_id, "after": after, "limit": limit}
        if search.id_tail:
            statement, params["id_tail"] = PAGE_BY_TAIL, search.id_tail
        elif search.surname:
            statement, params["surname"] = PAGE_BY_SURNAME, search.surname
        else:
            statement = PAGE
        return list((await self.conn.execute(statement, params)).all())

    async def round_candidates(self, round_id: str) -> list[Any]:
        """Every entry of a round's list with its application, in rank order (a replay's candidates)."""
        statement = (
            select(_e.seq, _e.rank, _e.application_id, _e.name_masked, _e.id_masked, _e.score, _e.admitted)
            .where(_e.round_id == round_id)
            .order_by(_e.rank)
        )
        return list((await self.conn.execute(statement, {})).all())

    async def entry(self, round_id: str, seq: int) -> Any:
        return (await self.conn.execute(select(round_entries).where(_e.round_id == round_id, _e.seq == seq))).first()

    async def entry_history(self, round_id: str, seq: int) -> list[Any]:
        h = round_entry_history.c
        return list(
            (
                await self.conn.execute(
                    select(h.version, h.rank, h.score, h.admitted)
                    .where(h.round_id == round_id, h.seq == seq)
                    .order_by(h.version)
                )
            ).all()
        )

    async def entry_lines(self, round_id: str, seq: int) -> list[dict]:
        """The points behind an entry (labels and points only), as the round scored them."""
        rs = round_scores.c
        row = (
            await self.conn.execute(
                select(rs.lines)
                .join(round_entries, (_e.application_id == rs.application_id) & (_e.round_id == rs.round_id))
                .where(_e.round_id == round_id, _e.seq == seq)
            )
        ).first()
        return list(row.lines) if row else []

    async def list_versions(self, round_id: str) -> list[Any]:
        v = round_versions.c
        return list(
            (await self.conn.execute(select(round_versions).where(v.round_id == round_id).order_by(v.version))).all()
        )

    # -- objections and reviews ---------------------------------------------------------------------
    async def lodged_since(self, client: str, since: datetime) -> list[datetime]:
        """When this client lodged objections since `since`, oldest first; the client is locked
        (until this transaction ends) so replicas count the same objections."""
        await self.conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"objections:{client}"))))
        return list(
            (
                await self.conn.execute(
                    select(objections.c.lodged_at)
                    .where(objections.c.client == client, objections.c.lodged_at > since)
                    .order_by(objections.c.lodged_at)
                )
            )
            .scalars()
            .all()
        )

    async def review_window_end(self, application_id: str) -> date | None:
        """The last day of any notice the application is on (a score notice, or a list on notice)."""
        return await self.conn.scalar(REVIEW_WINDOWS, {"app": application_id})

    async def add_objection(self, **row: Any) -> None:
        await self.conn.execute(insert(objections).values(**row))

    async def objection(self, objection_id: str) -> Any:
        return (await self.conn.execute(select(objections).where(objections.c.id == objection_id))).first()

    async def take_department_answer(self, objection_id: str, department: str) -> list[str] | None:
        """Strike the department off an open request; the departments still to answer (None: not open)."""
        return (await self.conn.execute(TAKE_ANSWER, {"id": objection_id, "department": department})).scalar()

    async def update_objection(self, objection_id: str, **values: Any) -> None:
        await self.conn.execute(update(objections).where(objections.c.id == objection_id).values(**values))

    async def answer_open_objection(self, objection_id: str, **values: Any) -> Any:
        """Answer the objection if it is open; the answered row, or None."""
        return (
            await self.conn.execute(
                update(objections)
                .where(objections.c.id == objection_id, objections.c.status == "open")
                .values(**values)
                .returning(objections)
            )
        ).first()

    async def objections_at_desk(self, status: str, limit: int) -> list[Any]:
        return list(
            (
                await self.conn.execute(
                    select(objections)
                    .where(objections.c.status == status)
                    .order_by(objections.c.due_by, objections.c.lodged_at)
                    .limit(limit)
                )
            ).all()
        )
