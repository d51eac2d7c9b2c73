"""Figures of sensitivity indices: Sobol S1/ST bars with intervals, Morris mu*-sigma, and indices over time."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from .common import Figure, save


def index_bars(indices: pd.DataFrame, method: str, out: Path, *, title: str) -> Path:
    """One panel per target (scenario or effect) at the last month: S1 and ST with their bootstrap
    intervals (Sobol), or mu* with its interval and sigma (Morris).
    """
    last = indices[indices["date"] == indices["date"].max()]
    targets = list(dict.fromkeys(last["target"]))
    fig = Figure(figsize=(6.5 * len(targets), 4.2))
    axes = np.atleast_1d(fig.subplots(1, len(targets), squeeze=False)[0])
    pairs = (("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total order ST")) if method == "sobol" else \
        (("mu_star", "mu_star_conf", "mu*"), ("sigma", None, "sigma"))
    for ax, target in zip(axes, targets, strict=True):
        df = last[last["target"] == target]
        x = np.arange(len(df))
        for j, (col, conf, label) in enumerate(pairs):
            err = df[conf].to_numpy() if conf else None
            ax.bar(x + (j - 0.5) * 0.38, df[col], 0.38, yerr=err, capsize=3, label=label)
        ax.set_xticks(x, df["parameter"], rotation=35, ha="right", fontsize=8)
        ax.set_title(f"{target}, {pd.Timestamp(df['date'].iloc[0]):%Y-%m}", fontsize=10)
        ax.axhline(0, color="grey", lw=0.6)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    return save(fig, out)


def indices_over_time(indices: pd.DataFrame, method: str, out: Path, *, title: str) -> Path:
    """The total-order index (Sobol) or mu* (Morris) of every parameter over the months analysed."""
    col = "ST" if method == "sobol" else "mu_star"
    targets = list(dict.fromkeys(indices["target"]))
    fig = Figure(figsize=(6.5 * len(targets), 4.2))
    axes = np.atleast_1d(fig.subplots(1, len(targets), squeeze=False)[0])
    colors = matplotlib.colormaps["tab10"].colors
    for ax, target in zip(axes, targets, strict=True):
        df = indices[indices["target"] == target]
        for i, (param, grp) in enumerate(df.groupby("parameter", sort=False)):
            grp = grp.sort_values("date")
            ax.plot(grp["date"], grp[col], marker="o", color=colors[i % len(colors)], label=param)
        ax.set_title(f"{target}: {col} over time", fontsize=10)
        ax.legend(fontsize=7)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.suptitle(title, fontsize=10)
    return save(fig, out)


__all__ = ["index_bars", "indices_over_time"]
