"""The report's plots as PNG data URIs (matplotlib, Agg canvas, no pyplot global state):
pass-rate histograms (paper Fig. 3), synthetic-vs-real distributions (Figs. 19-24) and training
curves."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

SYNTHETIC, REAL = "#e8710a", "#1f77b4"  # the paper's colours: synthetic orange, real blue
ORIGINS = {"initial": "#54aeff", "harder": "#ff8182", "easier": "#4ac26b"}
CURVES = (
    "reward",
    "reward_std",
    "frac_reward_zero_std",  # TRL: share of groups whose completions all got the same reward
    "zero_signal_share",  # ours: groups all correct or all wrong by the checker's verdict
    "kl",
    "completion_length",
    "loss",
    "learning_rate",
)
TITLES = {
    "frac_reward_zero_std": "groups with zero reward std",
    "zero_signal_share": "groups all correct or all wrong",
}


def to_data_uri(fig: Figure) -> str:
    """Render a figure to a base64 PNG data URI."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    fig.set_facecolor("white")
    return fig


def _style(ax: Any, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)


def _legend_below(ax: Any) -> None:
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=3, frameon=False)


def difficulty(hist: Mapping[str, Any]) -> str:
    """Pass-rate histograms: initial vs after adaptation, and the adapted set by origin."""
    edges = np.asarray(hist["bins"], dtype=float)
    centres, width = (edges[:-1] + edges[1:]) / 2, float(edges[1] - edges[0])
    fig = _figure(11, 3.6)
    left, right = fig.subplots(1, 2)
    for offset, key, label, colour in (
        (-0.22, "initial", "initial synthetic", "#8c959f"),
        (0.22, "after_adaptation", "after adaptation", SYNTHETIC),
    ):
        left.bar(centres + offset * width, hist[key], width * 0.42, label=label, color=colour)
    _style(left, "before vs after difficulty adaptation", "base-model pass rate", "samples")
    _legend_below(left)
    bottom = np.zeros(len(centres))
    for origin, counts in hist.get("by_origin", {}).items():
        values = np.asarray(counts, dtype=float)
        colour = ORIGINS.get(origin, "#8c959f")
        right.bar(centres, values, width * 0.85, bottom=bottom, label=origin, color=colour)
        bottom += values
    _style(right, "after adaptation, by origin", "base-model pass rate", "samples")
    if hist.get("by_origin"):
        _legend_below(right)
    for ax in (left, right):
        ax.set_xticks(edges)
        ax.set_xlim(edges[0] - width * 0.1, edges[-1] + width * 0.1)
        ax.yaxis.get_major_locator().set_params(integer=True)
    return to_data_uri(fig)


def distributions(
    series: Mapping[str, Sequence[float]], title: str, xlabel: str, bins: int = 30
) -> str:
    """Overlaid density histograms of a few named series (synthetic orange, real blue)."""
    fig = _figure(8, 3.4)
    ax = fig.subplots()
    values = [np.asarray(v, dtype=float) for v in series.values() if len(v)]
    low = min(float(v.min()) for v in values)
    high = max(float(v.max()) for v in values)
    edges = np.linspace(low, high if high > low else low + 1, bins + 1)
    for name, vals in series.items():
        if not len(vals):
            continue
        colour = SYNTHETIC if name.startswith("synthetic") else REAL
        ax.hist(vals, edges, density=True, alpha=0.35, color=colour)
        ax.hist(vals, edges, density=True, histtype="step", lw=1.6, color=colour, label=name)
    _style(ax, title, xlabel, "density")
    fig.legend(loc="outside lower center", ncols=len(series), frameon=False)
    return to_data_uri(fig)


def training(rows: Sequence[Mapping[str, Any]]) -> str:
    """One small panel per logged metric, against the optimiser step."""
    return to_data_uri(training_figure(rows))


def training_figure(rows: Sequence[Mapping[str, Any]]) -> Figure:
    present = [m for m in CURVES if any(isinstance(r.get(m), int | float) for r in rows)]
    cols = min(3, len(present))
    nrows = -(-len(present) // cols)
    fig = _figure(11, 2.8 * nrows)
    axes = np.atleast_1d(fig.subplots(nrows, cols)).ravel()
    for ax, metric in zip(axes, present, strict=False):
        points = [
            (r.get("step", i), r[metric])
            for i, r in enumerate(rows)
            if isinstance(r.get(metric), int | float)
        ]
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, marker="o" if len(xs) < 30 else None, ms=3, lw=1.5, color=REAL)
        _style(ax, TITLES.get(metric, metric.replace("_", " ")), "step", "")
        if metric in TITLES:  # shares
            ax.set_ylim(-0.05, 1.05)
    for ax in axes[len(present) :]:
        ax.set_visible(False)
    return fig


def rounds(hists: Sequence[tuple[str, Sequence[int], Sequence[int]]], bins: Sequence[float]) -> str:
    """One panel per round (synthrl.rounds): the pass rates of the pool the round's model
    probed, and of the whole set after that round's rewrites; `hists` is (title, pool, after)."""
    edges = np.asarray(bins, dtype=float)
    centres, width = (edges[:-1] + edges[1:]) / 2, float(edges[1] - edges[0])
    fig = _figure(min(3.8 * len(hists), 12), 3.4)
    axes = np.atleast_1d(fig.subplots(1, len(hists))).ravel()
    for ax, (title, pool, after) in zip(axes, hists, strict=True):
        ax.bar(centres - 0.22 * width, pool, width * 0.42, label="pool", color="#8c959f")
        ax.bar(centres + 0.22 * width, after, width * 0.42, label="after rewrites", color=SYNTHETIC)
        _style(ax, title, "pass rate of the round's base", "samples")
        ax.set_xticks(edges[::2])
        ax.yaxis.get_major_locator().set_params(integer=True)
    _legend_below(axes[0])
    return to_data_uri(fig)
