"""Figures of one run (written into its run folder) and the overlay of several runs (`plot`).

Functions take tables (the tidy time series, as pyarrow tables or the files of run folders)
and save figures; they import nothing of the model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.dates as mdates
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


def _run_groups(run_dirs: list[Path]) -> dict[str, list[Path]]:
    """Run folders grouped by scenario (file, overrides, scale, months): replications of one scenario
    differ only in their seed. Labels are the scenario file names (with the overrides when they differ).
    """
    groups: dict[tuple, list[Path]] = {}
    for run in run_dirs:
        try:
            m = json.loads((Path(run) / "manifest.json").read_text(encoding="utf-8"))
            key = (Path(m["scenario_file"]).stem, tuple(m.get("overrides") or ()), m.get("scale"), m.get("months"))
        except (OSError, ValueError, KeyError):
            key = (Path(run).name, (), None, None)
        groups.setdefault(key, []).append(Path(run))
    labels: dict[str, list[Path]] = {}
    for (stem, overrides, scale, months), runs in groups.items():
        label = stem + (f" [{', '.join(overrides)}]" if overrides else "")
        if label in labels:
            label += f" (scale {scale:g}, {months} months)" if scale else f" ({len(labels)})"
        labels[label] = runs
    return labels


def _group_series(runs: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rates (host ALL) of every run of a group: all categories over time (mean, min, max over the runs,
    and n), and every category at the end (mean over the runs).
    """
    frames = []
    for k, run in enumerate(runs):
        df = pq.read_table(Path(run) / "timeseries.parquet", filters=[("host", "=", "ALL")]).to_pandas()
        frames.append(df[df["metric"].isin(["return_rate", "integration_rate"])].assign(run=k))
    df = pd.concat(frames)
    df["date"] = pd.to_datetime(df["date"])
    total = df[df["category"] == "ALL"].groupby(["metric", "date"])["value"].agg(["mean", "min", "max", "count"])
    end = df[df["date"] == df["date"].max()].groupby(["metric", "category"])["value"].mean()
    return total.reset_index(), end.reset_index()


def compare_runs(run_dirs: list[Path], out: Path) -> Path:
    """Overlay run folders: the return and integration rates over time (dated axis; the range of the
    replications as a band where a scenario has several seeds), their difference to the first scenario
    in percentage points, and the end-of-run rates by category.
    """
    groups = _run_groups(run_dirs)
    data = {label: _group_series(runs) for label, runs in groups.items()}
    ref = next(iter(data))
    fig = Figure(figsize=(15, 12), layout="constrained")
    axes = fig.subplots(3, 2)
    styles = ["-", "--", "-.", ":"]
    for k, (label, (total, end)) in enumerate(data.items()):
        color, ls = ("black", "-") if k == 0 else (f"C{(k - 1) % 10}", styles[(k - 1) // 10 % len(styles)])
        n = len(groups[label])
        name = f"{label} (n = {n})" if n > 1 else label
        for col, metric in enumerate(("return_rate", "integration_rate")):
            t = total[total["metric"] == metric]
            axes[0, col].plot(t["date"], 100 * t["mean"], color=color, ls=ls, lw=2 if k == 0 else 1.4, label=name)
            if n > 1:
                axes[0, col].fill_between(t["date"], 100 * t["min"], 100 * t["max"], color=color, alpha=0.15, lw=0)
            r = data[ref][0]
            r = r[r["metric"] == metric].set_index("date")["mean"]
            diff = 100 * (t.set_index("date")["mean"] - r).dropna()
            if k > 0:
                axes[1, col].plot(diff.index, diff.to_numpy(), color=color, ls=ls, lw=1.4, label=name)
            e = end[end["metric"] == metric].set_index("category")["value"]
            cats = [c for c in CATEGORIES if c in e.index]
            width = 0.8 / len(data)
            axes[2, col].bar([i + k * width for i in range(len(cats))], [100 * e[c] for c in cats], width=width,
                             color=color, label=name)
            axes[2, col].set_xticks([i + 0.4 - width / 2 for i in range(len(cats))], cats, rotation=20, fontsize=8)
    _label_comparison_axes(axes, ref, any(len(r) > 1 for r in groups.values()))
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside right upper", fontsize=8)
    return save(fig, out, tight=False)


def _label_comparison_axes(axes: Any, ref: str, bands: bool) -> None:
    locator = mdates.AutoDateLocator()
    for col, name in enumerate(("Return rate", "Integration rate")):
        axes[0, col].set_title(f"{name}, all categories" + (" (band: range over seeds)" if bands else
                                                            " (one run each: no uncertainty shown)"), fontsize=10)
        axes[1, col].set_title(f"{name}: difference to {ref} (pp)", fontsize=10)
        axes[1, col].axhline(0, color="black", lw=0.8)
        axes[2, col].set_title(f"{name} by category at the end", fontsize=10)
        for row in range(3):
            axes[row, col].set_ylabel("pp" if row == 1 else "% of those who ever left")
            axes[row, col].grid(alpha=0.3)
        for row in (0, 1):
            axes[row, col].xaxis.set_major_locator(locator)
            axes[row, col].xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


__all__ = ["TOP_HOSTS", "compare_runs", "run_figures"]
