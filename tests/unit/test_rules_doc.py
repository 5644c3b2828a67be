"""docs/rules.md states every indicator of every shipped rule set with the same provenance
markers ([src], [chosen]) as its rule file: the page and the files cannot drift apart."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.scoring.engine.modules import load_shipped_modules
from services.scoring.engine.rules import load_shipped

DOC = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
RULES = load_shipped()


def markers(text: str | None) -> set[str]:
    return set(re.findall(r"\[(src|chosen)\]", text or ""))


def section(rule_set_id: str) -> str:
    start = DOC.index(f"## Rule set `{rule_set_id}`")
    end = DOC.find("\n## ", start + 1)
    return DOC[start : end if end > 0 else None]


def rows(text: str) -> dict[str, list[str]]:
    """First cell (`id`) → the row's cells, for every table row of the text."""
    found = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and cells:
            found[cells[0].strip("`").split("`")[0]] = cells
    return found


@pytest.mark.parametrize("rule_set_id", sorted(RULES))
def test_every_indicator_is_on_the_page_with_the_files_provenance(rule_set_id):
    table = rows(section(rule_set_id))
    rule_set = RULES[rule_set_id]
    assert rule_set.name.zh in section(rule_set_id)
    for ind in rule_set.indicators:
        assert ind.id in table, f"docs/rules.md lacks {rule_set_id}/{ind.id}"
        row = table[ind.id]
        assert row[1] == ind.name.zh and row[2] == ind.category, f"{rule_set_id}/{ind.id}: name or category"
        assert markers(row[-1]) == markers(ind.source), f"{rule_set_id}/{ind.id}: provenance differs from the file"
    assert set(table) == {i.id for i in rule_set.indicators}, "the page names an indicator the file lacks"


def test_every_shipped_module_is_on_the_page_with_its_provenance():
    table = rows(DOC[DOC.index("## X-modules shipped") :])
    for module_id, module in load_shipped_modules().items():
        assert module_id in table
        assert markers(table[module_id][-1]) == markers(module.source)
