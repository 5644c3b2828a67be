"""Publicity's pure rules: what a notice shows and for how long, who may still object,
what a search asks for, what the applicant is told."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from shared.calendar import add_working_days, working_period
from shared.departments import DEPARTMENT_OF, DEPARTMENTS
from shared.names import SCORE_STATUSES, SENSITIVE_CATEGORIES, reason_zh, zh
from shared.pseudonyms import holder_key


class RoundStatus(StrEnum):
    ACCEPTING = "accepting"  # applications counted until acceptance closes
    SCORING = "scoring"  # closed: scoring re-scores every candidate at the round's cut-off
    NOTICE = "notice"  # the ranked list is published; objections are taken
    FINAL = "final"  # nothing in the list changes any more


class ObjectionKind(StrEnum):
    OBJECTION = "objection"  # 异议: anyone, against a list entry or a score notice
    REVIEW = "review"  # 复核: the holder, against their own score


class ObjectionStatus(StrEnum):
    OPEN = "open"  # departments still re-verifying
    RESOLVED = "resolved"  # every department answered and the score was recomputed
    ANSWERED = "answered"  # an officer answered it by hand


class NotificationStatus(StrEnum):
    PENDING = "pending"  # to be delivered (again, after a failure, at next_attempt_at)
    SENT = "sent"  # the SMS gateway took it
    RECORDED = "recorded"  # the outbox notifier: the row is the message
    FAILED = "failed"  # given up after the last attempt


DEPARTMENT_IDS = frozenset(DEPARTMENTS)

# Reviews (复核) are answered within this many working days of the request.
REVIEW_WORKING_DAYS = 5


def new_id(prefix: str, day: date) -> str:
    return f"{prefix}-{day:%Y%m%d}-{secrets.token_hex(5).upper()}"


def new_notice_id(day: date) -> str:
    return new_id("NTC", day)


def notice_period(published_on: date, working_days: int) -> tuple[date, date]:
    """The notice runs for `working_days` working days, starting on publication (or the next working day)."""
    return working_period(published_on, working_days)


def review_due(requested_on: date) -> date:
    return add_working_days(requested_on, REVIEW_WORKING_DAYS)


def public_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-indicator points for the notice; fact values stay out (they are personal data)."""
    return [
        {
            "indicator": line["indicator"],
            "category": line["category"],
            "name_zh": line["name_zh"],
            "name_en": line["name_en"],
            "points": line["points"],
            "department": line.get("department"),
        }
        for line in lines
    ]


def public_view(lines: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], float]:
    """What the public sees of a score's lines: every line but the sensitive ones, whose very name
    would tell a stranger of a conviction, a rehabilitation order, a debt or a family matter, and
    the sum of those as one figure. The holder (through their partner) and officers see them
    itemised, in scoring's explanation."""
    shown = [line for line in lines if line["category"] not in SENSITIVE_CATEGORIES]
    deductions = sum(float(line["points"]) for line in lines if line["category"] in SENSITIVE_CATEGORIES)
    return shown, deductions


def objectable(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines of a public view anyone may object to: those a department verifies."""
    return [line for line in lines if line.get("department") in DEPARTMENT_IDS]


def candidate_key(id_number: str, salt: str) -> str:
    """Groups one person's entries (a child named by both parents) without keeping the number:
    the holder key intake sends with each person (shared.pseudonyms)."""
    return holder_key(id_number, salt)


def search_columns(masked_name: str, masked_id: str) -> tuple[str, str]:
    """What the public can search a list by: the surname the masked name shows, the ID number's last four."""
    return masked_name[:1], masked_id[-4:]


@dataclass(frozen=True)
class Search:
    surname: str | None = None
    id_tail: str | None = None


_TAIL = re.compile(r"^[0-9]{3}[0-9X]$")


def parse_search(q: str | None) -> Search:
    """One search box: four characters of digits (and X) are an ID number's end; anything else, a surname."""
    q = (q or "").strip().upper()
    if not q:
        return Search()
    if _TAIL.match(q):
        return Search(id_tail=q)
    return Search(surname=q[:1])


def admitted(rank: int, score: float, quota: int | None, threshold: float | None) -> bool:
    return (quota is None or rank <= quota) and (threshold is None or score >= threshold)


class Refused(Exception):
    """Why an operation cannot be done. `status` classes the refusal (404 nothing there, 409 not in
    this state, 422 a bad value of `field`); the api layer turns it into a problem document."""

    def __init__(self, status: int, message: str, type_: str = "about:blank", field: str | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.field = status, message, type_, field


class NotFound(Refused):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(404, message, "/problems/not-found" if field else "about:blank", field)


class ObjectionRefused(Refused):
    """Why an objection cannot be taken (late, final list, an item nobody can re-verify)."""


class RoundRefused(Refused):
    """Why a round cannot move on (still accepting, closed already)."""


def objection_window(today: date, period_end: date | None, final: bool) -> None:
    if final:
        raise ObjectionRefused(
            409,
            "This list is final: objections are no longer taken and nothing in it changes (名单已终结，不再受理异议).",
            "/problems/list-final",
        )
    if period_end is None:
        raise ObjectionRefused(409, "This list is not on notice yet.", "/problems/not-on-notice")
    if today > period_end:
        raise ObjectionRefused(
            409,
            f"The notice period ended on {period_end.isoformat()}; objections had to be "
            f"lodged by then (公示期已于{period_end.isoformat()}结束，逾期异议不予受理).",
            "/problems/objection-late",
        )


def departments_to_ask(
    items: list[str],
    lines: list[dict[str, Any]],
    modules: dict[str, dict[str, Any]] | None = None,
    public: bool = False,
) -> list[str]:
    """The departments that re-verify the items in question. Each item must be one the score counted
    and that a department verifies, or one a module's owner answered from its registry
    (`<module>/<indicator>`: the owner verifies it again); an objection from the public may name only
    what the public sees (not a sensitive deduction: the holder asks for a review of those)."""
    counted = {
        line["indicator"]: line.get("department")
        for line in lines
        if not (public and line.get("category") in SENSITIVE_CATEGORIES)
    }
    owned: dict[str, str] = {
        item: str(m["owner"]) for m in (modules or {}).values() if m.get("owner") for item in m.get("owner_items") or []
    }
    departments: set[str] = set()
    for item in items:
        if item in owned:
            departments.add(owned[item])
            continue
        department = DEPARTMENT_OF.get(item) or counted.get(item)
        if item not in counted or department not in set(DEPARTMENT_OF.values()):
            raise ObjectionRefused(
                422,
                f"{item!r} is not an indicator of this score that a department verifies "
                f"(所选事项不属于可核查的积分指标).",
                "/problems/objection-item",
                field="items",
            )
        departments.add(department)
    return sorted(departments)


STATUS_TEXT = {
    "scored": "已完成计分，得分{total}分，公示期{start}至{end}。如有异议，请于{end}前通过公示页面或服务窗口提出",
    "void": "积分无效（{reason}）",  # the reason in Chinese (shared.names), never scoring's own words
    "paused": "居住证状态异常，积分暂停",
    "vetoed": "因一票否决情形不予计分",
    "refused": "委托关系未核实，不予计分（{reason}）",
}


def notification_text(
    application_id: str, status: str, total: float, reason: str | None, period: tuple[date, date] | None
) -> str:
    start, end = (period[0].isoformat(), period[1].isoformat()) if period else ("", "")
    body = STATUS_TEXT.get(status, "积分结果已更新").format(
        total=f"{total:g}", start=start, end=end, reason=reason_zh(reason) or "详见计分说明"
    )
    return f"【居住证积分】您的积分申请{application_id}{body}。"


# A round's list published: each candidate is told their place (or that they are not on it), with
# the notice period in which to object. Written by one statement for the whole round
# (store.NOTIFY_ROUND), so the parts that differ per candidate are positional placeholders.
ROUND_PLACED = (
    "【居住证积分】您的积分申请{application_id}已列入“{round}”公示名单：按本批次积分截止日重新计分{score}分，"
    "排名第{rank}位（共{entries}人），{admitted}。公示期{start}至{end}，如有异议请于{end}前通过公示页面或服务窗口提出。"
)
ROUND_NOT_LISTED = (
    "【居住证积分】您的积分申请{application_id}未列入“{round}”公示名单：按本批次积分截止日重新计分后不符合"
    "本批次条件。公示期{start}至{end}，如有异议请于{end}前通过公示页面或服务窗口提出。"
)
ADMITTED_TEXT = {True: "在拟录取范围内", False: "暂未进入拟录取范围"}


def round_notification_templates(round_name: str, period: tuple[date, date]) -> tuple[str, str]:
    """The round's two texts for PostgreSQL's format(): %1$s the application, %2$s the score,
    %3$s the rank, %4$s the total on the list, %5$s whether admitted; the rest filled in here."""
    start, end = period[0].isoformat(), period[1].isoformat()
    fixed = {"round": round_name.replace("%", "%%"), "start": start, "end": end}
    placeholders = {"application_id": "%1$s", "score": "%2$s", "rank": "%3$s", "entries": "%4$s", "admitted": "%5$s"}
    return ROUND_PLACED.format(**fixed, **placeholders), ROUND_NOT_LISTED.format(**fixed, application_id="%1$s")


def invitation_text(title_zh: str, closes_on: date, code: str | None = None) -> str:
    """A campaign's invitation by SMS: what it is, that taking part is voluntary, until when, and the
    one-time code that proves on the public estimate page that the invitation is the holder's."""
    where = "可在政务服务应用中参加"
    if code:
        where = f"可在政务服务应用或积分网站“模拟积分”页面参加，页面参加或退出时请输入验证码{code}（请勿告诉他人）"
    return (
        f"【居住证积分】您被随机选中参加“{title_zh}”模拟积分调查。参与自愿，须经您明确同意；"
        f"{where}，截止日期{closes_on.isoformat()}。"
    )


# A holder's code is refused for good after this many wrong ones: 8 digits, 5 guesses.
CODE_DIGITS, MAX_CODE_FAILURES = 8, 5


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(campaign_id: str, code: str) -> str:
    """What is kept of an invitation's code (bound to its campaign; not to the holder key, which a
    salt rotation re-keys)."""
    return hashlib.sha256(f"{campaign_id}:{code.strip()}".encode()).hexdigest()


def outcome_text(status: str, total: float, before: float | None) -> str:
    """What a re-verification came to, as the objector or holder reads it on the receipt."""
    if status != "scored":
        return f"核查完成：{zh(SCORE_STATUSES, status, '积分状态已更新')}。"
    if before is None or total == before:
        return f"核查完成，积分不变（{total:g}分）。"
    return f"核查完成，积分由{before:g}分调整为{total:g}分。"
