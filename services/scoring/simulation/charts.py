"""The report's charts, drawn with matplotlib as SVG (text kept as text, so the page stays searchable)."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: a service and CI draw to files
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
BEFORE, AFTER, GAIN, LOSS = "#7f8c8d", "#2471a3", "#1e8449", "#c0392b"


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]  # inline: no XML prologue


def distribution(summary: dict[str, Any]) -> str:
    h = summary["histogram"]
    fig, ax = plt.subplots(figsize=(8, 3.4))
    if h["edges"]:
        edges = np.array(h["edges"])
        ax.stairs(h["before"], edges, label=f"baseline ({summary['baseline']['id']})", color=BEFORE, linewidth=1.6)
        ax.stairs(h["after"], edges, label=f"draft ({summary['draft']['id']})", color=AFTER, linewidth=1.6)
    line = summary.get("line")
    if line:
        if line["threshold"] is not None:
            ax.axvline(
                line["threshold"], color="black", linestyle="--", linewidth=1, label=f"threshold {line['threshold']:g}"
            )
        for side, colour in (("before", BEFORE), ("after", AFTER)):
            cut = line[side]["lowest_qualifying_score"]
            if line["quota"] is not None and cut is not None:
                ax.axvline(cut, color=colour, linestyle=":", linewidth=1.2, label=f"cut-off {side}: {cut:g}")
    ax.set_xlabel(summary["scores_are"])
    ax.set_ylabel("holders")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=8)
    return _svg(fig)


def contributions(summary: dict[str, Any]) -> str:
    rows = [r for r in summary["indicators"] if r["mean_change"] != 0] or summary["indicators"][:1]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 0.9))
    values = [r["mean_change"] for r in rows]
    ax.barh([r["indicator"] for r in rows], values, color=[GAIN if v >= 0 else LOSS for v in values])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.invert_yaxis()
    ax.set_xlabel("mean change in points per holder")
    for y, v in enumerate(values):
        ax.annotate(
            f"{v:+.2f}",
            (v, y),
            xytext=(4 if v >= 0 else -4, 0),
            textcoords="offset points",
            ha="left" if v >= 0 else "right",
            va="center",
            fontsize=8,
        )
    return _svg(fig)


def group(summary: dict[str, Any], name: str) -> str:
    rows = summary["groups"][name]["labels"]
    labels = [r["label"] for r in rows]
    x = np.arange(len(rows))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3))
    means = [r["mean_change"] for r in rows]
    ax1.bar(x, means, color=[GAIN if m >= 0 else LOSS for m in means])
    ax1.axhline(0, color="black", linewidth=0.8)
    ax1.set_title("mean change in points", fontsize=9)
    share = lambda key: [100 * r[key] / r["holders"] for r in rows]  # noqa: E731
    ax2.bar(x - 0.2, share("gainers"), 0.4, color=GAIN, label="gain")
    ax2.bar(x + 0.2, share("losers"), 0.4, color=LOSS, label="lose")
    ax2.set_title("% of the group", fontsize=9)
    ax2.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))
    for ax in (ax1, ax2):
        ax.set_xticks(x, labels, rotation=30, ha="right")
    fig.suptitle(summary["groups"][name]["name"]["en"], fontsize=10)
    return _svg(fig)


def crossing(summary: dict[str, Any]) -> str | None:
    if not summary.get("line"):
        return None
    names = list(summary["groups"])
    fig, axes = plt.subplots(1, len(names), figsize=(2.6 * len(names), 3), sharey=True)
    for ax, name in zip(np.atleast_1d(axes), names, strict=True):
        rows = summary["groups"][name]["labels"]
        x = np.arange(len(rows))
        ax.bar(x - 0.2, [r["newly_qualified"] for r in rows], 0.4, color=GAIN, label="newly over the line")
        ax.bar(x + 0.2, [-r["no_longer_qualified"] for r in rows], 0.4, color=LOSS, label="no longer over it")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(x, [r["label"] for r in rows], rotation=40, ha="right", fontsize=7)
        ax.set_title(summary["groups"][name]["name"]["en"], fontsize=9)
    np.atleast_1d(axes)[0].set_ylabel("holders")
    np.atleast_1d(axes)[-1].legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))
    return _svg(fig)
