"""The report's charts, drawn with matplotlib as SVG (text kept as text, so the page stays searchable).

Legends are the page's, not the charts': an HTML key under each chart wraps on a phone and is never
cut off by the figure's edge. The charts are sized for a phone's width first (they scale down, never
up), with the labels in Chinese; where the two cut-off lines fall close together each is labelled at
its own height.
"""

from __future__ import annotations

import functools
import io
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import matplotlib

matplotlib.use("Agg")  # no display: a service and CI draw to files
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

plt.rcParams.update(
    {
        "svg.fonttype": "none",
        "font.size": 11,
        "axes.spines.top": False,
        "axes.spines.right": False,
        # The browser draws the text (svg.fonttype none): name the CJK fonts it is likely to have.
        "font.sans-serif": ["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "DejaVu Sans"],
    }
)
BEFORE, AFTER, GAIN, LOSS, LINE = "#5f6b6d", "#1f5f99", "#1e7d45", "#b03a2e", "#000000"
WIDTH = 6.0  # inches: about a phone's width at the report's scale
F = TypeVar("F", bound=Callable[..., Any])


def quiet(draw: F) -> F:
    """Without a CJK font on the server matplotlib measures Chinese with a stand-in glyph and warns
    for every character; the browser draws the text (svg.fonttype none), and the generous padding
    of _svg keeps rotated labels inside the figure."""

    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
            return draw(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", pad_inches=0.35)
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]  # inline: no XML prologue


def distribution_key(summary: dict[str, Any]) -> list[dict[str, str]]:
    """The distribution chart's key, for the page: each line drawn, with its colour and style."""
    key = [
        {"colour": BEFORE, "style": "solid", "text": f"现行（{summary['baseline']['id']}）"},
        {"colour": AFTER, "style": "solid", "text": f"草案（{summary['draft']['id']}）"},
    ]
    line = summary.get("line")
    if line:
        if line["threshold"] is not None:
            key.append({"colour": LINE, "style": "dashed", "text": f"分数线 {line['threshold']:g} 分"})
        before, after = line["before"]["lowest_qualifying_score"], line["after"]["lowest_qualifying_score"]
        if line["quota"] is not None and before is not None and before == after:
            key.append({"colour": LINE, "style": "dotted", "text": f"入围线（前后相同）{before:g} 分"})
        elif line["quota"] is not None:
            if before is not None:
                key.append({"colour": BEFORE, "style": "dotted", "text": f"现行入围线 {before:g} 分"})
            if after is not None:
                key.append({"colour": AFTER, "style": "dashed", "text": f"草案入围线 {after:g} 分"})
    return key


@quiet
def distribution(summary: dict[str, Any]) -> str:
    h = summary["histogram"]
    fig, ax = plt.subplots(figsize=(WIDTH, 3.4))
    if h["edges"]:
        edges = np.array(h["edges"])
        ax.stairs(h["before"], edges, color=BEFORE, linewidth=1.8)
        ax.stairs(h["after"], edges, color=AFTER, linewidth=1.8)
    line = summary.get("line")
    if line:
        if line["threshold"] is not None:
            ax.axvline(line["threshold"], color=LINE, linestyle="--", linewidth=1)
        before, after = line["before"]["lowest_qualifying_score"], line["after"]["lowest_qualifying_score"]
        if line["quota"] is not None:
            cuts = [(before, BEFORE, ":", "现行"), (after, AFTER, "--", "草案")]
            if before is not None and before == after:
                cuts = [(before, LINE, ":", "前后")]
            for height, (cut, colour, style, who) in zip((0.97, 0.84), cuts, strict=False):
                if cut is None:
                    continue
                ax.axvline(cut, color=colour, linestyle=style, linewidth=1.6)
                # Each line's value at its own height, on the side away from the other line.
                other = after if who == "现行" else before if who == "草案" else None
                right = other is None or other <= cut
                ax.annotate(
                    f"{who} {cut:g}",
                    (cut, height),
                    xycoords=("data", "axes fraction"),
                    xytext=(4 if right else -4, 0),
                    textcoords="offset points",
                    ha="left" if right else "right",
                    va="top",
                    fontsize=10,
                    color=colour,
                )
    ax.set_xlabel("积分" if summary["scores_are"] == "points totals" else "模块总分（基础分 + 模块分）")
    ax.set_ylabel("人数")
    return _svg(fig)


@quiet
def contributions(summary: dict[str, Any]) -> str:
    rows = [r for r in summary["indicators"] if r["mean_change"] != 0] or summary["indicators"][:1]
    fig, ax = plt.subplots(figsize=(WIDTH, 0.5 * len(rows) + 1.0))
    values = [r["mean_change"] for r in rows]
    ax.barh([r["name_zh"] for r in rows], values, color=[GAIN if v >= 0 else LOSS for v in values])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.invert_yaxis()
    ax.set_xlabel("人均积分变化")
    for y, v in enumerate(values):
        ax.annotate(
            f"{v:+.2f}",
            (v, y),
            xytext=(4 if v >= 0 else -4, 0),
            textcoords="offset points",
            ha="left" if v >= 0 else "right",
            va="center",
            fontsize=10,
        )
    return _svg(fig)


@quiet
def group(summary: dict[str, Any], name: str) -> str:
    """Two panels one above the other (a phone is narrow): mean change, and who gains and loses."""
    rows = summary["groups"][name]["labels"]
    labels = [r["label_zh"] for r in rows]
    x = np.arange(len(rows))
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(WIDTH, 5.4), sharex=True)
    means = [r["mean_change"] for r in rows]
    ax1.bar(x, means, color=[GAIN if m >= 0 else LOSS for m in means])
    ax1.axhline(0, color="black", linewidth=0.8)
    ax1.set_ylabel("人均积分变化")
    share = lambda key: [100 * r[key] / r["holders"] for r in rows]  # noqa: E731
    ax2.bar(x - 0.2, share("gainers"), 0.4, color=GAIN)
    ax2.bar(x + 0.2, share("losers"), 0.4, color=LOSS)
    ax2.set_ylabel("占本组 %")
    ax2.set_xticks(x, labels, rotation=30, ha="right")
    return _svg(fig)


@quiet
def crossing(summary: dict[str, Any]) -> str | None:
    """Who crosses the line, group by group: one small panel per group, stacked for a phone."""
    if not summary.get("line"):
        return None
    names = list(summary["groups"])
    fig, axes = plt.subplots(len(names), 1, figsize=(WIDTH, 2.3 * len(names)))
    for ax, name in zip(np.atleast_1d(axes), names, strict=True):
        rows = summary["groups"][name]["labels"]
        x = np.arange(len(rows))
        ax.bar(x - 0.2, [r["newly_qualified"] for r in rows], 0.4, color=GAIN)
        ax.bar(x + 0.2, [-r["no_longer_qualified"] for r in rows], 0.4, color=LOSS)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(x, [r["label_zh"] for r in rows], rotation=20, ha="right", fontsize=10)
        ax.set_title(summary["groups"][name]["name"]["zh"], fontsize=11, loc="left")
        ax.set_ylabel("人数")
    fig.tight_layout()
    return _svg(fig)
