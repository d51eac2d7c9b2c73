"""Figures of one run (written into its run folder) and the overlay of several runs (`plot`).

Functions take tables (the tidy time series, as pyarrow tables or the files of run folders)
and save figures; they import nothing of the model.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..scenario.schema import CATEGORIES
from .common import Figure, save

TOP_HOSTS = 10


def _frame(table: pa.Table, metric: str, host: str | None = None, category: str | None = None) -> pd.DataFrame:
    df = table.to_pandas()
    df = df[df["metric"] == metric]
    if host is not None:
        df = df[df["host"] == host]
    if category is not None:
        df = df[df["category"] == category]
    return df


def run_figures(table: pa.Table, folder: Path, title: str = "") -> list[Path]:
    """Return and integration rates over time by category; stock by host over time."""
    paths = []
    fig = Figure(figsize=(12, 4.5))
    axes = fig.subplots(1, 2, sharex=True)
    for ax, metric, label in (
        (axes[0], "return_rate", "Return rate (in Russia / ever left)"),
        (axes[1], "integration_rate", "Integration rate (integrated abroad / ever left)"),
    ):
        df = _frame(table, metric, host="ALL")
        wide = df.pivot(index="date", columns="category", values="value")
        for cat in [*CATEGORIES, "ALL"]:
            if cat in wide:
                ax.plot(wide.index, wide[cat], label=cat, lw=2.5 if cat == "ALL" else 1.2,
                        color="black" if cat == "ALL" else None)
        ax.set_title(label)
        ax.set_ylabel("share of those who ever left")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8, loc="upper left")
    fig.suptitle(title)
    fig.autofmt_xdate()
    paths.append(save(fig, folder / "rates_by_category.png"))

    df = _frame(table, "stock", category="ALL")
    wide = df.pivot(index="date", columns="host", values="value").fillna(0.0)
    hosts = [h for h in wide.columns if h not in ("ALL", "RU")]
    top = wide[hosts].max().sort_values(ascending=False).index[:TOP_HOSTS].tolist()
    stacked = wide[top].copy()
    rest = [h for h in hosts if h not in top]
    if rest:
        stacked["other hosts"] = wide[rest].sum(axis=1)
    fig = Figure(figsize=(12, 5))
    ax = fig.subplots()
    colors = matplotlib.colormaps["tab20"].colors[: len(stacked.columns)]  # distinct colours for up to 20 bands
    ax.stackplot(stacked.index, stacked.T.values / 1000, labels=stacked.columns, colors=colors, alpha=0.85)
    if "RU" in wide:
        ax.plot(wide.index, wide["RU"] / 1000, color="black", ls="--", lw=2, label="back in Russia")
    ax.set_ylabel("thousand persons")
    ax.set_title(f"Stock of emigrants by host {('- ' + title) if title else ''}")
    ax.legend(fontsize=8, ncol=2, loc="upper left")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    paths.append(save(fig, folder / "stock_by_host.png"))
    return paths


def compare_runs(run_dirs: list[Path], out: Path) -> Path:
    """Overlay several runs: overall return and integration rates, and end-of-run rates by category."""
    fig = Figure(figsize=(13, 8))
    axes = fig.subplots(2, 2)
    for k, run in enumerate(run_dirs):
        table = pq.read_table(Path(run) / "timeseries.parquet")
        label = Path(run).name
        color = f"C{k % 10}"
        for col, metric in enumerate(("return_rate", "integration_rate")):
            df = _frame(table, metric, host="ALL")
            total = df[df["category"] == "ALL"]
            axes[0, col].plot(total["date"], total["value"], label=label, color=color)
            last = df[df["date"] == df["date"].max()].set_index("category")["value"]
            cats = [c for c in CATEGORIES if c in last.index]
            width = 0.8 / len(run_dirs)
            xs = [i + k * width for i in range(len(cats))]
            axes[1, col].bar(xs, [last[c] for c in cats], width=width, color=color, label=label)
            axes[1, col].set_xticks([i + 0.4 - width / 2 for i in range(len(cats))], cats, rotation=20, fontsize=8)
    for col, name in enumerate(("Return rate", "Integration rate")):
        axes[0, col].set_title(f"{name}, all categories (one run each, no uncertainty shown)")
        axes[1, col].set_title(f"{name} by category at the end of each run")
        for row in (0, 1):
            axes[row, col].set_ylim(0, 1)
            axes[row, col].set_ylabel("share of those who ever left")
            axes[row, col].grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.autofmt_xdate()
    return save(fig, out)


__all__ = ["TOP_HOSTS", "compare_runs", "run_figures"]
