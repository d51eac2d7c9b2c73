"""The fit of replicated runs to the targets: values, intervals, verdicts and ARD, model and baselines.

For every mapped target this module takes the model's value in each replication (the one
evaluator, :func:`.values.target_values`), its mean with a t-interval and its 5-95 % band over
replications, the discrepancy with the observed value and a verdict (:mod:`.scores`); and an
overall score, the averaged relative difference (ARD), for the model and for the naive
baselines (:mod:`.baselines`) built from the same runs, over the in-sample targets, those that
read a host, the out-of-time targets (observed after 2023-09) and the holdouts. Contested claims
are shown beside the model and enter no ARD.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.comparison import mean_ci, paired_difference
from ..core.errors import input_error
from ..experiments.results import Results
from .baselines import BASELINES
from .plan import output_selection
from .scores import DEFAULT_TOLERANCE, ard, discrepancy, signed_difference, verdict
from .targets import Observed, Target, metrics_of, quantities, target_set
from .values import index_series, quantity_series, restrict, runs_of, series_keys, target_values, tidy_frame

PREDICTORS = ("model", *BASELINES)
"""The model and the naive baselines, in report order."""
BAND = (0.05, 0.95)
"""Quantiles of the replication band shown in tables and figures."""
RUN_COLUMNS = ["run_id", "seed", "date", "host", "category", "metric", "value"]


@dataclass
class Validation:
    """The model and the naive baselines against the targets, over replications."""

    scenario: str
    targets: list[Target]
    values: pd.DataFrame  # predictor, run_id, seed, one column per target id
    fit: pd.DataFrame  # one row per target
    scores: pd.DataFrame  # one row per predictor and target set
    series: pd.DataFrame  # target, month, mean, low, high (band) for value_at targets' quantities
    tolerance: float
    confidence: float
    reps: int
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def misses(self) -> pd.DataFrame:
        """The fit rows of the targets the model misses (contested claims are never missed: they are not fitted)."""
        return self.fit[self.fit["missed"] & (self.fit["set"] != "contested")]


def host_level(t: Target) -> bool:
    """The target reads host codes (not only ALL or RU): the baselines differ from the model there."""
    return any(h not in ("ALL", "RU") for q in quantities(t) for h in q.hosts())


def target_sets(targets: list[Target]) -> dict[str, list[Target]]:
    """The sets over which ARD is reported (contested claims are in none; out-of-time only if any)."""
    ins = [t for t in targets if target_set(t) == "in-sample"]
    sets = {
        "in-sample": ins,
        "in-sample, host level": [t for t in ins if host_level(t)],
        "out-of-time": [t for t in targets if target_set(t) == "out-of-time"],
        "holdout": [t for t in targets if target_set(t) == "holdout"],
    }
    return {name: ts for name, ts in sets.items() if ts or name != "out-of-time"}


def observed_text(obs: Observed, unit: str) -> str:
    """The observation as a short text: a value, a range or a bound."""
    if obs.low is not None and obs.high is not None:
        return f"{fmt(obs.low, unit, True)} to {fmt(obs.high, unit, True)}"
    if obs.low is not None:
        return f"{'>' if obs.low_exclusive else '>='} {fmt(obs.low, unit, True)}"
    if obs.high is not None:
        return f"{'<' if obs.high_exclusive else '<='} {fmt(obs.high, unit, True)}"
    return fmt(obs.value, unit, True)


def fmt(x: Any, unit: str, exact: bool = False) -> str:
    """A number for a table: persons with thousands separators (3 significant digits unless
    `exact`), shares to 3 decimals.
    """
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if unit == "share":
        return f"{x:.3f}"
    x = float(x)
    return f"{x if exact else float(f'{x:.3g}'):,.0f}"


def predictor_values(df: pd.DataFrame, targets: list[Target], seeds: dict[str, int] | None) -> pd.DataFrame:
    """The target values of every run for the model and each baseline: predictor, run_id, seed, targets."""
    frames = {"model": df, **{name: fn(df) for name, fn in BASELINES.items()}}
    values = []
    for name, frame in frames.items():
        v = target_values(targets, frame)
        v.insert(0, "predictor", name)
        values.append(v.reset_index())
    vals = pd.concat(values, ignore_index=True)
    vals.insert(2, "seed", vals["run_id"].map(seeds or {}).astype("Int64"))
    return vals


def _column(vals: pd.DataFrame, predictor: str, tid: str) -> np.ndarray:
    return vals.loc[vals.predictor == predictor, tid].to_numpy(dtype=float)


def fit_row(t: Target, vals: pd.DataFrame, tolerance: float, confidence: float) -> dict[str, Any]:
    """One target's row of the fit table: observed, model mean with CI and band, verdict, baselines."""
    x = _column(vals, "model", t.id)
    ci = mean_ci(x, confidence)
    finite = x[np.isfinite(x)]
    lo, hi = (np.quantile(finite, BAND[0]), np.quantile(finite, BAND[1])) if len(finite) else (math.nan, math.nan)
    obs = t.observed
    text, missed = verdict(t, ci["mean"], tolerance)
    in_band = None
    if obs.value is not None and obs.low is None and obs.high is None and len(finite):
        in_band = bool(lo <= obs.value <= hi)
    row = {
        "target": t.id, "set": target_set(t), "unit": t.unit,
        "reliability": t.reliability.level, "observed": observed_text(obs, t.unit),
        "obs_value": obs.value, "obs_low": obs.low, "obs_high": obs.high,
        "mean": ci["mean"], "ci_low": ci["low"], "ci_high": ci["high"], "band_low": lo, "band_high": hi,
        "rel_diff": signed_difference(obs, ci["mean"]), "discrepancy": discrepancy(obs, ci["mean"]),
        "within_range": obs.contains(ci["mean"]) if math.isfinite(ci["mean"]) else None,
        "observed_in_band": in_band, "verdict": text, "missed": missed,
    }
    for name in BASELINES:
        m = float(np.nanmean(_column(vals, name, t.id)))
        row[f"{name}_mean"] = m
        row[f"{name}_discrepancy"] = discrepancy(obs, m)
    return row


def score_rows(set_name: str, ts: list[Target], vals: pd.DataFrame, confidence: float) -> list[dict[str, Any]]:
    """The ARD rows of one target set: per predictor, the ARD of the means, the mean ARD per
    replication with its CI, and the paired difference baseline minus model.
    """
    per_rep = {}
    for p in PREDICTORS:
        sub = vals[vals.predictor == p].set_index("run_id")
        per_rep[p] = pd.Series({r: ard(ts, sub.loc[r].to_dict()) for r in sub.index})
    rows = []
    for p in PREDICTORS:
        means = {t.id: float(np.nanmean(_column(vals, p, t.id))) for t in ts}
        ci = mean_ci(per_rep[p].to_numpy(dtype=float), confidence)
        diff = (paired_difference(per_rep[p].to_numpy(float), per_rep["model"].reindex(per_rep[p].index).to_numpy(float),
                                  confidence) if p != "model" else None)
        rows.append({
            "set": set_name, "targets": len(ts), "predictor": p, "ard": ard(ts, means),
            "ard_rep_mean": ci["mean"], "ard_rep_low": ci["low"], "ard_rep_high": ci["high"],
            "minus_model": diff["mean"] if diff else math.nan,
            "minus_model_low": diff["low"] if diff else math.nan,
            "minus_model_high": diff["high"] if diff else math.nan,
        })
    return rows


def band_series(targets: list[Target], df: pd.DataFrame) -> pd.DataFrame:
    """Mean and band over runs of every month of the quantity of each 'value_at' target without a
    denominator (the curves of the figures): target, month, mean, low, high.
    """
    months = sorted(df["month"].unique())
    runs = runs_of(df)
    series = index_series(df, metrics_of(targets))
    rows = []
    for t in targets:
        m = t.mapping
        if m is None or m.denominator is not None or m.aggregation != "value_at":
            continue
        s = quantity_series(m, series, runs, months)
        for month in months:
            v = s[month].to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            if len(v):
                rows.append({"target": t.id, "month": month, "mean": v.mean(),
                             "low": np.quantile(v, BAND[0]), "high": np.quantile(v, BAND[1])})
    return pd.DataFrame(rows, columns=["target", "month", "mean", "low", "high"])


def fit_runs(table: Any, targets: list[Target], *, seeds: dict[str, int] | None = None,
             tolerance: float = DEFAULT_TOLERANCE, confidence: float = 0.95, scenario: str = "",
             notes: list[str] | None = None) -> Validation:
    """Compare the runs in `table` (tidy rows of several runs, with run_id) with the targets."""
    df = tidy_frame(table)
    if not len(df):
        raise input_error("no runs to evaluate", what="validation")
    df = restrict(df, series_keys(targets, baselines=True))
    vals = predictor_values(df, targets, seeds)
    fit = pd.DataFrame([fit_row(t, vals, tolerance, confidence) for t in targets])
    scores = pd.DataFrame([row for set_name, ts in target_sets(targets).items()
                           for row in score_rows(set_name, ts, vals, confidence)])
    return Validation(scenario, targets, vals, fit, scores, band_series(targets, df), tolerance, confidence,
                      df["run_id"].nunique(), list(notes or []))


def fit_results(folder: str | Path, targets: list[Target], **kwargs: Any) -> Validation:
    """Compare the completed runs of a results folder (written for :func:`.plan.plan_validation`)
    with the targets; `kwargs` as for :func:`fit_runs`.
    """
    res = Results.open(folder)
    table = res.timeseries(metrics=output_selection(targets)["metrics"], columns=RUN_COLUMNS)
    df = tidy_frame(table)
    seeds = df.drop_duplicates("run_id").set_index("run_id")["seed"].astype(int).to_dict()
    return fit_runs(df, targets, seeds=seeds, **kwargs)


__all__ = ["BAND", "PREDICTORS", "Validation", "band_series", "fit_results", "fit_row", "fit_runs", "fmt", "host_level",
           "observed_text", "predictor_values", "score_rows", "target_sets"]
