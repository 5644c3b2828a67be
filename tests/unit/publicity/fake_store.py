"""Publicity's store in memory (dicts), for unit tests of its handlers and use cases.

It implements the Store's methods by the same rules (a replayed score version ignored, one notice
and one notification a score version, a candidate's best application, ranks by sort key then
application day) in plain Python; the SQL itself is proved by the integration tests.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from services.publicity import domain
from shared.events.envelope import Envelope


class Row(dict):
    """A row: read by attribute (as SQLAlchemy's rows are) or by key."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class FakeStore:
    def __init__(self) -> None:
        self.applicants: dict[str, Row] = {}
        self.scores: dict[str, Row] = {}
        self.notices: dict[str, Row] = {}
        self.notifications: list[Row] = []
        self.rounds: dict[str, Row] = {}
        self.round_scores: dict[tuple[str, str], Row] = {}  # (round, application) -> its round score
        self.entries: dict[str, dict[int, Row]] = {}  # round -> seq -> entry
        self.history: list[Row] = []
        self.versions: list[Row] = []
        self.objections: dict[str, Row] = {}
        self.sweep_lock_free = True
        self.campaigns: dict[str, Row] = {}
        self.campaign_codes: dict[tuple[str, str], Row] = {}  # (campaign, holder key) -> the code's row

    # -- campaigns --------------------------------------------------------------------------------
    async def add_campaign(self, **row: Any) -> None:
        self.campaigns.setdefault(row["id"], Row(row))

    async def open_campaigns(self, today: date) -> list[Row]:
        return sorted(
            (c for c in self.campaigns.values() if c.opens_on <= today <= c.closes_on),
            key=lambda c: (c.closes_on, c.id),
        )

    async def campaign(self, campaign_id: str) -> Row | None:
        return self.campaigns.get(campaign_id)

    async def add_campaign_code(self, **row: Any) -> bool:
        key = (row["campaign_id"], row["holder_key"])
        if key in self.campaign_codes:
            return False
        self.campaign_codes[key] = Row(row, failures=0)
        return True

    async def campaign_code(self, campaign_id: str, key: str) -> Row | None:
        return self.campaign_codes.get((campaign_id, key))

    async def campaign_code_failed(self, campaign_id: str, key: str) -> None:
        self.campaign_codes[(campaign_id, key)]["failures"] += 1

    async def forget_closed_campaigns(self, today: date) -> None:
        self.campaign_codes = {k: r for k, r in self.campaign_codes.items() if r.closes_on >= today}
        self.campaigns = {k: c for k, c in self.campaigns.items() if c.closes_on >= today}

    # -- applicants, scores, notices ------------------------------------------------------------
    async def add_applicant(self, **row: Any) -> None:
        self.applicants.setdefault(row["application_id"], Row(row, withdrawn_at=None))

    async def withdraw_applicant(self, application_id: str, withdrawn_at: Any) -> None:
        if application_id in self.applicants:
            self.applicants[application_id]["withdrawn_at"] = withdrawn_at

    async def holder_key(self, application_id: str) -> str | None:
        a = self.applicants.get(application_id)
        return a.holder_key if a else None

    async def candidate_keys(self, application_id: str) -> Any:
        return self.applicants.get(application_id)

    async def put_score(self, **row: Any) -> bool:
        old = self.scores.get(row["application_id"])
        if old is not None and old.version >= row["version"]:
            return False
        self.scores[row["application_id"]] = Row(row)
        return True

    async def score(self, application_id: str) -> Any:
        return self.scores.get(application_id)

    async def add_notice(self, **row: Any) -> bool:
        if any(
            n.application_id == row["application_id"] and n.score_version == row["score_version"]
            for n in self.notices.values()
        ):
            return False
        self.notices[row["id"]] = Row(row, published_at=datetime.now(UTC), current=True)
        return True

    async def supersede_notices(self, application_id: str, score_version: int) -> None:
        for n in self.notices.values():
            if n.application_id == application_id and n.score_version < score_version:
                n["current"] = False

    async def notice(self, notice_id: str) -> Any:
        return self.notices.get(notice_id)

    # -- notifications --------------------------------------------------------------------------
    def _notification(self, **row: Any) -> Row:
        return Row(
            row,
            id=len(self.notifications) + 1,
            phone=None,
            status="pending",
            attempts=0,
            next_attempt_at=datetime.now(UTC),
            error=None,
            sent_at=None,
        )

    def notify_applicant(self, application_id: str, score_version: int, body: str) -> None:
        a = self.applicants.get(application_id)
        phone = a.contact_phone if a else None
        self._add_notification(application_id=application_id, score_version=score_version, phone=phone, body=body)

    async def add_notification(self, **row: Any) -> None:
        self._add_notification(**row)

    def _add_notification(self, **row: Any) -> None:
        if not any(
            n.application_id == row["application_id"] and n.score_version == row["score_version"] and not n.round_id
            for n in self.notifications
        ):
            self.notifications.append(
                Row(
                    row,
                    round_id=None,
                    id=len(self.notifications) + 1,
                    status="pending",
                    attempts=0,
                    next_attempt_at=datetime.now(UTC),
                    error=None,
                    sent_at=None,
                )
            )

    async def due_notifications(self, now: datetime, limit: int) -> list[Any]:
        due = [n for n in self.notifications if n.status == "pending" and n.next_attempt_at <= now]
        return [Row(n) for n in sorted(due, key=lambda n: n.next_attempt_at)[:limit]]

    async def record_deliveries(self, outcomes: list[dict[str, Any]]) -> None:
        for values in outcomes:
            next(n for n in self.notifications if n.id == values["id"]).update(values)

    # -- rounds ---------------------------------------------------------------------------------
    async def take_sweep_lock(self) -> bool:
        return self.sweep_lock_free

    async def add_round(self, **row: Any) -> None:
        self.rounds[row["id"]] = Row(
            row,
            status="accepting",
            list_version=0,
            entries=0,
            admitted=0,
            notice_start=None,
            notice_end=None,
            finalized_at=None,
            rescored=False,
        )

    async def round(self, round_id: str, *, lock: bool = False) -> Any:
        r = self.rounds.get(round_id)
        return Row(r) if r else None

    async def rounds_due_to_close(self, today: date) -> list[str]:
        return [r.id for r in self.rounds.values() if r.status == "accepting" and r.acceptance_closes < today]

    def _in_round(self, r: Row, a: Row) -> bool:
        return (
            r.module_id in a.modules
            and r.acceptance_opens <= a.applied_on <= r.acceptance_closes
            and a.withdrawn_at is None
            and (a.child_key if r.candidate == "child" else a.holder_key) is not None
        )

    async def start_round_scoring(self, round_id: str, closing: dict[str, Any], chunk: int) -> tuple[int, int]:
        r = self.rounds[round_id]
        ids = sorted(a.application_id for a in self.applicants.values() if self._in_round(r, a))
        fresh = [a for a in ids if (round_id, a) not in self.round_scores]
        for a in fresh:
            self.round_scores[(round_id, a)] = Row(round_id=round_id, application_id=a, status="pending")
        chunks = [fresh[i : i + chunk] for i in range(0, len(fresh), chunk)]
        for n, part in enumerate(chunks, start=1):
            payload = closing["payload"]
            data = {**payload["data"], "chunk": n, "chunks": len(chunks), "application_ids": part}
            closing["emit"](Envelope.model_validate({**payload, "id": str(uuid.uuid4()), "data": data}))
        return len(fresh), len(chunks)

    async def rounds_to_tell(self) -> list[Any]:
        return [Row(r) for r in sorted(self.rounds.values(), key=lambda r: r.id) if r.get("telling_after") is not None]

    async def tell_page(
        self, r: Any, texts: tuple[str, str], admitted: dict[bool, str], limit: int
    ) -> tuple[int, int, str | None]:
        placed, not_listed = texts
        page = sorted(a for (rid, a) in self.round_scores if rid == r.id and a > r.telling_after)[:limit]
        listed = {e.application_id: e for e in self.entries.get(r.id, {}).values()}
        keys = {e.candidate_key for e in listed.values()}
        told = 0
        for application_id in page:
            a, e = self.applicants[application_id], listed.get(application_id)
            if e is not None:
                body = placed.replace("%1$s", application_id).replace("%2$s", f"{e.score:g}")
                body = body.replace("%3$s", str(e.rank)).replace("%4$s", str(r.entries))
                body = body.replace("%5$s", admitted[e.admitted])
            elif (a.child_key if r.candidate == "child" else a.holder_key) not in keys:
                body = not_listed.replace("%1$s", application_id)
            else:
                continue
            version = self.round_scores[(r.id, application_id)].get("version") or 0
            self.notifications.append(
                self._notification(application_id=application_id, score_version=version, round_id=r.id, body=body)
            )
            told += 1
        return len(page), told, page[-1] if page else None

    async def put_round_scores(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            key = (row["round_id"], row["application_id"])
            old = self.round_scores.get(key)
            if (
                old is None
                or old.status == "pending"
                or (row["version"] is not None and (old.get("version") is None or old.version < row["version"]))
            ):
                self.round_scores[key] = Row(row)

    async def round_scores_pending(self, round_id: str) -> int:
        return sum(1 for (r, _), s in self.round_scores.items() if r == round_id and s.status == "pending")

    def _candidates(self, r: Row) -> list[Row]:
        """One candidate per person (the best application), as the store's SQL picks them: by round score."""
        best: dict[str, Row] = {}
        for a in self.applicants.values():
            s = self.round_scores.get((r.id, a.application_id))
            module = (s.modules.get(r.module_id) if s else None) or {}
            if (
                r.module_id not in a.modules
                or not r.acceptance_opens <= a.applied_on <= r.acceptance_closes
                or a.withdrawn_at is not None
                or s is None
                or s.status != "scored"
                or not module.get("eligible")
            ):
                continue
            child = r.candidate == "child"
            c = Row(
                ck=a.child_key if child else a.holder_key,
                application_id=a.application_id,
                nm=a.child_name_masked if child else a.holder_name_masked,
                idm=a.child_id_masked if child else a.holder_id_masked,
                applied_on=a.applied_on,
                score=module["total"],
                sort_key=list(module["sort_key"]),
            )
            if c.ck is not None and (c.ck not in best or self._order(c) < self._order(best[c.ck])):
                best[c.ck] = c
        return sorted(best.values(), key=self._order)

    @staticmethod
    def _order(c: Row) -> tuple:
        return tuple(-k for k in c.sort_key), c.applied_on, c.application_id

    async def publish_list(self, r: Any) -> tuple[int, int]:
        entries = self.entries.setdefault(r.id, {})
        for rank, c in enumerate(self._candidates(r), start=1):
            entries[rank] = Row(
                round_id=r.id,
                seq=rank,
                rank=rank,
                application_id=c.application_id,
                candidate_key=c.ck,
                name_masked=c.nm,
                id_masked=c.idm,
                score=c.score,
                sort_key=c.sort_key,
                applied_on=c.applied_on,
                admitted=domain.admitted(rank, c.score, r.quota, r.threshold),
            )
        return await self.list_counts(r.id)

    async def list_counts(self, round_id: str) -> tuple[int, int]:
        entries = self.entries.get(round_id, {}).values()
        return len(entries), sum(1 for e in entries if e.admitted)

    async def update_round(self, round_id: str, **values: Any) -> None:
        self.rounds[round_id].update(values)

    async def add_list_version(self, round_id: str, version: int, reason: str, changed: int) -> None:
        self.versions.append(Row(round_id=round_id, version=version, reason=reason, changed=changed))

    async def rounds_on_notice_of(self, application_id: str) -> list[Any]:
        a = self.applicants.get(application_id)
        return [
            Row(r)
            for r in sorted(self.rounds.values(), key=lambda r: r.id)
            if a
            and r.status == "notice"
            and r.module_id in a.modules
            and r.acceptance_opens <= a.applied_on <= r.acceptance_closes
        ]

    async def best_candidate(self, round_id: str, candidate_key: str) -> Any:
        return next((c for c in self._candidates(self.rounds[round_id]) if c.ck == candidate_key), None)

    async def entry_of_candidate(self, round_id: str, candidate_key: str) -> Any:
        return next((Row(e) for e in self.entries.get(round_id, {}).values() if e.candidate_key == candidate_key), None)

    async def keep_old_entry(self, round_id: str, version: int, seq: int) -> None:
        e = self.entries[round_id][seq]
        self.history.append(
            Row(round_id=round_id, version=version, seq=seq, rank=e.rank, score=e.score, admitted=e.admitted)
        )

    async def remove_entry(self, round_id: str, seq: int) -> None:
        del self.entries[round_id][seq]

    async def add_entry(self, round_id: str, candidate_key: str, best: Any) -> int:
        entries = self.entries.setdefault(round_id, {})
        seq = max(entries, default=0) + 1
        entries[seq] = Row(
            round_id=round_id,
            seq=seq,
            rank=2**31 - 1,
            application_id=best.application_id,
            candidate_key=candidate_key,
            name_masked=best.nm,
            id_masked=best.idm,
            score=best.score,
            sort_key=list(best.sort_key),
            applied_on=best.applied_on,
            admitted=False,
        )
        return seq

    async def restate_entry(self, round_id: str, seq: int, best: Any) -> None:
        self.entries[round_id][seq].update(
            score=best.score, sort_key=list(best.sort_key), application_id=best.application_id
        )

    async def rerank(self, r: Any, version: int, seq: int | None, old_rank: int | None) -> int:
        # The whole list, sorted again: what moving the one changed entry must come to.
        entries = self.entries.get(r.id, {})
        moved = 0
        order = sorted(entries.values(), key=lambda e: (tuple(-k for k in e.sort_key), e.applied_on, e.application_id))
        for rank, e in enumerate(order, start=1):
            admitted = domain.admitted(rank, e.score, r.quota, r.threshold)
            if (e.rank, e.admitted) != (rank, admitted):
                if not any(h.round_id == r.id and h.version == version and h.seq == e.seq for h in self.history):
                    self.history.append(
                        Row(round_id=r.id, version=version, seq=e.seq, rank=e.rank, score=e.score, admitted=e.admitted)
                    )
                e.update(rank=rank, admitted=admitted)
                moved += 1
        return moved

    async def rounds_due_for_final(self, today: date) -> list[str]:
        def open_against(r: Row) -> bool:
            on_list = {e.application_id for e in self.entries.get(r.id, {}).values()}
            return any(
                o.status == "open" and (o.round_id == r.id or o.application_id in on_list)
                for o in self.objections.values()
            )

        return sorted(
            r.id for r in self.rounds.values() if r.status == "notice" and r.notice_end < today and not open_against(r)
        )

    async def finalise_round(self, round_id: str, at: datetime) -> Any:
        self.rounds[round_id].update(status="final", finalized_at=at)
        return Row(self.rounds[round_id])

    async def admitted_page(self, round_id: str, after: int, limit: int) -> list[Any]:
        admitted = (e for e in self.entries.get(round_id, {}).values() if e.admitted and e.rank > after)
        return sorted(admitted, key=lambda e: e.rank)[:limit]

    async def entry(self, round_id: str, seq: int) -> Any:
        return self.entries.get(round_id, {}).get(seq)

    # -- objections and reviews -------------------------------------------------------------------
    async def lodged_since(self, client: str, since: datetime) -> list[datetime]:
        return sorted(o.lodged_at for o in self.objections.values() if o.client == client and o.lodged_at > since)

    async def review_window_end(self, application_id: str) -> date | None:
        ends = [n.period_end for n in self.notices.values() if n.application_id == application_id]
        ends += [
            self.rounds[round_id].notice_end
            for round_id, entries in self.entries.items()
            for e in entries.values()
            if e.application_id == application_id and self.rounds[round_id].status == "notice"
        ]
        return max(ends, default=None)

    async def add_objection(self, **row: Any) -> None:
        self.objections[row["id"]] = Row(row, outcome=None, score_after=None, answered_by=None, resolved_at=None)

    async def objection(self, objection_id: str) -> Any:
        return self.objections.get(objection_id)

    async def take_department_answer(self, objection_id: str, department: str) -> list[str] | None:
        o = self.objections.get(objection_id)
        if o is None or o.status != "open":
            return None
        o["pending_departments"] = [d for d in o.pending_departments if d != department]
        return o.pending_departments

    async def update_objection(self, objection_id: str, **values: Any) -> None:
        self.objections[objection_id].update(values)

    async def answer_open_objection(self, objection_id: str, **values: Any) -> Any:
        o = self.objections.get(objection_id)
        if o is None or o.status != "open":
            return None
        o.update(values)
        return Row(o)
