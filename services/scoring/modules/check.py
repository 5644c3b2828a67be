"""`python -m services.scoring.modules check FILE`: is a module file valid, and what will a holder read?

A district or department runs it on a draft before registering it: the same validation as
`PUT /v1/modules/{id}` (the file's format, then what it asks of the rule sets and the facts),
then the module in Chinese, as the public module page and a holder's explanation show it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from services.scoring.engine import measures
from services.scoring.engine.modules import Module, TieBreaker, module_faults, parse_module
from services.scoring.engine.rules import RuleSet, RuleSetError, in_force, load_shipped
from shared import clock, names

app = typer.Typer(help="X-module files: validate a draft and read it as a holder would.", no_args_is_help=True)

CATEGORY_NAMES = {"basic": "基础指标", "bonus": "加分指标", "deduction": "减分指标", "veto": "一票否决"}
DISTRICTS = {code: n.zh for code, n in names.DISTRICTS.items()}
CANDIDATES = {"holder": "持证人本人", "child": "随迁子女（按父母一方的较高积分）"}


def day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def owner_name(owner: str) -> str:
    kind, _, name = owner.partition(":")
    if kind == "city":
        return "市级"
    if kind == "district":
        return DISTRICTS.get(name, f"区县（{name}）")
    return f"部门（{name}）"


def source_of(module: Module, indicator_id: str) -> str:
    """Where the indicator's fact comes from, as the holder is told."""
    declared = module.fact_sources.get(indicator_id)
    if declared is None or declared.source.startswith("department:"):
        return "数据来自相关部门"
    if declared.source == "owner":
        return f"数据来自{owner_name(module.owner)}"
    return "由相关部门的登记信息推算"


def tie_breaker_name(t: TieBreaker, module: Module, base: RuleSet) -> str:
    """A tie-breaker as the notice states it; the file's own name where it gives one."""
    if t.name is not None:
        return t.name.zh
    higher = "较高" if t.order == "desc" else "较低"
    kind, _, rest = t.key.partition(":")
    if kind == "total":
        return f"总积分{higher}"
    if kind == "category":
        return f"{CATEGORY_NAMES.get(rest, rest)}积分{higher}"
    if kind == "indicator":
        ind_id, _, part = rest.partition(":")
        known = {i.id: i for i in [*base.indicators, *module.indicators]}
        if ind_id not in known:
            return f"{ind_id}{higher}"
        ind = known[ind_id]
        if not part:
            return f"{ind.name.zh}积分{higher}"
        # The measured value: a span of time reads longer or shorter, anything else higher or lower.
        timed = measures.unit_of(ind.measure) in ("年", "个月")
        return f"{ind.name.zh}{('较长' if t.order == 'desc' else '较短') if timed else higher}"
    return f"{rest}{higher}"


def holder_view(module: Module, base: RuleSet) -> list[str]:
    """The module in Chinese, line by line."""
    lines = [
        f"{module.name.zh}",
        f"  主管单位：{owner_name(module.owner)}；自{day(module.effective_from)}起施行"
        + (f"，{day(module.effective_to)}停止施行" if module.effective_to else "")
        + f"；按{CANDIDATES[module.candidate]}积分",
        f"  基础：{base.name.zh}（{day(base.effective_from)}起施行）的全部指标",
    ]
    if module.indicators:
        lines.append("  本模块另加的指标：")
        for i in module.indicators:
            rule = i.formula.rule_text(i)
            lines.append(f"    {CATEGORY_NAMES[i.category]} · {i.name.zh}：{rule}（{source_of(module, i.id)}）")
    else:
        lines.append("  本模块不另加指标，按全市积分排序。")
    for r in module.requires:
        need = f"不低于{r.min:g}" if r.min is not None else f"为“{r.equals}”"
        lines.append(f"  申请条件：{r.fact}{need}")
    for r in sorted(module.rounds, key=lambda r: r.from_):
        parts = []
        if r.threshold is not None:
            parts.append(f"分数线{r.threshold:g}分")
        if r.quota is not None:
            parts.append(f"名额{r.quota}个")
        lines.append(f"  自{day(r.from_)}起：{'，'.join(parts) or '不设分数线和名额'}")
    if module.tie_breakers:
        lines.append("  同分时依次比较：")
        for n, t in enumerate(module.tie_breakers, 1):
            lines.append(f"    {n}. {tie_breaker_name(t, module, base)}")
    return lines


@app.callback()
def commands() -> None:
    """Commands on X-module files (one for now; the group keeps `check` a word of its own)."""


@app.command()
def check(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The module's YAML file"),
    on: str = typer.Option("", help="Read it under the rule set in force on this day (default: today, Beijing)"),
) -> None:
    """Validate a module file as registration would, then print it as a holder reads it."""
    try:
        module = parse_module(file.read_text(encoding="utf-8"), file.name)
    except RuleSetError as exc:
        typer.echo(f"{file}: 不能登记 (not valid): {exc}", err=True)
        raise typer.Exit(1) from exc
    rule_sets = load_shipped()
    faults = module_faults(module, rule_sets)
    if faults:
        for field, message in faults:
            typer.echo(f"{file}: 不能登记 (not valid): {field}: {message}", err=True)
        raise typer.Exit(1)
    base = in_force(rule_sets, date.fromisoformat(on) if on else clock.today())
    typer.echo("\n".join(holder_view(module, base)))
    typer.echo(f"\n{file}: 可以登记 (valid), content hash {module.content_hash[:12]}")
