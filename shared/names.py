"""The one place for the names people read: categories, states, levels, offences, departments,
groups and reasons, in Chinese (for citizens) and English (for partners).

Indicators are named in their rule files (`name: {zh, en}`), which travel with every score line;
everything else a page, an SMS, a receipt or a report shows is named here. A code with no name
here is shown as a neutral Chinese word by `zh()`, never as the code itself.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Name(NamedTuple):
    zh: str
    en: str


CATEGORIES: dict[str, Name] = {
    "basic": Name("基础指标", "Basic"),
    "bonus": Name("加分指标", "Bonus"),
    "deduction": Name("减分指标", "Deduction"),
    "veto": Name("一票否决", "Veto"),
}

# Hangzhou's districts (区、县级市), by the codes registries, modules and strata use.
DISTRICTS: dict[str, Name] = {
    "shangcheng": Name("上城区", "Shangcheng"),
    "gongshu": Name("拱墅区", "Gongshu"),
    "xihu": Name("西湖区", "Xihu"),
    "binjiang": Name("滨江区", "Binjiang"),
    "xiaoshan": Name("萧山区", "Xiaoshan"),
    "yuhang": Name("余杭区", "Yuhang"),
    "linping": Name("临平区", "Linping"),
    "qiantang": Name("钱塘区", "Qiantang"),
    "fuyang": Name("富阳区", "Fuyang"),
    "linan": Name("临安区", "Lin'an"),
}

# A score's status (scoring), as notices, SMS texts and estimates state it.
SCORE_STATUSES: dict[str, Name] = {
    "scored": Name("已计分", "Scored"),
    "vetoed": Name("一票否决，不予计分", "Vetoed"),
    "paused": Name("居住证状态异常，积分暂停", "Paused (suspended permit)"),
    "void": Name("积分无效", "Void"),
    "refused": Name("委托关系未核实，不予计分", "Refused (delegation not verified)"),
}

# An objection's or review's status and kind (publicity).
OBJECTION_STATUSES: dict[str, Name] = {
    "open": Name("核查中", "Open: departments re-verifying"),
    "resolved": Name("已办结（已重新计分）", "Resolved: score recomputed"),
    "answered": Name("已答复", "Answered by an officer"),
}
OBJECTION_KINDS: dict[str, Name] = {"objection": Name("异议", "Objection"), "review": Name("复核", "Review")}
ROUND_STATUSES: dict[str, Name] = {
    "accepting": Name("受理中", "Accepting"),
    "notice": Name("公示中", "On notice"),
    "final": Name("已终结", "Final"),
}

# A permit's state as the police report it.
PERMIT_STATUSES: dict[str, Name] = {
    "valid": Name("有效", "Valid"),
    "suspended": Name("暂停", "Suspended"),
    "terminated": Name("已注销", "Terminated"),
    "expired": Name("已过期", "Expired"),
    "not_found": Name("未查到", "Not on record"),
    "mismatch": Name("信息不符", "Does not match"),
}

EDUCATION_LEVELS: dict[str, Name] = {
    "high_school": Name("高中", "High school"),
    "secondary_vocational": Name("中专（中技、职高）", "Secondary vocational"),
    "junior_college": Name("大专", "Junior college"),
    "bachelor": Name("本科", "Bachelor"),
    "master": Name("硕士研究生", "Master"),
    "doctorate": Name("博士研究生", "Doctorate"),
}
SKILL_LEVELS: dict[str, Name] = {
    "senior_worker": Name("高级工", "Senior worker"),
    "technician": Name("技师", "Technician"),
    "senior_technician": Name("高级技师", "Senior technician"),
    "intermediate_title": Name("中级职称", "Intermediate title"),
    "deputy_senior_title": Name("副高级职称", "Deputy senior title"),
    "senior_title": Name("正高级职称", "Senior title"),
}
HONOUR_LEVELS: dict[str, Name] = {
    "national": Name("国家级", "National"),
    "provincial": Name("省级", "Provincial"),
    "city": Name("市级", "City"),
    "district": Name("区（县、市）级", "District"),
}
PATENT_ROLES: dict[str, Name] = {
    "first_inventor": Name("第一发明人", "First inventor"),
    "other_inventor": Name("其他发明人", "Other inventor"),
    "transferred_in": Name("受让取得", "Transferred in"),
}
HOUSING_OPTIONS: dict[str, Name] = {
    "own_home": Name("自有住房", "Own home"),
    "rental": Name("登记备案的租赁住房", "Registered rental"),
}
OFFENCES: dict[str, Name] = {
    "criminal": Name("刑事犯罪", "Criminal conviction"),
    "drug_rehab": Name("强制隔离戒毒", "Compulsory drug rehabilitation"),
    "detention": Name("行政拘留或司法拘留", "Detention"),
    "custody_education": Name("收容教育", "Custody education"),
    "dishonesty": Name("失信被执行人", "Listed as a dishonest party"),
    "family_planning": Name("违反计划生育政策", "Family-planning violation"),
    "serious_crime": Name("严重刑事犯罪", "Serious crime"),
    "banned_org": Name("参加非法组织", "Banned organisation"),
}

DEPARTMENTS: dict[str, Name] = {
    "police": Name("公安", "Police"),
    "social_insurance": Name("人力社保（社保）", "Social insurance"),
    "human_resources": Name("人力社保（人才）", "Human resources"),
    "education": Name("教育", "Education"),
    "housing": Name("住建", "Housing"),
    "tax": Name("税务", "Tax"),
    "civil_affairs": Name("民政", "Civil affairs"),
    "health": Name("卫健", "Health"),
    "credit": Name("发改（信用）", "Credit"),
    "market_regulation": Name("市场监管", "Market regulation"),
}

# The unit a measured fact is counted in, by the fact it is measured from.
FACT_UNITS: dict[str, str] = {
    "birth_date": "岁",
    "residence_spans": "年",
    "rental_spans": "年",
    "social_insurance_spans": "个月",
    "volunteer_service": "小时",
    "charity_donations": "元",
    "income_tax": "元",
    "investment_tax": "元",  # 投资纳税 (on main since this branch began): yearly mean of the city tax
    "blood_donated_ml": "毫升",
}

# Groups and labels of the simulation report.
GROUPS: dict[str, Name] = {
    "age_band": Name("年龄段", "Age band"),
    "education": Name("文化程度", "Education"),
    "housing": Name("住房", "Housing"),
    "residence_years": Name("居住登记年限", "Years of residence"),
}
GROUP_LABELS: dict[str, Name] = {
    "unknown": Name("未知", "Unknown"),
    "none on record": Name("无学历记录", "None on record"),
    "owner": Name("自有住房", "Owner"),
    "registered renter": Name("登记租房", "Registered renter"),
    "neither": Name("无登记住所", "Neither"),
    **EDUCATION_LEVELS,
}

# Indicators a score line may carry whose very name tells something a stranger should not learn
# (a conviction, a rehabilitation order, a debt, a family matter): the public sees only the sum of
# deductions; the holder (through their partner) and officers see them itemised.
SENSITIVE_CATEGORIES = frozenset({"deduction", "veto"})

# Reasons scoring gives for a status (`reason`), in its own words: English with codes. Each
# pattern, first match wins, turns one into a sentence a citizen reads.
_REASONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^permit_status: '(\w+)' is a state"), "居住证状态未列入积分规则，不予积分"),
    (re.compile(r"^permit_status: (\w+)"), "居住证状态：{permit}"),
    (re.compile(r"^forged materials"), "提交的材料经核查系伪造"),
    (re.compile(r"^delegation not verified"), "委托关系未核实"),
    (re.compile(r"^veto: (\w+)"), "存在一票否决情形：{offence}"),
    (re.compile(r"^overdue"), "部分部门逾期未反馈，相关事项暂计0分"),
]


def zh(table: dict[str, Name], code: str | None, unknown: str = "其他") -> str:
    """The Chinese name of `code` in `table`; an unknown code is `unknown`, never the code itself."""
    if code is None:
        return ""
    name = table.get(code)
    return name.zh if name else unknown


# The values facts take (levels, roles, options, cases), for a rule stated in words.
VALUE_TABLES = (EDUCATION_LEVELS, SKILL_LEVELS, HONOUR_LEVELS, PATENT_ROLES, HOUSING_OPTIONS, OFFENCES)


def value_zh(code: str) -> str:
    """A fact's value (`bachelor`, `first_inventor`, `serious_crime`) by its Chinese name."""
    for table in VALUE_TABLES:
        if code in table:
            return table[code].zh
    return "其他"


def reason_zh(reason: str | None) -> str:
    """A status reason as a citizen reads it: each '; '-separated part in Chinese."""
    if not reason:
        return ""
    parts = []
    for part in (p.strip() for p in reason.split(";")):
        for pattern, text in _REASONS:
            m = pattern.match(part)
            if m:
                code = m.group(1) if m.groups() else ""
                parts.append(text.format(permit=zh(PERMIT_STATUSES, code, "异常"), offence=zh(OFFENCES, code)))
                break
        else:
            # Already in Chinese (an officer's words): as it is; anything else is not shown raw.
            parts.append(part if not any(c.isascii() and c.isalpha() for c in part) else "详见计分说明")
    return "；".join(dict.fromkeys(parts))
