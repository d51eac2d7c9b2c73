"""Naive baselines: what a forecaster without the model would predict, from the model's own runs.

Each baseline is computed from each replication's own time series, so it gets the same inputs as
the model; ``t0`` is the first month with emigrants abroad (2022-03 in the baseline):

- ``constant``: persistence. Every monthly series (metric x location x category) keeps after
  ``t0`` the value it had in ``t0``: stocks stay at their first-month level, flows repeat the
  first month's flow.
- ``proportional``: each host keeps its first-month share. A host's value of a count metric
  (stocks and flows) is the model's total over hosts (location ``ALL``) times the host's share of
  the stock abroad in ``t0``; values at ``ALL`` and ``RU`` and rates are the model's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..model.metrics import RATES
from .values import tidy_frame


def first_months(df: pd.DataFrame) -> pd.Series:
    """t0 of each run: the first month with emigrants abroad (stock at ALL, category ALL, above 0)."""
    stock = df[(df["metric"] == "stock") & (df["host"] == "ALL") & (df["category"] == "ALL") & (df["value"] > 0)]
    t0 = stock.groupby("run_id")["month"].min()
    missing = set(df["run_id"]) - set(t0.index)
    if missing:
        raise ValueError(f"{len(missing)} runs have no emigrants abroad in any month (or lack the stock at ALL)")
    return t0


def constant_baseline(table: Any) -> pd.DataFrame:
    """The tidy rows with every series frozen at its value in t0 from t0 on (persistence)."""
    df = tidy_frame(table)
    t0 = df["run_id"].map(first_months(df))
    keys = ["run_id", "metric", "host", "category"]
    at0 = df.loc[df["month"] == t0, [*keys, "value"]].rename(columns={"value": "v0"})
    merged = df[keys].merge(at0, on=keys, how="left")  # keeps the row order of df
    out = df.copy()
    after = (df["month"] >= t0).to_numpy()
    out.loc[after, "value"] = merged.loc[after, "v0"].to_numpy(dtype=float)  # NaN where there is no t0 value
    return out


def proportional_baseline(table: Any) -> pd.DataFrame:
    """The tidy rows with each host's count metrics replaced by the total over hosts times the
    host's share of the stock abroad in t0 (rates, ALL and RU unchanged).
    """
    df = tidy_frame(table)
    t0 = first_months(df)
    stock0 = df[(df["metric"] == "stock") & (df["category"] == "ALL") & (df["month"] == df["run_id"].map(t0))]
    stock0 = stock0.set_index(["run_id", "host"])["value"]
    totals = stock0.xs("ALL", level="host")
    share = (stock0 / stock0.index.get_level_values("run_id").map(totals).to_numpy()).to_dict()
    hosts = ~df["host"].isin(["ALL", "RU"]) & ~df["metric"].isin(RATES)
    at_all = df[df["host"] == "ALL"].set_index(["run_id", "metric", "category", "month"])["value"].to_dict()
    sub = df[hosts]
    total = [at_all.get(k, math.nan) for k in zip(sub["run_id"], sub["metric"], sub["category"], sub["month"], strict=True)]
    frac = [share.get(k, 0.0) for k in zip(sub["run_id"], sub["host"], strict=True)]
    out = df.copy()
    out.loc[hosts, "value"] = np.asarray(total, float) * np.asarray(frac, float)
    return out


BASELINES: dict[str, Callable[[Any], pd.DataFrame]] = {"constant": constant_baseline, "proportional": proportional_baseline}
"""The naive baselines by name, in report order."""

__all__ = ["BASELINES", "constant_baseline", "first_months", "proportional_baseline"]
