"""Figures of scenario discovery: PRIM's peeling trajectory and the chosen box's limits."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .common import Figure, save


def peeling_trajectory(traj: pd.DataFrame, chosen: int, out: Path, *, title: str) -> Path:
    """Coverage against density of every box of the peeling, coloured by the number of restricted parameters."""
    fig = Figure(figsize=(6.5, 5))
    ax = fig.subplots()
    sc = ax.scatter(traj["coverage"], traj["density"], c=traj["restricted"], cmap="viridis", s=22)
    row = traj.loc[chosen]
    ax.scatter([row["coverage"]], [row["density"]], s=160, facecolors="none", edgecolors="red", lw=1.8,
               label=f"chosen box (step {chosen})")
    fig.colorbar(sc, ax=ax, label="restricted parameters")
    ax.set_xlabel("coverage (share of the cases of interest in the box)")
    ax.set_ylabel("density (share of the box's cases that are of interest)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(title, fontsize=10)
    return save(fig, out)


def box_limits(box: pd.DataFrame, out: Path, *, title: str) -> Path:
    """The chosen box on each parameter's sampled range (normalised to 0-1), with its quasi-p-values."""
    fig = Figure(figsize=(7, 0.6 * len(box) + 1.6))
    ax = fig.subplots()
    for i, r in enumerate(box.itertuples()):
        span = (r.sampled_high - r.sampled_low) or 1.0
        lo, hi = (r.low - r.sampled_low) / span, (r.high - r.sampled_low) / span
        ax.plot([0, 1], [i, i], color="lightgrey", lw=6, solid_capstyle="butt")
        ax.plot([lo, hi], [i, i], color="tab:blue" if r.restricted else "grey", lw=6, solid_capstyle="butt")
        ax.text(1.03, i, f"[{r.low:.3g}, {r.high:.3g}]", va="center", fontsize=8)
        qps = [f"{q:.2g}" for q in (r.quasi_p_low, r.quasi_p_high) if q == q]
        if qps:
            ax.text(-0.03, i, "qp " + ", ".join(qps), va="center", ha="right", fontsize=7)
    ax.set_yticks(range(len(box)), box["parameter"])
    ax.set_xlim(-0.35, 1.35)
    ax.set_xticks([0, 1], ["sampled low", "sampled high"])
    ax.set_title(title, fontsize=10)
    return save(fig, out)


__all__ = ["box_limits", "peeling_trajectory"]
