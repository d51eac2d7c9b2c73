"""Figures of one run and comparisons of several runs (matplotlib, written as PNG)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from ..scenario.schema import CATEGORIES  # noqa: E402

TOP_HOSTS = 10
_PNG = {"metadata": {"Software": None}}  # no version stamp: identical runs give identical files


def _save(fig, out: Path) -> Path:
    """Write `fig` to the PNG file `out` (its folder created) and close it."""
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100, **_PNG)
    plt.close(fig)
    return out


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
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharex=True)
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
    paths.append(_save(fig, folder / "rates_by_category.png"))

    df = _frame(table, "stock", category="ALL")
    wide = df.pivot(index="date", columns="host", values="value").fillna(0.0)
    hosts = [h for h in wide.columns if h not in ("ALL", "RU")]
    top = wide[hosts].max().sort_values(ascending=False).index[:TOP_HOSTS].tolist()
    stacked = wide[top].copy()
    rest = [h for h in hosts if h not in top]
    if rest:
        stacked["other hosts"] = wide[rest].sum(axis=1)
    fig, ax = plt.subplots(figsize=(12, 5))
    colors = plt.get_cmap("tab20").colors[: len(stacked.columns)]  # distinct colours for up to 20 bands
    ax.stackplot(stacked.index, stacked.T.values / 1000, labels=stacked.columns, colors=colors, alpha=0.85)
    if "RU" in wide:
        ax.plot(wide.index, wide["RU"] / 1000, color="black", ls="--", lw=2, label="back in Russia")
    ax.set_ylabel("thousand persons")
    ax.set_title(f"Stock of emigrants by host {('- ' + title) if title else ''}")
    ax.legend(fontsize=8, ncol=2, loc="upper left")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    paths.append(_save(fig, folder / "stock_by_host.png"))
    return paths


def compare_runs(run_dirs: list[Path], out: Path) -> Path:
    """Overlay several runs: overall return and integration rates, and end-of-run rates by category."""
    fig, axes = plt.subplots(2, 2, figsize=(13, 8))
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
    return _save(fig, out)


# --------------------------------------------------------------------------------------------
# Replicated runs: means with confidence intervals (used by `compare`)
# --------------------------------------------------------------------------------------------

_RATE_TITLES = {"return_rate": "Return rate", "integration_rate": "Integration rate"}
_RATE_UNIT = "% of those who ever left"


def _arm_colors(labels: list[str]) -> dict[str, object]:
    """The reference (first arm) in black, the others in the tab10 colours, the same in every figure."""
    palette = plt.get_cmap("tab10").colors
    return {label: ("black" if i == 0 else palette[(i - 1) % len(palette)]) for i, label in enumerate(labels)}


def ci_timeseries(series: pd.DataFrame, labels: list[str], out: Path, *, n_label: str) -> Path:
    """Return and integration rates (all categories) over time: the mean of each arm with its CI band.

    `series` has columns arm, metric, date, mean, low, high (category ALL).
    """
    colors = _arm_colors(labels)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), sharex=True)
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
    return _save(fig, out)


def ci_bars_by_category(levels: pd.DataFrame, labels: list[str], out: Path, *, n_label: str) -> Path:
    """Bars of the mean rate by category (one bar per arm) with CI error bars, at one date.

    `levels` has columns arm, metric, category, mean, low, high.
    """
    colors = _arm_colors(labels)
    cats = [*CATEGORIES, "ALL"]
    width = 0.84 / max(len(labels), 1)
    fig, axes = plt.subplots(1, 2, figsize=(14, 5))
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
    return _save(fig, out)


def differences_to_reference(series_diffs: pd.DataFrame, diffs: pd.DataFrame, labels: list[str], out: Path, *,
                             n_label: str, date_label: str) -> Path:
    """Paired differences of each arm to the reference (the first label), in percentage points:
    over time for all categories (top, with CI bands) and by category at one date (bottom, with CI bars).
    """
    colors = _arm_colors(labels)
    others = labels[1:]
    fig, axes = plt.subplots(2, 2, figsize=(14, 9))
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
    return _save(fig, out)
