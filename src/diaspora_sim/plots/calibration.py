"""Figures of a calibration: the marginal posteriors over the prior ranges."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def posterior_figure(particles: pd.DataFrame, summary: pd.DataFrame, base_values: list[float]) -> Figure:
    """Weighted histograms of the marginal posteriors over the prior ranges, with the median, the
    90 % credible interval and the scenario's own value.

    `particles`: one column per parameter and a `weight` column; `summary`: one row per parameter
    (parameter, prior_low, prior_high, median, q05, q95), in the order of `base_values`.
    """
    names = list(summary["parameter"])
    d = len(names)
    cols = min(3, d)
    rows = math.ceil(d / cols)
    fig = Figure(figsize=(4.3 * cols, 2.9 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    weights = particles["weight"].to_numpy(dtype=float)
    for j, (ax, name) in enumerate(zip(axes.flat, names, strict=False)):
        r = summary.iloc[j]
        lo, hi = float(r["prior_low"]), float(r["prior_high"])
        ax.hist(np.asarray(particles[name], float), bins=20, range=(lo, hi), weights=weights, color="tab:blue", alpha=0.7)
        ax.axvline(r["median"], color="black", lw=1.5, label="median")
        ax.axvspan(r["q05"], r["q95"], color="tab:blue", alpha=0.12, label="90% credible interval")
        ax.axvline(base_values[j], color="crimson", ls="--", lw=1.2, label="scenario's own value")
        ax.set_xlim(lo, hi)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    for ax in list(axes.flat)[d:]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8)
    fig.suptitle("Posterior marginals (weighted particles) over the prior ranges", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    return fig


__all__ = ["posterior_figure"]
