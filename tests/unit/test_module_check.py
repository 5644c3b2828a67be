"""A district tries a module before it counts: `python -m services.scoring.modules check FILE`,
and every formula kind states its rule in Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.scoring.engine.modules import MODULE_DIR, load_shipped_modules, module_faults, parse_module
from services.scoring.engine.rules import load_shipped
from services.scoring.modules.check import app

RULES = load_shipped()
runner = CliRunner()


def module_text(indicator_id: str = "tech_park", tie_key: str = "indicator:tech_park") -> str:
    return f"""
id: xihu-draft
owner: district:xihu
name: {{zh: 西湖区人才导向指标（草案）, en: Xihu draft}}
effective_from: 2025-01-01
indicators:
  - id: {indicator_id}
    category: bonus
    name: {{zh: 在区科技园区就业, en: Working in the district's tech park}}
    department: social_insurance
    fact: employed
    formula: {{kind: flag, points: 8}}
rounds: [{{from: 2025-01-01, threshold: 110, quota: 300}}]
tie_breakers: [{{key: "{tie_key}"}}, {{key: "indicator:residence:value"}}, {{key: "category:basic", order: asc}}]
"""


def check(tmp_path: Path, text: str) -> tuple[int, str]:
    f = tmp_path / "draft.yaml"
    f.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["check", str(f), "--on", "2026-11-30"])
    return result.exit_code, result.output


def test_a_valid_draft_reads_as_a_holder_would(tmp_path):
    code, out = check(tmp_path, module_text())
    assert code == 0, out
    assert "西湖区人才导向指标（草案）" in out and "主管单位：西湖区" in out
    assert "加分指标 · 在区科技园区就业：符合条件的计8分" in out
    assert "自2025年1月1日起：分数线110分，名额300个" in out
    # Tie-breakers in their order, named from the indicators they use.
    assert (
        out.index("1. 在区科技园区就业积分较高") < out.index("2. 居住登记年限较长") < out.index("3. 基础指标积分较低")
    )
    assert "可以登记" in out


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (module_text(indicator_id="residence", tie_key="total"), "indicators[0].id"),  # a city indicator's id
        (module_text(tie_key="indicator:tech_parc"), "tie_breakers[0].key"),  # a typo separates nobody
    ],
)
def test_a_draft_registration_would_refuse_fails_naming_the_field(tmp_path, text, field):
    code, out = check(tmp_path, text)
    assert code == 1
    assert f"不能登记 (not valid): {field}" in out
    assert field in [f for f, _ in module_faults(parse_module(text, "draft.yaml"), RULES)]


def test_a_malformed_file_fails_with_the_parsers_reason(tmp_path):
    code, out = check(tmp_path, module_text().replace("kind: flag", "kind: flagg"))
    assert code == 1 and "不能登记" in out and "tech_park" in out


@pytest.mark.parametrize("module_id", sorted(load_shipped_modules()))
def test_every_shipped_module_passes_its_own_check(tmp_path, module_id):
    code, out = check(tmp_path, (MODULE_DIR / f"{module_id}.yaml").read_text(encoding="utf-8"))
    assert code == 0 and "可以登记" in out


RULE_TEXTS = {
    "age": "43岁及以下计30分；44至55岁：55岁计7分，每少1岁加2分；56至60岁计5分；61岁及以上计0分",
    "employment": "符合条件的计10分",
    "social_insurance": "每满1个月计0.5分，最高120分",
    "residence": "每满1年计5分，最高100分",
    "blood_donation": "满200计1分，超出部分每满100加0.5分，最高20分",
    "volunteering": "回溯期内累计每满20小时计2分，最高20分",
    "investment": "按截止日前3个完整年度的年均值，每满10万元计10分，最高60分",
    "criminal": "回溯期内每有一次扣150分；同一行为只按最重的一项计",
}


@pytest.mark.parametrize(("indicator_id", "text"), sorted(RULE_TEXTS.items()))
def test_each_formula_kind_states_its_rule_in_chinese(indicator_id, text):
    ind = RULES["hangzhou-2021"].indicator(indicator_id)
    assert ind.formula.rule_text(ind) == text


def test_value_codes_are_named_by_the_label_given():
    rs = RULES["hangzhou-2021"]
    education, housing, serious = rs.indicator("education"), rs.indicator("housing"), rs.indicator("serious_crime")
    names = {"bachelor": "本科", "own_home": "自有住房", "rental": "租赁住房", "serious_crime": "严重刑事犯罪"}
    assert "本科50分" in education.formula.rule_text(education, lambda c: names.get(c, c))
    assert housing.formula.rule_text(housing, lambda c: names.get(c, c)) == (
        "以下取最高一项：自有住房计30分；租赁住房每满1年计6分，最高30分"
    )
    assert serious.formula.rule_text(serious, lambda c: names.get(c, c)) == "有严重刑事犯罪记录的，不予积分"
