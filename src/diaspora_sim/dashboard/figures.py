"""The dashboard's figures (matplotlib, no pyplot: figures are built in server threads).

Each function takes the tidy table of :func:`stats.tidy` and returns a Figure; the panels show
them and offer them as PNG downloads.
"""

from __future__ import annotations

import csv
import io
from importlib import resources

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import stats

RATES = {"return_rate": "Return rate", "integration_rate": "Integration rate"}
COLORS = {"baseline": "#7f7f7f", "changed": "#d62728"}
LABELS = {"baseline": "baseline", "changed": "with levers"}


def _fig(ncols: int = 2, height: float = 3.4) -> tuple[Figure, list]:
    fig = Figure(figsize=(4.6 * ncols, height), layout="constrained")
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, axes


def rates_figure(table: pd.DataFrame) -> Figure:
    """Return and integration rates over time, both arms, mean and 95% band over replicates."""
    fig, axes = _fig()
    for ax, (metric, title) in zip(axes, RATES.items(), strict=True):
        b = stats.band(table, metric)
        for arm in stats.ARMS:
            rows = b[b.arm == arm]
            if rows.empty:
                continue
            ax.plot(rows.date, rows["mean"], color=COLORS[arm], label=LABELS[arm])
            ax.fill_between(rows.date, rows.lo, rows.hi, color=COLORS[arm], alpha=0.2, linewidth=0)
        ax.set_title(f"{title} (share of ever left)")
        ax.yaxis.set_major_formatter("{x:.0%}")
        ax.legend(loc="best", fontsize=8)
    return fig


def difference_figure(table: pd.DataFrame) -> Figure:
    """Levers minus baseline, paired by seed, with the 95% interval of the mean difference."""
    fig, axes = _fig()
    for ax, (metric, title) in zip(axes, RATES.items(), strict=True):
        d = stats.difference(table, metric)
        ax.axhline(0, color="black", linewidth=0.8)
        if not d.empty:
            ax.plot(d.date, d["mean"], color=COLORS["changed"])
            ax.fill_between(d.date, d.lo.astype(float), d.hi.astype(float), color=COLORS["changed"], alpha=0.2,
                            linewidth=0)
        ax.set_title(f"{title}: levers - baseline (pp)")
        ax.yaxis.set_major_formatter(lambda v, _: f"{v * 100:+.1f}")
    return fig


def category_figure(table: pd.DataFrame) -> Figure:
    """Rates by category over time: with levers (solid) and baseline (dashed)."""
    fig, axes = _fig(height=3.8)
    for ax, (metric, title) in zip(axes, RATES.items(), strict=True):
        b = stats.band(table, metric, by="category")
        for i, cat in enumerate(c for c in b.category.unique() if c != "ALL"):
            color = f"C{i}"
            for arm, style in (("changed", "-"), ("baseline", "--")):
                rows = b[(b.arm == arm) & (b.category == cat)]
                ax.plot(rows.date, rows["mean"], style, color=color, label=cat if arm == "changed" else None)
        ax.set_title(f"{title} by category (dashed: baseline)")
        ax.yaxis.set_major_formatter("{x:.0%}")
    axes[0].legend(fontsize=7, loc="best")
    return fig


def stock_figure(table: pd.DataFrame, top: int = 8) -> Figure:
    """Persons abroad by host over time (the `top` largest at the end; dashed: baseline)."""
    fig, (ax,) = _fig(ncols=1, height=3.8)
    fig.set_size_inches(9.2, 3.8)
    b = stats.band(table, "stock", by="host")
    b = b[~b.host.isin(["ALL", "RU"])]
    if b.empty:
        return fig
    end = b[(b.date == b.date.max()) & (b.arm == "changed")].sort_values("mean", ascending=False)
    for i, host in enumerate(end.host.head(top)):
        for arm, style in (("changed", "-"), ("baseline", "--")):
            rows = b[(b.arm == arm) & (b.host == host)]
            ax.plot(rows.date, rows["mean"] / 1000, style, color=f"C{i}", label=host if arm == "changed" else None)
    ax.set_title("Persons abroad by host, thousands (dashed: baseline)")
    ax.legend(fontsize=8, ncols=2, loc="upper left")
    return fig


def centroids() -> dict[str, tuple[str, float, float]]:
    """Shipped approximate country positions: code -> (name, lat, lon)."""
    text = resources.files(__package__).joinpath("data/centroids.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {r["code"]: (r["name"], float(r["lat"]), float(r["lon"])) for r in rows}


def map_figure(table: pd.DataFrame) -> Figure:
    """Bubble map of the end-of-run stock by host (area: persons with levers; colour: change
    against the baseline); Russia marked. A plain lon/lat plane: no tiles, nothing fetched.
    """
    fig, (ax,) = _fig(ncols=1, height=4.6)
    fig.set_size_inches(9.2, 4.6)
    pos = centroids()
    b = stats.band(table, "stock", by="host")
    b = b[(b.date == b.date.max()) & ~b.host.isin(["ALL", "RU"])] if not b.empty else b
    wide = b.pivot_table(index="host", columns="arm", values="mean") if not b.empty else pd.DataFrame()
    name, lat, lon = pos["RU"]
    ax.plot(lon, lat, marker="*", color="black", markersize=14)
    ax.annotate("RU", (lon, lat), xytext=(4, 4), textcoords="offset points", fontsize=8)
    if "changed" in wide:
        wide = wide[wide.index.isin(list(pos))]
        lons = np.array([pos[h][2] for h in wide.index])
        lats = np.array([pos[h][1] for h in wide.index])
        changed = wide["changed"].to_numpy()
        delta = changed - wide.get("baseline", pd.Series(changed, index=wide.index)).to_numpy()
        limit = max(float(np.nanmax(np.abs(delta))), 1.0)
        sc = ax.scatter(lons, lats, s=np.sqrt(np.maximum(changed, 0)) * 2.0, c=delta, cmap="coolwarm",
                        vmin=-limit, vmax=limit, alpha=0.75, edgecolors="black", linewidths=0.5)
        for h, x, y, v in zip(wide.index, lons, lats, changed, strict=True):
            ax.annotate(f"{h} {v / 1000:.0f}k", (x, y), xytext=(5, -3), textcoords="offset points", fontsize=7)
        fig.colorbar(sc, ax=ax, label="levers - baseline, persons")
    ax.set_xlim(-110, 115)
    ax.set_ylim(10, 72)
    ax.set_aspect(1.3)
    ax.grid(True, linewidth=0.3)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title("Persons abroad at the end of the run (area), change against the baseline (colour)")
    return fig


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()
