"""Tables the panels plot: means with confidence bands over replications, paired differences.

Replicate r of the baseline and of the changed scenario use the same seed (common random
numbers, as in docs/experiments.md), so the difference is taken replicate by replicate and its
interval is a t interval of the mean paired difference.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

ARMS = ("baseline", "changed")
CONFIDENCE = 0.95


def tidy(results: dict[str, list[Any]]) -> pd.DataFrame:
    """One table of every replicate: arm, seed, date, host, category, metric, value."""
    frames = []
    for arm, runs in results.items():
        for run in runs:
            frames.append(run.timeseries.assign(arm=arm, seed=run.seed))
    if not frames:
        return pd.DataFrame(columns=["arm", "seed", "date", "host", "category", "metric", "value"])
    table = pd.concat(frames, ignore_index=True)
    return table[["arm", "seed", "date", "host", "category", "metric", "value"]]


def _half_width(sd: pd.Series, n: pd.Series) -> pd.Series:
    t = n.map(lambda k: sps.t.ppf(0.5 + CONFIDENCE / 2, k - 1) if k > 1 else math.nan)
    return t * sd / np.sqrt(n)


def band(table: pd.DataFrame, metric: str, host: str = "ALL", category: str = "ALL",
         by: str = "arm") -> pd.DataFrame:
    """Mean over replicates with a 95% t interval, by date and `by` (arm, category or host)."""
    rows = table[(table.metric == metric)]
    if by != "host":
        rows = rows[rows.host == host]
    if by != "category":
        rows = rows[rows.category == category]
    keys = ["date", by] if by == "arm" else ["arm", "date", by]
    g = rows.groupby(keys, observed=True)["value"].agg(["mean", "std", "count"]).reset_index()
    hw = _half_width(g["std"].fillna(0.0), g["count"])
    return g.assign(lo=g["mean"] - hw, hi=g["mean"] + hw)


def difference(table: pd.DataFrame, metric: str, host: str = "ALL", category: str = "ALL") -> pd.DataFrame:
    """Changed minus baseline, paired by seed: date, mean, lo, hi, count."""
    rows = table[(table.metric == metric) & (table.host == host) & (table.category == category)]
    wide = rows.pivot_table(index=["date", "seed"], columns="arm", values="value", observed=True)
    if not set(ARMS) <= set(wide.columns):
        return pd.DataFrame(columns=["date", "mean", "lo", "hi", "count"])
    diff = (wide["changed"] - wide["baseline"]).dropna().rename("d").reset_index()
    g = diff.groupby("date")["d"].agg(["mean", "std", "count"]).reset_index()
    hw = _half_width(g["std"].fillna(0.0), g["count"])
    return g.assign(lo=g["mean"] - hw, hi=g["mean"] + hw)


def headline(summaries: dict[str, list[dict[str, Any]]], categories: tuple[str, ...]) -> pd.DataFrame:
    """The end-of-run table of `run` (ever left, return and integration rates by category),
    averaged over replicates, for each arm.
    """
    rows = []
    for arm, runs in summaries.items():
        if not runs:
            continue
        for cat in [*categories, "ALL"]:
            cells = [r if cat == "ALL" else r["by_category"][cat] for r in runs]
            rows.append({
                "arm": arm, "category": cat,
                "ever_left": _mean([c["ever_left"] for c in cells]),
                "return_rate": _mean([c["return_rate"] for c in cells]),
                "integration_rate": _mean([c["integration_rate"] for c in cells]),
                "replications": len(runs),
            })
    return pd.DataFrame(rows)


def _mean(values: list[float | None]) -> float:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else math.nan


def end_values(summaries: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """What the page publishes for tests and exports: the end-of-run rates per arm and seed."""
    out: dict[str, Any] = {}
    for arm, runs in summaries.items():
        out[arm] = {
            "seeds": [r["seed"] for r in runs],
            "return_rate": [r["return_rate"] for r in runs],
            "integration_rate": [r["integration_rate"] for r in runs],
            "mean_return_rate": _mean([r["return_rate"] for r in runs]),
            "mean_integration_rate": _mean([r["integration_rate"] for r in runs]),
        }
    return out
