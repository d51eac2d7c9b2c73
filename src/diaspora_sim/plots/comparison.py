"""Figures of replicated runs: means with confidence intervals and paired differences (`compare`).

Functions take the tables of :mod:`diaspora_sim.analysis.comparison` (columns arm, metric,
category, date, mean, low, high) and save figures.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd

from ..scenario.schema import CATEGORIES
from .common import Figure, save

_RATE_TITLES = {"return_rate": "Return rate", "integration_rate": "Integration rate"}
_RATE_UNIT = "% of those who ever left"


def _arm_colors(labels: list[str]) -> dict[str, object]:
    """The reference (first arm) in black, the others in the tab10 colours, the same in every figure."""
    palette = matplotlib.colormaps["tab10"].colors
    return {label: ("black" if i == 0 else palette[(i - 1) % len(palette)]) for i, label in enumerate(labels)}


def envelopes(values: pd.DataFrame, labels: list[str], out: Path, *, n_label: str) -> Path:
    """Return and integration rates (all categories) over time: per arm the median run and the band of 5% to
    95% of the runs (columns arm, metric, date, value; one row per run and month).
    """
    colors = _arm_colors(labels)
    fig = Figure(figsize=(13, 4.8))
    axes = fig.subplots(1, 2, sharex=True)
    for ax, metric in zip(axes, ("return_rate", "integration_rate"), strict=True):
        for label in labels:
            df = values[(values["arm"] == label) & (values["metric"] == metric)]
            if not len(df):
                continue
            q = df.groupby("date")["value"].quantile([0.05, 0.5, 0.95]).unstack()
            ax.fill_between(q.index, 100 * q[0.05], 100 * q[0.95], color=colors[label], alpha=0.15, lw=0)
            ax.plot(q.index, 100 * q[0.5], color=colors[label], lw=2 if label == labels[0] else 1.4, label=label)
        ax.set_title(f"{_RATE_TITLES[metric]}: envelope of the runs", fontsize=10)
        ax.set_ylabel(_RATE_UNIT)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(n_label, fontsize=9)
    fig.autofmt_xdate()
    return save(fig, out)


def ci_timeseries(series: pd.DataFrame, labels: list[str], out: Path, *, n_label: str) -> Path:
    """Return and integration rates (all categories) over time: the mean of each arm with its CI band.

    `series` has columns arm, metric, date, mean, low, high (category ALL).
    """
    colors = _arm_colors(labels)
    fig = Figure(figsize=(13, 4.8))
    axes = fig.subplots(1, 2, sharex=True)
    for ax, metric in zip(axes, ("return_rate", "integration_rate"), strict=True):
        for label in labels:
            df = series[(series["arm"] == label) & (series["metric"] == metric)].sort_values("date")
            if not len(df):
                continue
            ax.plot(df["date"], 100 * df["mean"], color=colors[label], lw=2.2 if label == labels[0] else 1.5, label=label)
            ax.fill_between(df["date"], 100 * df["low"], 100 * df["high"], color=colors[label], alpha=0.18, lw=0)
        ax.set_title(f"{_RATE_TITLES[metric]}, all categories")
        ax.set_ylabel(_RATE_UNIT)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="best")
    fig.suptitle(f"Mean over replications with confidence band ({n_label})", fontsize=10)
    fig.autofmt_xdate()
    return save(fig, out)


def ci_bars_by_category(levels: pd.DataFrame, labels: list[str], out: Path, *, n_label: str) -> Path:
    """Bars of the mean rate by category (one bar per arm) with CI error bars, at one date.

    `levels` has columns arm, metric, category, mean, low, high.
    """
    colors = _arm_colors(labels)
    cats = [*CATEGORIES, "ALL"]
    width = 0.84 / max(len(labels), 1)
    fig = Figure(figsize=(14, 5))
    axes = fig.subplots(1, 2)
    for ax, metric in zip(axes, ("return_rate", "integration_rate"), strict=True):
        for k, label in enumerate(labels):
            df = levels[(levels["arm"] == label) & (levels["metric"] == metric)].set_index("category")
            xs, ys, err = [], [], [[], []]
            for i, cat in enumerate(cats):
                if cat in df.index:
                    row = df.loc[cat]
                    xs.append(i - 0.42 + (k + 0.5) * width)
                    ys.append(100 * row["mean"])
                    lo, hi = 100 * (row["mean"] - row["low"]), 100 * (row["high"] - row["mean"])
                    err[0].append(0 if pd.isna(lo) else lo)
                    err[1].append(0 if pd.isna(hi) else hi)
            ax.bar(xs, ys, width=width, color=colors[label], alpha=0.85 if k else 0.6, label=label,
                   yerr=err, capsize=2, error_kw={"lw": 0.9})
        ax.set_xticks(range(len(cats)), [c.replace("_", "\n") for c in cats], fontsize=8)
        ax.set_title(f"{_RATE_TITLES[metric]} by category")
        ax.set_ylabel(_RATE_UNIT)
        ax.grid(alpha=0.3, axis="y")
    axes[1].legend(fontsize=8, loc="best")
    fig.suptitle(n_label, fontsize=10)
    return save(fig, out)


def differences_to_reference(series_diffs: pd.DataFrame, diffs: pd.DataFrame, labels: list[str], out: Path, *,
                             n_label: str, date_label: str) -> Path:
    """Paired differences of each arm to the reference (the first label), in percentage points:
    over time for all categories (top, with CI bands) and by category at one date (bottom, with CI bars).
    """
    colors = _arm_colors(labels)
    others = labels[1:]
    fig = Figure(figsize=(14, 9))
    axes = fig.subplots(2, 2)
    for col, metric in enumerate(("return_rate", "integration_rate")):
        ax = axes[0, col]
        for label in others:
            df = series_diffs[(series_diffs["arm"] == label) & (series_diffs["metric"] == metric)].sort_values("date")
            if not len(df):
                continue
            ax.plot(df["date"], 100 * df["mean"], color=colors[label], lw=1.5, label=label)
            ax.fill_between(df["date"], 100 * df["low"], 100 * df["high"], color=colors[label], alpha=0.2, lw=0)
        ax.axhline(0, color="black", lw=1)
        ax.set_title(f"{_RATE_TITLES[metric]}: difference to {labels[0]}, all categories")
        ax.set_ylabel("percentage points")
        ax.grid(alpha=0.3)
        for tick in ax.get_xticklabels():
            tick.set_rotation(30)
        ax = axes[1, col]
        cats = [*CATEGORIES, "ALL"]
        step = 0.8 / max(len(others), 1)
        for k, label in enumerate(others):
            df = diffs[(diffs["arm"] == label) & (diffs["metric"] == metric)].set_index("category")
            ys, xs, lo, hi = [], [], [], []
            for i, cat in enumerate(cats):
                if cat in df.index:
                    row = df.loc[cat]
                    ys.append(i - 0.4 + (k + 0.5) * step)
                    xs.append(100 * row["mean"])
                    lo.append(0 if pd.isna(row["low"]) else 100 * (row["mean"] - row["low"]))
                    hi.append(0 if pd.isna(row["high"]) else 100 * (row["high"] - row["mean"]))
            ax.errorbar(xs, ys, xerr=[lo, hi], fmt="o", ms=4, color=colors[label], capsize=2, label=label)
        ax.axvline(0, color="black", lw=1)
        ax.set_yticks(range(len(cats)), cats, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("percentage points")
        ax.set_title(f"{_RATE_TITLES[metric]}: difference to {labels[0]} by category, {date_label}")
        ax.grid(alpha=0.3, axis="x")
    axes[0, 0].legend(fontsize=8, loc="best")
    fig.suptitle(f"Scenario minus {labels[0]} ({n_label})", fontsize=10)
    return save(fig, out)


__all__ = [
    "envelopes","ci_bars_by_category", "ci_timeseries", "differences_to_reference"]
