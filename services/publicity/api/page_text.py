"""What the public pages say, in Chinese: form errors, and the refusals a person can meet (a late
objection, a final list, too many tries). The problem documents keep their own words for partners;
a page never shows them."""

from __future__ import annotations

from typing import Any

from shared.names import SENSITIVE_CATEGORIES
from shared.problems import Problem

FIELD_ZH = {
    "items": "核查事项",
    "reason": "异议理由",
    "contact_phone": "联系电话",
    "entry": "公示条目",
    "notice_id": "积分公示",
    "body": "表单",
}
PROBLEM_ZH = {
    "/problems/list-final": "名单已终结，不再受理异议。",
    "/problems/not-on-notice": "该名单尚未公示，暂不受理异议。",
    "/problems/objection-late": "公示期已结束，逾期异议不予受理。",
    "/problems/objection-item": "所选事项不属于可核查的积分指标，请重新选择。",
    "/problems/rate-limited": "提交过于频繁，请稍后再试。",
    "/problems/calendar-unknown": "系统暂时无法确定工作日，请稍后再试。",
}
STATUS_ZH = {404: "未找到相关记录。", 409: "该事项当前状态下无法办理。", 429: "提交过于频繁，请稍后再试。"}


def objection_message_zh(field: str, error: dict[str, Any]) -> str:
    """A form field's validation error, as the objection form shows it."""
    kind = error.get("type", "")
    if field == "items":
        return "请至少选择一项需要核查的事项（最多10项）。"
    if field == "reason":
        if kind == "string_too_short":
            return "请填写异议理由（至少5个字）。"
        if kind == "string_too_long":
            return "异议理由不能超过500字。"
    if field == "contact_phone":
        return "请填写11位手机号码，或留空。"
    return f"{FIELD_ZH.get(field, '表单')}填写有误，请检查后重新提交。"


def problem_zh(problem: Problem) -> str:
    """A refusal as a person reads it: by its type, else by its status; never the English detail."""
    return PROBLEM_ZH.get(problem.type) or STATUS_ZH.get(problem.status, "暂时无法办理，请稍后再试。")


def form_field_of(problem: Problem) -> str:
    """The form field a refusal is about (the top of the form when none)."""
    field = problem.errors[0]["field"] if problem.errors else "body"
    return field if field in ("items", "reason", "contact_phone") else "body"


def items_zh(items: list[str], lines: list[dict[str, Any]]) -> list[str]:
    """The items of an objection or review as a public receipt names them: by the indicator's Chinese
    name, a sensitive deduction only as 减分项目 (the receipt is public), never by its id."""
    by_id = {line["indicator"]: line for line in lines}
    out = []
    for item in items:
        line = by_id.get(item)
        if line is None:
            out.append("其他核查事项")
        elif line.get("category") in SENSITIVE_CATEGORIES:
            out.append("减分项目")
        else:
            out.append(line.get("name_zh") or "其他核查事项")
    return list(dict.fromkeys(out))
