"""Figures of a validation: each target's model values against the observation, and a grid of all.

The functions take the tables of a validation (:class:`FitTables`) and return a
``matplotlib.figure.Figure``; no pyplot state and no backend is touched, so they are safe in any
process. :func:`save_png` writes a figure without a version stamp (identical inputs give
identical files).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

PNG_METADATA = {"Software": None}
"""No version stamp in the PNG files: identical figures give identical files."""
BASELINE_MARKERS = (("constant", "x"), ("proportional", "+"))


@dataclass
class FitTables:
    """What the figures of a validation show.

    `targets`: one row per target (target, description, date: the month of a 'value_at'
    mapping or None); `fit`: the fit table (target, unit, set, missed, mean, ci_low, ci_high,
    obs_value, obs_low, obs_high, constant_mean, proportional_mean); `series`: the monthly mean
    and band (target, month, mean, low, high); `values`: the value of each target in each run
    (predictor, run_id, one column per target).
    """

    targets: pd.DataFrame
    fit: pd.DataFrame
    series: pd.DataFrame
    values: pd.DataFrame
    band: tuple[float, float]
    confidence: float


def save_png(fig: Figure, path: Path, dpi: int) -> Path:
    """Write a figure as PNG (without a version stamp)."""
    fig.savefig(path, dpi=dpi, metadata=PNG_METADATA)
    return path


def _num(x: Any) -> float | None:
    """A table cell as a number, None when empty."""
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def observed_marker(ax: Axes, row: pd.Series, x: Any, scale: float) -> None:
    """The observation of a fit row: an error bar for a range, a triangle for a bound, a diamond for a value."""
    low, high, value = _num(row["obs_low"]), _num(row["obs_high"]), _num(row["obs_value"])
    kw = {"color": "crimson", "zorder": 5}
    if low is not None and high is not None:
        ax.errorbar([x], [(low + high) / 2 * scale], yerr=[[(high - low) / 2 * scale]], fmt="none",
                    capsize=6, lw=2.5, label="observed range", **kw)
    elif low is not None or high is not None:
        b = low if low is not None else high
        ax.scatter([x], [b * scale], marker="^" if low is not None else "v", s=90,
                   label="observed " + ("lower" if low is not None else "upper") + " bound", **kw)
    elif value is not None:
        ax.scatter([x], [value * scale], marker="D", s=60, label="observed", **kw)


def _time_panel(ax: Axes, t: FitTables, row: pd.Series, s: pd.DataFrame, date: str, scale: float) -> None:
    """The monthly mean and band of the model, the baselines and the observation at its month."""
    dates = pd.to_datetime(s["month"] + "-01")
    ax.fill_between(dates, s["low"] * scale, s["high"] * scale, color="tab:blue", alpha=0.25, lw=0,
                    label=f"model {t.band[0]:.0%}-{t.band[1]:.0%} band")
    ax.plot(dates, s["mean"] * scale, color="tab:blue", lw=1.5, label="model mean")
    x = pd.Timestamp(date + "-01")
    for name, marker in BASELINE_MARKERS:
        ax.scatter([x], [row[f"{name}_mean"] * scale], marker=marker, color="dimgray", s=50, zorder=4,
                   label=f"{name} baseline")
    observed_marker(ax, row, x, scale)
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))


def _point_panel(ax: Axes, t: FitTables, row: pd.Series, tid: str, scale: float) -> None:
    """The model's value in each replication, its mean with CI, the baselines and the observation."""
    x = t.values.loc[t.values.predictor == "model", tid].to_numpy(dtype=float)
    jitter = np.linspace(-0.15, 0.15, len(x)) if len(x) > 1 else np.zeros(len(x))
    ax.scatter(jitter, x * scale, s=12, color="tab:blue", alpha=0.6, label="model, each replication")
    ax.errorbar([0.35], [row["mean"] * scale],
                yerr=[[(row["mean"] - row["ci_low"]) * scale], [(row["ci_high"] - row["mean"]) * scale]],
                fmt="o", color="tab:blue", capsize=4, label=f"model mean, {t.confidence:.0%} CI")
    for name, marker in BASELINE_MARKERS:
        ax.scatter([0.6], [row[f"{name}_mean"] * scale], marker=marker, color="dimgray", s=50, label=f"{name} baseline")
    observed_marker(ax, row, 0.85, scale)
    ax.set_xlim(-0.4, 1.1)
    ax.set_xticks([])


def target_panel(ax: Axes, t: FitTables, tid: str) -> None:
    """One target on `ax`: over time where the figure has its monthly series, else by replication."""
    row = t.fit.set_index("target").loc[tid]
    info = t.targets.set_index("target").loc[tid]
    scale, ylabel = (1.0, "share") if row["unit"] == "share" else (1e-3, "thousand persons")
    s = t.series[t.series["target"] == tid]
    if len(s) and isinstance(info["date"], str):
        _time_panel(ax, t, row, s, info["date"], scale)
    else:
        _point_panel(ax, t, row, tid, scale)
    holdout = row["set"] == "holdout"
    ax.set_title(f"{tid}{' (holdout)' if holdout else ''}", fontsize=9, color="crimson" if row["missed"] else "black")
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)


def target_figure(t: FitTables, tid: str) -> Figure:
    """The figure of one target, with a legend and the target's description as title."""
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    target_panel(ax, t, tid)
    ax.legend(fontsize=7, loc="best")
    fig.suptitle(t.targets.set_index("target").loc[tid, "description"], fontsize=8)
    fig.tight_layout()
    return fig


def overview_figure(t: FitTables, title: str, cols: int = 4) -> Figure:
    """A grid of every target's panel with one shared legend."""
    ids = list(t.targets["target"])
    rows = math.ceil(len(ids) / cols)
    fig = Figure(figsize=(4.2 * cols, 3.0 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, tid in zip(axes.flat, ids, strict=False):
        target_panel(ax, t, tid)
    for ax in list(axes.flat)[len(ids):]:
        ax.axis("off")
    handles: dict[str, Any] = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=min(len(handles), 5), fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    return fig


__all__ = ["FitTables", "observed_marker", "overview_figure", "save_png", "target_figure", "target_panel"]
