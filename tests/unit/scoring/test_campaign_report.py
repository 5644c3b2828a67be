"""A campaign's report from scored participants: per stratum the response and the weight, the
register's means weighted, volunteers kept out of them, and a page that renders with or without
respondents (figures only: valid JSON, no NaN)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from services.scoring.campaigns import report

LABELS = {"district": "xihu", "age_band": "25–34", "education": "bachelor", "housing": "neither"}
CAMPAIGN = {
    "id": "CMP-20261130-ABCDEF",
    "doc": {
        "title_zh": "测试调查",
        "period": {"opens_on": "2026-11-30", "closes_on": "2026-12-30"},
        "cut_off_date": "2026-11-30",
        "plan": {"strata": [{"name": "新来", "target": 4}, {"name": "久居", "target": 6}]},
        "register": [100, 300],
        "invited": [4, 6],
        "line": {"threshold": 100.0, "share": 0.5},
    },
}
RULE_SETS = [
    {"id": "now", "name_zh": "现行", "content_hash": "a", "in_force": True},
    {"id": "draft", "name_zh": "草案", "content_hash": "b", "in_force": False},
]


def scored(n_new: int, n_old: int, volunteers: int = 0) -> report.Scored:
    before = [50.0] * n_new + [120.0] * n_old + [80.0] * volunteers
    after = [70.0] * n_new + [120.0] * n_old + [90.0] * volunteers
    n = len(before)
    return report.Scored(
        rule_sets=RULE_SETS,
        totals=np.array([before, after]).reshape(2, n),
        invited=np.array([True] * (n_new + n_old) + [False] * volunteers, dtype=bool),
        stratum=np.array([0] * n_new + [1] * n_old + [-1] * volunteers, dtype=np.int64),
        labels=[{**LABELS, "residence_years": "0–2"}] * n_new
        + [{**LABELS, "residence_years": "11+"}] * (n_old + volunteers),
        declared=[{"residence": (100.0, 60.0), "age": (30.0, 30.0)}, {"residence": (25.0, 25.0)}],
        indicator_names={"residence": "居住登记年限", "age": "年龄"},
    )


def test_the_register_is_estimated_from_the_sample_only():
    s = report.summarise(CAMPAIGN, scored(3, 5, volunteers=2), {"verified": 10})
    assert [(h["responded"], h["response_rate"], h["weight"]) for h in s["strata"]] == [
        (3, 0.75, pytest.approx(100 / 3, abs=1e-3)),
        (5, pytest.approx(5 / 6, abs=1e-4), 60.0),
    ]
    now, draft = (x["mean"]["value"] for x in s["scores"])
    assert now == pytest.approx(0.25 * 50 + 0.75 * 120) and draft == pytest.approx(0.25 * 70 + 0.75 * 120)
    assert s["scores"][0]["volunteers_mean"] == 80.0  # counted beside, never weighted in
    change = s["comparisons"][0]
    assert change["gainers_share"]["value"] == pytest.approx(0.25) and change["losers_share"]["value"] == 0
    years = {r["label"]: r for r in change["groups"]["residence_years"]["labels"]}
    assert years["0–2"]["mean_change"] == pytest.approx(20.0) and years["11+"]["mean_change"] == 0
    assert years["0–2"]["label_zh"] == "0–2年"
    assert change["groups"]["district"]["labels"][0]["label_zh"] == "西湖区"
    assert change["line"]["before"]["qualified_share"]["value"] == pytest.approx(0.75)
    rows = {r["indicator"]: r for r in s["declared_vs_verified"]["indicators"]}
    assert rows["residence"] == {
        "indicator": "residence",
        "name_zh": "居住登记年限",
        "declared": 2,
        "disagree": 1,
        "disagree_share": 0.5,
        "mean_difference": 20.0,
    }
    page = report.render(s)
    assert "测试调查" in page and "西湖区" in page and "<svg" in page


def test_a_report_without_respondents_renders_and_says_nothing_it_cannot_know():
    s = report.summarise(CAMPAIGN, scored(0, 0), {})
    json.dumps(s, allow_nan=False)
    assert s["scores"][0]["mean"] is None and s["population"]["covered_share"] == 0.0
    assert all(h["response_rate"] == 0 and h["weight"] is None for h in s["strata"])
    assert "测试调查" in report.render(s)
