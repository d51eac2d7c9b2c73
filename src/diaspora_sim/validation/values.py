"""The model's value of every target, run by run: the one evaluator of model values.

Validation (:mod:`.fit`), the naive baselines and calibration all compute target values here,
from a tidy time series (columns date or month, host, category, metric, value, as written by
``outputs.timeseries_table``, and ``run_id`` for several runs; a pyarrow Table or a pandas
DataFrame). A quantity (:class:`~.targets.Quantity`) reads one monthly series per location (the
values of a host list are summed) and aggregates its months; a target's value is that quantity,
or its ratio to a second one. A value is NaN where the outputs do not define it: a month that
was not simulated, a location or cell that does not exist, a zero denominator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .targets import Quantity, Target, metrics_of, quantities

SeriesKey = tuple[str, str, str]
"""(metric, location, category) of a monthly series."""
SeriesByKey = dict[SeriesKey, pd.DataFrame]
"""The monthly series of several runs: a run_id x month table by (metric, location, category)."""

REQUIRED = ("host", "category", "metric", "value")


def tidy_frame(table: Any) -> pd.DataFrame:
    """Tidy rows (pyarrow Table or DataFrame with date, host, category, metric, value and, for
    several runs, run_id) as a DataFrame with string columns and a 'month' column 'YYYY-MM'; the
    rows of a table without run_id belong to one run, "run". ValueError if columns are missing.
    """
    df = table.to_pandas() if hasattr(table, "to_pandas") else table.copy()
    missing = [c for c in REQUIRED if c not in df.columns] + ([] if {"date", "month"} & set(df.columns) else ["date"])
    if missing:
        raise ValueError(f"the time series lacks the columns {sorted(missing)}")
    if "run_id" not in df.columns:
        df["run_id"] = "run"
    for col in ("host", "category", "metric", "run_id"):
        df[col] = df[col].astype(str)
    df["value"] = df["value"].astype(float)
    if "month" not in df.columns:
        df["month"] = pd.to_datetime(df["date"]).dt.strftime("%Y-%m")
    return df


def series_keys(targets: list[Target], baselines: bool = False) -> set[SeriesKey]:
    """The (metric, location, category) series the targets read; with `baselines`, also those the
    naive baselines need (the stock abroad by location, and the totals at ALL of the series read).
    """
    keys = {(q.metric, h, q.category) for t in targets for q in quantities(t) for h in q.hosts()}
    if baselines:
        keys |= {(m, "ALL", c) for m, _, c in keys}
        hosts = {h for _, h, _ in keys}
        keys |= {("stock", h, "ALL") for h in hosts | {"ALL"}}
    return keys


def restrict(df: pd.DataFrame, keys: set[SeriesKey]) -> pd.DataFrame:
    """The rows of the given (metric, location, category) series."""
    wanted = pd.MultiIndex.from_tuples(sorted(keys), names=["metric", "host", "category"])
    idx = pd.MultiIndex.from_frame(df[["metric", "host", "category"]])
    return df[idx.isin(wanted)].reset_index(drop=True)


def index_series(df: pd.DataFrame, metrics: set[str]) -> SeriesByKey:
    """The run_id x month tables of the given metrics, by (metric, location, category)."""
    sub = df[df["metric"].isin(metrics)]
    out = {}
    for key, g in sub.groupby(["metric", "host", "category"], sort=False):
        if g.duplicated(["run_id", "month"]).any():
            raise ValueError(f"the time series has duplicate rows for {key}")
        out[key] = g.pivot(index="run_id", columns="month", values="value")
    return out


def runs_of(df: pd.DataFrame) -> pd.Index:
    """The run ids of a tidy frame, sorted."""
    return pd.Index(sorted(df["run_id"].unique()), name="run_id")


def quantity_series(q: Quantity, series: SeriesByKey, runs: pd.Index, months: list[str] | None = None) -> pd.DataFrame:
    """The monthly values of a quantity (its hosts summed), run_id x month; NaN where undefined."""
    months = months or q.months()
    total = None
    for h in q.hosts():
        s = series.get((q.metric, h, q.category))
        s = pd.DataFrame(np.nan, index=runs, columns=months) if s is None else s.reindex(index=runs, columns=months)
        total = s if total is None else total + s  # NaN propagates: a missing host leaves the sum undefined
    return total  # type: ignore[return-value]


def quantity_values(q: Quantity, series: SeriesByKey, runs: pd.Index) -> pd.Series:
    """The value of a quantity in each run: its months aggregated (NaN if any month is undefined)."""
    v = quantity_series(q, series, runs).to_numpy(dtype=float)
    bad = np.isnan(v).any(axis=1)
    if q.aggregation == "value_at":
        out = v[:, 0]
    elif q.aggregation == "sum":
        out = v.sum(axis=1)
    elif q.aggregation == "change":
        out = v[:, -1] - v[:, 0]
    elif q.aggregation == "max":
        out = v.max(axis=1)
    elif q.aggregation == "min":
        out = v.min(axis=1)
    else:
        out = v.mean(axis=1)
    return pd.Series(np.where(bad, np.nan, out), index=runs)


def target_values(targets: list[Target], table: Any) -> pd.DataFrame:
    """Each mapped target's model value in each run: a DataFrame run_id x target id (targets
    without a mapping are left out; NaN where the outputs do not define the value).
    """
    df = tidy_frame(table)
    mapped = [t for t in targets if t.mapping is not None]
    runs = runs_of(df)
    series = index_series(restrict(df, series_keys(mapped)), metrics_of(mapped))
    cols = {}
    for t in mapped:
        num = quantity_values(t.mapping, series, runs)  # type: ignore[arg-type]
        if t.mapping.denominator is not None:  # type: ignore[union-attr]
            den = quantity_values(t.mapping.denominator, series, runs)  # type: ignore[union-attr]
            num = num / den.where(np.isfinite(den) & (den != 0))
        cols[t.id] = num
    return pd.DataFrame(cols, index=runs)


__all__ = [
    "SeriesByKey",
    "index_series",
    "quantity_series",
    "quantity_values",
    "restrict",
    "runs_of",
    "series_keys",
    "target_values",
    "tidy_frame",
]
