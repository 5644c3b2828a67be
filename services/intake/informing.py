"""Informing (告知): what the applicant is told on acceptance, in Chinese and English.

Which rule set applies, each indicator with the department that verifies it and whether
materials are needed, the review and result dates in working days, and how to object. The
rule set comes from the scoring service's public API (cached: rule sets change rarely and a
published one never changes).
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import httpx

from shared.calendar import CalendarYearUnknown, add_working_days
from shared.logging import get_logger

log = get_logger(__name__)
REVIEW_WORKING_DAYS = 15
RESULT_WORKING_DAYS = 20
OBJECTION_WORKING_DAYS = 7
_CACHE_SECONDS = 60.0
_RETRY_SECONDS = 10.0


class RuleSetDirectory:
    def __init__(self, scoring_base_url: str) -> None:
        self.base = scoring_base_url.rstrip("/")
        self._cache: tuple[float, list[dict]] | None = None
        self._full: dict[str, dict] = {}
        self._failed_at = -1e9
        self._client: httpx.AsyncClient | None = None  # one client, one TLS context, kept connections
        self._notices: dict[tuple, dict[str, Any]] = {}
        self._modules: dict[str, tuple[float, dict[str, Any]]] = {}

    async def notice(self, applied_on: date, cut_off: date, shared_data: set[str]) -> dict[str, Any]:
        """The rules notice of an application; the same for everyone applying on one day, so built once."""
        rule_set = await self.in_force(applied_on)  # the rules in force on the application date
        key = (applied_on, cut_off, rule_set["content_hash"] if rule_set else None, frozenset(shared_data))
        if key not in self._notices:
            if len(self._notices) > 64:
                self._notices.clear()
            self._notices[key] = rules_notice(rule_set, applied_on, cut_off, shared_data)
        return self._notices[key]

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=2.0)
        return self._client

    async def owner_items(self, module_ids: list[str]) -> dict[str, str]:
        """The items module owners answer for these modules (`<module>/<indicator>` → owner), from
        scoring's public module documents, cached. Scoring away: the modules not yet known are left
        out (their items show once the owner answers), never an error for the reader."""
        items: dict[str, str] = {}
        now = time.monotonic()
        for module_id in module_ids:
            kept = self._modules.get(module_id)
            if (kept is None or now - kept[0] > _CACHE_SECONDS) and now - self._failed_at >= _RETRY_SECONDS:
                try:
                    r = await self.client.get(f"{self.base}/v1/modules/{module_id}")
                    kept = (now, r.json() if r.status_code == 200 else {})
                    self._modules[module_id] = kept
                except (httpx.HTTPError, ValueError) as exc:
                    self._failed_at = now
                    log.warning("module directory unavailable", error=str(exc))
            if kept is not None:
                items.update(module_owner_items(kept[1]))
        return items

    async def in_force(self, cut_off: date) -> dict | None:
        now = time.monotonic()
        stale = self._cache is None or now - self._cache[0] > _CACHE_SECONDS
        # After a failure, wait before asking again: no request should queue behind a dead service.
        if stale and now - self._failed_at >= _RETRY_SECONDS:
            try:
                self._cache = (now, (await self.client.get(f"{self.base}/v1/rule-sets")).raise_for_status().json())
            except (httpx.HTTPError, ValueError) as exc:
                self._failed_at = now
                log.warning("rule set directory unavailable", error=str(exc))
        if self._cache is None:
            return None
        current = [
            rs
            for rs in self._cache[1]
            if date.fromisoformat(rs["effective_from"]) <= cut_off
            and (rs["effective_to"] is None or cut_off < date.fromisoformat(rs["effective_to"]))
        ]
        if not current:
            return None
        chosen = max(current, key=lambda rs: rs["effective_from"])
        if chosen["id"] not in self._full:  # a published rule set never changes: cached for good
            try:
                self._full[chosen["id"]] = (
                    (await self.client.get(f"{self.base}/v1/rule-sets/{chosen['id']}")).raise_for_status().json()
                )
            except (httpx.HTTPError, ValueError) as exc:
                self._failed_at = now
                log.warning("rule set directory unavailable", error=str(exc))
                return None
        return {**self._full[chosen["id"]], "content_hash": chosen["content_hash"]}


def module_owner_items(doc: dict[str, Any]) -> dict[str, str]:
    """A module document's items that its owner's registry answers, each with the owner."""
    sources = doc.get("fact_sources") or {}
    return {f"{doc['id']}/{ind}": doc["owner"] for ind, s in sources.items() if s.get("source") == "owner"}


class Notices:
    """The rules notice of an application (bound at bootstrap: the directory, and the departments
    that look facts up in shared data, so the applicant needs no materials for them)."""

    def __init__(self, directory: RuleSetDirectory, shared_data_departments: str) -> None:
        self.directory = directory
        self.shared_data = {d.strip() for d in shared_data_departments.split(",") if d.strip()}

    async def of(self, applied_on: date, cut_off: date) -> dict[str, Any]:
        return await self.directory.notice(applied_on, cut_off, self.shared_data)

    async def owner_items(self, module_ids: list[str]) -> dict[str, str]:
        return await self.directory.owner_items(module_ids)


def rules_notice(rule_set: dict | None, applied_on: date, cut_off: date, shared_data: set[str]) -> dict[str, Any]:
    try:
        review_by = add_working_days(applied_on, REVIEW_WORKING_DAYS).isoformat()
        result_on = add_working_days(applied_on, RESULT_WORKING_DAYS).isoformat()
        calendar_note = None
    except CalendarYearUnknown as exc:
        # The dates are left open rather than guessed; the applicant is told why.
        review_by = result_on = "（待公布 to be announced）"
        calendar_note = str(exc)
    notice: dict[str, Any] = {
        "cut_off_date": cut_off.isoformat(),
        "review_deadline": None if calendar_note else review_by,
        "result_date": None if calendar_note else result_on,
        "objection": {
            "working_days": OBJECTION_WORKING_DAYS,
            "zh": f"对积分结果有异议的，可在收到通知之日起{OBJECTION_WORKING_DAYS}个工作日内提出异议，"
            "相关部门将重新核查。",
            "en": f"If you disagree with your score, you may object within {OBJECTION_WORKING_DAYS} working days of "
            "being notified; the departments concerned will verify the facts again.",
        },
        "summary": {
            "zh": f"各部门将于{review_by}前完成联审，您可于{result_on}起查询积分结果。"
            f"事实计算截止日为{cut_off.isoformat()}。",
            "en": f"The departments will complete their joint review by {review_by}; your score can be "
            f"queried from {result_on}. Facts are counted up to {cut_off.isoformat()}.",
        },
    }
    if calendar_note:
        notice["calendar"] = calendar_note
    if rule_set is None:
        notice["rule_set"] = None
        notice["indicators"] = []
        notice["note"] = {
            "zh": "指标体系信息暂不可用，请稍后查询本告知。",
            "en": "The indicator system is momentarily unavailable; read this notice again later.",
        }
        return notice
    notice["rule_set"] = {"id": rule_set["id"], "name": rule_set["name"], "content_hash": rule_set["content_hash"]}
    notice["indicators"] = [
        {
            "id": ind["id"],
            "category": ind["category"],
            "name": ind["name"],
            "department": ind["department"],
            "materials_needed": ind["department"] not in shared_data,
            "how": (
                {
                    "zh": "由部门通过共享数据核实，您无需提交材料；如部门未查到记录，可补充上传证明材料。",
                    "en": "Looked up by the department in shared data: you submit nothing. If nothing is on record, "
                    "you may upload supporting materials.",
                }
                if ind["department"] in shared_data
                else {
                    "zh": "请申报并上传证明材料，由部门人工审核。",
                    "en": "Declare it and upload supporting materials for the department to review.",
                }
            ),
        }
        for ind in rule_set["indicators"]
    ]
    return notice
