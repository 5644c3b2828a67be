"""Every SQL statement of scoring (but the simulation queue's, in simulation/store.py), one method by intent.

Built on a unit of work (`Store(uow)`, given to ServiceSpec as `store=`): handlers, use cases
and routes ask for what they mean (the answers of an application, the latest score version)
and never write SQL themselves. Statements are built once, at import: compiling one costs
more than running it (see the intake handlers on statement cost).
"""

from __future__ import annotations

import zlib
from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, insert, select, union, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.scoring.domain import RuleSetState
from services.scoring.tables import (
    applications,
    modules,
    received,
    round_candidates,
    rounds,
    rule_sets,
    rule_texts,
    scores,
    withdrawn,
)

ADD_ANSWER = insert(received)
ADDED_ANSWERS = "scoring:answers-added"  # the unit of work's memo: answers this transaction is to insert
_OWN = scores.c.round_id.is_(None)  # the application's own score, not a round's re-scoring of it
# A re-verification (after an objection, or a supplemented item) replaces the department's answer.
# (An UPDATE's parameters in WHERE may not share a column's name: hence the b_ prefix.)
REPLACE_ANSWER = (
    update(received)
    .where(
        received.c.application_id == bindparam("b_application_id"), received.c.department == bindparam("b_department")
    )
    .values(holder=bindparam("holder"), items=bindparam("items"), facts=bindparam("facts"), received_at=func.now())
)
# Locks the application's answers: two replicas in a rebalance cannot both score it.
ANSWERS = (
    select(received)
    .where(received.c.application_id == bindparam("application_id"))
    .order_by(received.c.department)
    .with_for_update()
)
LATEST_VERSION = select(func.max(scores.c.version)).where(scores.c.application_id == bindparam("application_id"))
ADD_SCORE = insert(scores)
ADD_WITHDRAWN = pg_insert(withdrawn).on_conflict_do_nothing()
RECORD_TEXT = pg_insert(rule_texts).on_conflict_do_nothing(index_elements=["content_hash"])
TEXT_BY_HASH = select(rule_texts).where(rule_texts.c.content_hash == bindparam("content_hash"))
IS_WITHDRAWN = select(withdrawn.c.application_id).where(withdrawn.c.application_id == bindparam("application_id"))
SWEEP_LOCK = select(func.pg_try_advisory_xact_lock(zlib.crc32(b"scoring:overdue-sweep")))
# Applications never scored, not withdrawn, whose review deadline passed with a department silent:
# those intake announced (even if no department ever answered), and those known only from an answer
# (announced before scoring kept applications).
_UNSCORED = [
    ~exists().where(scores.c.application_id == applications.c.application_id),
    ~exists().where(withdrawn.c.application_id == applications.c.application_id),
]
_ANSWERS_OF_APP = (
    select(func.count()).where(received.c.application_id == applications.c.application_id).scalar_subquery()
)
OVERDUE = union(
    select(applications.c.application_id).where(
        applications.c.review_deadline < bindparam("today"),
        *_UNSCORED,
        _ANSWERS_OF_APP < func.jsonb_array_length(applications.c.expected_departments),
    ),
    select(received.c.application_id)
    .where(
        ~exists().where(scores.c.application_id == received.c.application_id),
        ~exists().where(withdrawn.c.application_id == received.c.application_id),
    )
    .group_by(received.c.application_id)
    .having(
        and_(
            func.min(received.c.review_deadline) < bindparam("today"),
            func.count() < func.max(func.jsonb_array_length(received.c.expected_departments)),
        )
    ),
).limit(bindparam("limit"))
ADD_APPLICATION = pg_insert(applications).on_conflict_do_nothing()
# The sweep holds the application while it decides. (A consumer scoring the same one at that moment
# meets the scores' primary key on (application, version): one of the two transactions retries.)
APPLICATION = select(applications).where(applications.c.application_id == bindparam("application_id")).with_for_update()
# Who may read a score (access.py): who submitted it, and which of some departments answered it.
SUBMITTED = select(applications.c.principal, applications.c.holder).where(
    applications.c.application_id == bindparam("application_id")
)
ANSWERED_BY = select(received.c.department).where(
    received.c.application_id == bindparam("application_id"),
    received.c.department.in_(bindparam("departments", expanding=True)),
)
SCORES_NEWEST_FIRST = (
    select(scores).where(scores.c.application_id == bindparam("application_id")).order_by(scores.c.version.desc())
)
# A past round replayed under a draft: each candidate's score as the round ranked it (the round's own
# version; the application's latest own score for a round scored before rounds were re-scored),
# with when they applied.
LATEST_SCORES = (
    select(scores, applications.c.applied_on)
    .join(applications, applications.c.application_id == scores.c.application_id)
    .where(
        scores.c.application_id.in_(bindparam("ids", expanding=True)),
        _OWN | (scores.c.round_id == bindparam("round_id")),
    )
    .ext(distinct_on(scores.c.application_id))
    .order_by(scores.c.application_id, _OWN.asc(), scores.c.version.desc())
)
# Rounds: the application's own latest score (a round's versions are re-scorings of those), and
# each round's own latest version of a candidate.
LATEST_OWN_SCORES = (
    select(scores)
    .where(scores.c.application_id.in_(bindparam("ids", expanding=True)), _OWN)
    .ext(distinct_on(scores.c.application_id))
    .order_by(scores.c.application_id, scores.c.version.desc())
)
LATEST_ROUND_SCORES = (
    select(scores)
    .where(scores.c.application_id.in_(bindparam("ids", expanding=True)), scores.c.round_id == bindparam("round_id"))
    .ext(distinct_on(scores.c.application_id))
    .order_by(scores.c.application_id, scores.c.version.desc())
)
LATEST_VERSIONS = (
    select(scores.c.application_id, func.max(scores.c.version).label("version"))
    .where(scores.c.application_id.in_(bindparam("ids", expanding=True)))
    .group_by(scores.c.application_id)
)
ADD_ROUND = pg_insert(rounds).on_conflict_do_nothing(index_elements=["round_id"])
ADD_ROUND_CANDIDATE = pg_insert(round_candidates).on_conflict_do_nothing()
OPEN_ROUNDS_OF = (
    select(round_candidates.c.application_id, rounds)
    .join(rounds, rounds.c.round_id == round_candidates.c.round_id)
    .where(round_candidates.c.application_id.in_(bindparam("ids", expanding=True)), ~rounds.c.final)
    .order_by(rounds.c.round_id, round_candidates.c.application_id)
)
ROUND = select(rounds).where(rounds.c.round_id == bindparam("round_id"))
FINALIZE_ROUND = update(rounds).where(rounds.c.round_id == bindparam("round_id")).values(final=True)
SCORE_VERSION = select(scores).where(
    scores.c.application_id == bindparam("application_id"), scores.c.version == bindparam("version")
)
# Rule sets and X-modules as uploaded.
PUBLISHED_RULE_SETS = select(rule_sets.c.id, rule_sets.c.source).where(
    rule_sets.c.state == RuleSetState.PUBLISHED.value
)
DRAFTS = select(rule_sets).where(rule_sets.c.state == RuleSetState.DRAFT.value).order_by(rule_sets.c.uploaded_at)
RULE_SET_SOURCE = select(rule_sets.c.source).where(rule_sets.c.id == bindparam("id"))
RULE_SET_FOR_UPDATE = select(rule_sets).where(rule_sets.c.id == bindparam("id")).with_for_update()
_UPSERT = pg_insert(rule_sets)
PUT_DRAFT = _UPSERT.on_conflict_do_update(
    index_elements=[rule_sets.c.id],
    where=rule_sets.c.state == RuleSetState.DRAFT.value,
    set_={
        "source": _UPSERT.excluded.source,
        "content_hash": _UPSERT.excluded.content_hash,
        "effective_from": _UPSERT.excluded.effective_from,
        "uploaded_by": _UPSERT.excluded.uploaded_by,
        "uploaded_at": _UPSERT.excluded.uploaded_at,
    },
)
PUBLISH = (
    update(rule_sets)
    .where(rule_sets.c.id == bindparam("rule_set_id"))
    .values(state=RuleSetState.PUBLISHED.value, published_by=bindparam("by"), published_at=func.now())
)
_LATEST_MODULE = select(modules.c.id, func.max(modules.c.version).label("version")).group_by(modules.c.id).subquery()
LATEST_MODULES = select(modules).join(
    _LATEST_MODULE, (modules.c.id == _LATEST_MODULE.c.id) & (modules.c.version == _LATEST_MODULE.c.version)
)
MODULE_LOCK = select(func.pg_advisory_xact_lock(func.hashtext(bindparam("key"))))
MODULE_VERSION = select(func.max(modules.c.version)).where(modules.c.id == bindparam("id"))
ADD_MODULE = insert(modules)


class Store:
    """Scoring's SQL on one unit of work (its connection and its `later` batch)."""

    def __init__(self, uow: Any) -> None:
        self.uow = uow

    @property
    def _conn(self) -> Any:
        return self.uow.conn

    # -- departments' answers -----------------------------------------------------------------
    async def answers(self, application_id: str) -> dict[str, dict]:
        """The answers received so far, by department, locked for this transaction."""
        rows = await self.uow.fetch(ANSWERS, {"application_id": application_id})
        return {r.department: r._mapping for r in rows}

    async def add_answer(self, answer: dict[str, Any]) -> None:
        # Batched with the consumer's other inserts (the batch keeps the answers it read or added in
        # memory); kept by key so that a replacement later in the same batch replaces it in place.
        row = dict(answer)
        self.uow.memo.setdefault(ADDED_ANSWERS, {})[(row["application_id"], row["department"])] = row
        self.uow.later(ADD_ANSWER, row)

    async def replace_answer(self, application_id: str, department: str, answer: dict[str, Any]) -> None:
        added = self.uow.memo.get(ADDED_ANSWERS, {}).get((application_id, department))
        if added is not None:  # not written yet: the deferred insert carries the new answer
            added.update(holder=answer["holder"], items=answer["items"], facts=answer["facts"])
            return
        await self._conn.execute(
            REPLACE_ANSWER,
            {
                "b_application_id": application_id,
                "b_department": department,
                "holder": answer["holder"],
                "items": answer["items"],
                "facts": answer["facts"],
            },
        )

    # -- applications -------------------------------------------------------------------------
    def add_application(self, row: dict[str, Any]) -> None:
        self.uow.later(ADD_APPLICATION, row)  # batched with the consumer's other inserts

    async def application(self, application_id: str) -> Any:
        """The application as intake announced it (locked), or None."""
        return next(iter(await self.uow.fetch(APPLICATION, {"application_id": application_id})), None)

    def add_withdrawn(self, application_id: str, withdrawn_at: Any) -> None:
        self.uow.later(ADD_WITHDRAWN, {"application_id": application_id, "withdrawn_at": withdrawn_at})

    async def is_withdrawn(self, application_id: str) -> bool:
        return bool(await self.uow.fetch(IS_WITHDRAWN, {"application_id": application_id}))

    async def lock_overdue_sweep(self) -> bool:
        """One sweeper at a time across replicas: False if another holds the sweep."""
        return bool(await self._conn.scalar(SWEEP_LOCK))

    async def overdue(self, today: date, limit: int) -> list[str]:
        return list((await self._conn.execute(OVERDUE, {"today": today, "limit": limit})).scalars().all())

    # -- scores -------------------------------------------------------------------------------
    async def latest_version(self, application_id: str) -> int | None:
        rows = await self.uow.fetch(LATEST_VERSION, {"application_id": application_id})
        return rows[0][0] if rows else None

    def add_score(self, row: dict[str, Any]) -> None:
        self.uow.later(ADD_SCORE, row)

    async def record_texts(self, texts: list[dict[str, Any]]) -> None:
        """Keep rule-set and module texts by content hash ({content_hash, kind, document_id, source});
        a text already kept stays as it is."""
        if texts:
            await self._conn.execute(RECORD_TEXT, texts)

    async def text_by_hash(self, content_hash: str) -> Any:
        """(content_hash, kind, document_id, source, recorded_at) of a kept text, or None."""
        return (await self._conn.execute(TEXT_BY_HASH, {"content_hash": content_hash})).first()

    async def scores_newest_first(self, application_id: str) -> list[Any]:
        return list((await self._conn.execute(SCORES_NEWEST_FIRST, {"application_id": application_id})).all())

    async def latest_scores(self, application_ids: list[str], round_id: str | None = None) -> list[Any]:
        """Each application's score as the round ranked it (answers included) and its application date."""
        if not application_ids:
            return []
        return list((await self._conn.execute(LATEST_SCORES, {"ids": application_ids, "round_id": round_id})).all())

    # -- rounds ---------------------------------------------------------------------------------
    async def add_round(self, row: dict[str, Any], application_ids: list[str]) -> None:
        """Keep a closed round (once) and these of its candidates."""
        await self._conn.execute(ADD_ROUND, row)
        if application_ids:
            await self._conn.execute(
                ADD_ROUND_CANDIDATE, [{"round_id": row["round_id"], "application_id": a} for a in application_ids]
            )

    async def round(self, round_id: str) -> Any:
        return (await self._conn.execute(ROUND, {"round_id": round_id})).first()

    async def finalize_round(self, round_id: str) -> None:
        await self._conn.execute(FINALIZE_ROUND, {"round_id": round_id})

    async def open_rounds_of(self, application_ids: list[str]) -> list[Any]:
        """(application_id, round…) for every round not final that these applications are candidates of."""
        if not application_ids:
            return []
        return list((await self._conn.execute(OPEN_ROUNDS_OF, {"ids": application_ids})).all())

    async def latest_own_scores(self, application_ids: list[str]) -> dict[str, Any]:
        """Each application's latest own score row (not a round's), by application."""
        if not application_ids:
            return {}
        rows = (await self._conn.execute(LATEST_OWN_SCORES, {"ids": application_ids})).all()
        return {r.application_id: r for r in rows}

    async def latest_round_scores(self, round_id: str, application_ids: list[str]) -> dict[str, Any]:
        """Each application's latest score version for this round, by application."""
        if not application_ids:
            return {}
        rows = (await self._conn.execute(LATEST_ROUND_SCORES, {"ids": application_ids, "round_id": round_id})).all()
        return {r.application_id: r for r in rows}

    async def latest_versions(self, application_ids: list[str]) -> dict[str, int]:
        """The highest score version of each application (its own and rounds' alike)."""
        if not application_ids:
            return {}
        rows = (await self._conn.execute(LATEST_VERSIONS, {"ids": application_ids})).all()
        return {r.application_id: r.version for r in rows}

    async def score_version(self, application_id: str, version: int) -> Any:
        return (await self._conn.execute(SCORE_VERSION, {"application_id": application_id, "version": version})).first()

    async def submitted(self, application_id: str) -> Any:
        """(principal, holder) of the application as submitted, or None."""
        return (await self._conn.execute(SUBMITTED, {"application_id": application_id})).first()

    async def answered_by(self, application_id: str, departments: set[str]) -> list[str]:
        """Which of these departments answered the application."""
        return list(
            (
                await self._conn.execute(
                    ANSWERED_BY, {"application_id": application_id, "departments": sorted(departments)}
                )
            )
            .scalars()
            .all()
        )

    # -- rule sets and X-modules --------------------------------------------------------------
    async def published_rule_sets(self) -> list[tuple[str, str]]:
        """(id, YAML source) of every uploaded rule set published."""
        return [(r.id, r.source) for r in (await self._conn.execute(PUBLISHED_RULE_SETS)).all()]

    async def drafts(self) -> list[Any]:
        return list((await self._conn.execute(DRAFTS)).all())

    async def rule_set_source(self, rule_set_id: str) -> str | None:
        return await self._conn.scalar(RULE_SET_SOURCE, {"id": rule_set_id})

    async def put_draft(self, row: dict[str, Any]) -> bool:
        """Store or replace a draft; False if the id is published (a published rule set never changes)."""
        return (await self._conn.execute(PUT_DRAFT, row)).rowcount > 0

    async def rule_set_for_update(self, rule_set_id: str) -> Any:
        return (await self._conn.execute(RULE_SET_FOR_UPDATE, {"id": rule_set_id})).first()

    async def mark_published(self, rule_set_id: str, by: str) -> None:
        await self._conn.execute(PUBLISH, {"rule_set_id": rule_set_id, "by": by})

    async def latest_modules(self) -> list[Any]:
        """The latest registered version of each module (rows with id, version and source)."""
        return list((await self._conn.execute(LATEST_MODULES)).all())

    async def add_module_version(self, module_id: str, owner: str, source: str, content_hash: str, by: str) -> int:
        """Store a module's next version and return its number. Two uploads of one module at once:
        one waits for the other (an advisory lock), each gets its own version."""
        await self._conn.execute(MODULE_LOCK, {"key": f"module:{module_id}"})
        version = (await self._conn.scalar(MODULE_VERSION, {"id": module_id}) or 0) + 1
        await self._conn.execute(
            ADD_MODULE,
            {
                "id": module_id,
                "version": version,
                "owner": owner,
                "source": source,
                "content_hash": content_hash,
                "created_by": by,
            },
        )
        return version
