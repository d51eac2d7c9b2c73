"""Validation: replicated runs of a scenario compared with the observed patterns of data/targets.yaml.

A scenario runs `reps` times through the experiments runner (`experiment.make_plan` and
`sweep.run_sweep`: replicate r uses seed ``seed + r``; only the outputs the targets read are
kept). For every mapped target this module computes the model's value in each replication
(:func:`target_values`, the same quantity as :func:`diaspora_sim.targets.model_values`), its
mean with a t-interval and its 5-95 % band over replications, the discrepancy with the
observed value and a verdict; and an overall score, the averaged relative difference (ARD), for
the model and for two naive baselines built from the same runs.

Discrepancy of a value ``x`` with an observation (docs/validation.md, section 2):

- a published range or bound (``low`` and/or ``high``): 0 inside; outside, the distance to the
  violated bound ``b`` relative to it, ``|x - b| / |b|``; a violated bound at 0 (``> 0``, a
  qualitative fact) counts 1;
- a point value ``v``: ``|x - v| / |v|``.

A range takes precedence over a point value given with it. ARD = the mean of the target
discrepancies over a set of targets. Flee (Suleimenova, Bell and Groen 2017, Sci. Rep. 7:13377)
averages, over days, the sum over camps of ``|simulated - observed|`` divided by the observed
total; our targets are at different dates and in different units (persons, shares), so each
is made relative to its own observed value before averaging. With ``kind="log_ratio"`` the
discrepancy is ``|ln(x / ref)|`` instead (``x`` floored at 1 % of ``ref``; a violated bound at
0 counts 1), the distance used by calibration.

Naive baselines (computed from each replication's own time series, so they get the same
inputs as the model; ``t0`` is the first month with emigrants abroad, 2022-03 in the baseline):

- ``constant``: persistence. Every monthly series (metric x location x category) keeps after
  ``t0`` the value it had in ``t0``: stocks stay at their first-month level, flows repeat the
  first month's flow.
- ``proportional``: each host keeps its first-month share. A host's value of a count metric
  (stocks and flows) is the model's total over hosts (location ``ALL``) times the host's share of
  the stock abroad in ``t0``; values at ``ALL`` and ``RU`` and rates are the model's.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..analysis.comparison import mean_ci, paired_difference
from ..core.files import write_folder
from ..model.metrics import RATES
from ..scenario.schema import month_name, month_number
from ..validation.targets import DEFAULT_PATH, Observed, Quantity, Target, TargetsFile, check_targets

PREDICTORS = ("model", "constant", "proportional")
"""The model and the naive baselines, in report order."""
DEFAULT_TOLERANCE = 0.25
"""A point target is matched when the model mean is within this relative difference of it."""
BAND = (0.05, 0.95)
"""Quantiles of the replication band shown in tables and figures."""
LOG_FLOOR = 0.01
Kind = Literal["relative", "log_ratio"]


class ValidationError(Exception):
    """A validation cannot be made (e.g. no mapped target fits the scenario)."""


# --------------------------------------------------------------------------------------------
# Discrepancies and ARD
# --------------------------------------------------------------------------------------------


def reference(obs: Observed, x: float) -> tuple[float | None, bool]:
    """The observed number `x` is compared with, and whether `x` satisfies the observation.

    For a range or bound: the violated bound (None when `x` is inside). For a point: the value.
    """
    if obs.low is not None or obs.high is not None:
        if obs.contains(x):
            return None, True
        low_violated = obs.low is not None and (x <= obs.low if obs.low_exclusive else x < obs.low)
        return (obs.low if low_violated else obs.high), False
    return obs.value, False


def discrepancy(obs: Observed, x: float, kind: Kind = "relative") -> float:
    """Discrepancy of the value `x` with an observation (0 is a perfect fit); NaN if `x` is NaN
    or nothing numeric was observed. Definitions in the module docstring.
    """
    if x is None or not math.isfinite(x):
        return math.nan
    ref, inside = reference(obs, x)
    if inside:
        return 0.0
    if ref is None:
        return math.nan
    if ref == 0:
        bounded = obs.low is not None or obs.high is not None
        return 1.0 if bounded or x != 0 else 0.0  # a violated bound at 0 (a qualitative fact) counts 1
    if kind == "relative":
        return abs(x - ref) / abs(ref)
    if kind == "log_ratio":
        if ref < 0:
            raise ValueError("a log ratio needs a positive observed value")
        return abs(math.log(max(x, LOG_FLOOR * ref) / ref))
    raise ValueError(f"unknown discrepancy kind {kind!r}")


def signed_difference(obs: Observed, x: float) -> float:
    """Relative difference with its sign: ``(x - ref) / |ref|`` (0 inside a range; NaN if undefined)."""
    if x is None or not math.isfinite(x):
        return math.nan
    ref, inside = reference(obs, x)
    if inside:
        return 0.0
    if ref is None:
        return math.nan
    if ref == 0:
        if obs.low is not None or obs.high is not None:  # a violated bound at 0
            return -1.0 if obs.low == 0 and x <= 0 else 1.0
        return 0.0 if x == 0 else math.copysign(1.0, x)
    return (x - ref) / abs(ref)


def ard(targets: list[Target], values: dict[str, float], kind: Kind = "relative") -> float:
    """Averaged relative difference: the mean discrepancy of `values` (by target id) over `targets`.

    NaN if any value is missing or undefined (the caller chooses the targets all predictors define).
    """
    if not targets:
        return math.nan
    d = [discrepancy(t.observed, values.get(t.id, math.nan), kind) for t in targets]
    return float(np.mean(d)) if all(math.isfinite(v) for v in d) else math.nan


def verdict(t: Target, mean: float, tolerance: float = DEFAULT_TOLERANCE) -> tuple[str, bool]:
    """A short verdict on the model mean and whether the target is missed."""
    if not math.isfinite(mean):
        return "not computed", True
    obs = t.observed
    if obs.low is not None or obs.high is not None:
        if obs.contains(mean):
            return "in range", False
        ref, _ = reference(obs, mean)
        return ("above" if mean > (ref or 0) else "below") + " the " + ("range" if obs.low is not None and
                                                                      obs.high is not None else "bound"), True
    d = signed_difference(obs, mean)
    if abs(d) <= tolerance:
        return f"match (within {tolerance:.0%})", False
    return f"miss ({'over' if d > 0 else 'under'} by {abs(d):.0%})", True


# --------------------------------------------------------------------------------------------
# Target values from a tidy table of many runs
# --------------------------------------------------------------------------------------------


def tidy_frame(table: Any) -> pd.DataFrame:
    """Tidy rows (pyarrow Table or DataFrame with date, host, category, metric, value and, for
    several runs, run_id) as a DataFrame with string columns and a 'month' column 'YYYY-MM'.
    """
    df = table.to_pandas() if hasattr(table, "to_pandas") else table.copy()
    if "run_id" not in df.columns:
        df["run_id"] = "run"
    for col in ("host", "category", "metric", "run_id"):
        df[col] = df[col].astype(str)
    df["value"] = df["value"].astype(float)
    if "month" not in df.columns:
        df["month"] = pd.to_datetime(df["date"]).dt.strftime("%Y-%m")
    return df


def series_keys(targets: list[Target], baselines: bool = False) -> set[tuple[str, str, str]]:
    """The (metric, location, category) series the targets read; with `baselines`, also those the
    naive baselines need (the stock abroad by location, and the totals at ALL of the series read).
    """
    keys = {(q.metric, h, q.category) for t in targets for q in _parts(t) for h in q.hosts()}
    if baselines:
        keys |= {(m, "ALL", c) for m, _, c in keys}
        hosts = {h for _, h, _ in keys}
        keys |= {("stock", h, "ALL") for h in hosts | {"ALL"}}
    return keys


def restrict(df: pd.DataFrame, keys: set[tuple[str, str, str]]) -> pd.DataFrame:
    """The rows of the given (metric, location, category) series."""
    wanted = pd.MultiIndex.from_tuples(sorted(keys), names=["metric", "host", "category"])
    idx = pd.MultiIndex.from_frame(df[["metric", "host", "category"]])
    return df[idx.isin(wanted)].reset_index(drop=True)


def _series(df: pd.DataFrame, metrics: set[str]) -> dict[tuple[str, str, str], pd.DataFrame]:
    """run_id x month tables by (metric, host, category)."""
    sub = df[df["metric"].isin(metrics)]
    out = {}
    for key, g in sub.groupby(["metric", "host", "category"], sort=False):
        if g.duplicated(["run_id", "month"]).any():
            raise ValueError(f"the time series has duplicate rows for {key}")
        out[key] = g.pivot(index="run_id", columns="month", values="value")
    return out


def quantity_series(q: Quantity, series: dict, runs: pd.Index, months: list[str] | None = None) -> pd.DataFrame:
    """The monthly values of a quantity (its hosts summed), run_id x month; NaN where undefined."""
    months = months or q.months()
    total = None
    for h in q.hosts():
        s = series.get((q.metric, h, q.category))
        s = pd.DataFrame(np.nan, index=runs, columns=months) if s is None else s.reindex(index=runs, columns=months)
        total = s if total is None else total + s  # NaN propagates: a missing host leaves the sum undefined
    return total  # type: ignore[return-value]


def _quantity(q: Quantity, series: dict, runs: pd.Index) -> pd.Series:
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
    out = np.where(bad, np.nan, out)
    return pd.Series(out, index=runs)


def metrics_of(targets: list[Target]) -> set[str]:
    """The metrics the targets' mappings read."""
    names = set()
    for t in targets:
        for q in _parts(t):
            names.add(q.metric)
    return names


def _parts(t: Target) -> list[Quantity]:
    m = t.mapping
    return [] if m is None else [m] + ([m.denominator] if m.denominator is not None else [])


def target_values(targets: list[Target], table: Any) -> pd.DataFrame:
    """Each mapped target's model value in each run: a DataFrame run_id x target id.

    The same numbers as :func:`diaspora_sim.targets.model_values` run by run (NaN where the
    outputs do not define the value), computed for all runs at once.
    """
    df = tidy_frame(table)
    mapped = [t for t in targets if t.mapping is not None]
    runs = pd.Index(sorted(df["run_id"].unique()), name="run_id")
    series = _series(restrict(df, series_keys(mapped)), metrics_of(mapped))
    cols = {}
    for t in mapped:
        num = _quantity(t.mapping, series, runs)  # type: ignore[arg-type]
        if t.mapping.denominator is not None:  # type: ignore[union-attr]
            den = _quantity(t.mapping.denominator, series, runs)  # type: ignore[union-attr]
            num = num / den.where(np.isfinite(den) & (den != 0))
        cols[t.id] = num
    return pd.DataFrame(cols, index=runs)


# --------------------------------------------------------------------------------------------
# Naive baselines
# --------------------------------------------------------------------------------------------


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


BASELINES = {"constant": constant_baseline, "proportional": proportional_baseline}


# --------------------------------------------------------------------------------------------
# Which targets, and the runs they need
# --------------------------------------------------------------------------------------------


def usable_targets(tf: TargetsFile, scenario: Any, months: int) -> tuple[list[Target], list[str]]:
    """Mapped targets whose mapping fits the scenario and the simulated months; and notes on the others."""
    problems = check_targets(tf, scenario)
    bad = {p.split(":")[0] for p in problems}
    notes = [f"left out: {p}" for p in problems]
    last = month_number(scenario.run.start) + months - 1
    keep = []
    for t in tf.mapped():
        if t.id in bad:
            continue
        late = [m for q in _parts(t) for m in q.months() if month_number(m) > last]
        if late:
            notes.append(f"left out: {t.id}: month {max(late)} is after the last simulated month {month_name(last)}")
            continue
        keep.append(t)
    return keep, notes


def last_month(targets: list[Target]) -> str:
    """The last month any of the targets reads."""
    return month_name(max(month_number(m) for t in targets for q in _parts(t) for m in q.months()))


def output_selection(targets: list[Target]) -> dict[str, list[str]]:
    """Outputs a run must keep for the targets and the naive baselines (experiment `outputs`)."""
    metrics = metrics_of(targets) | {"stock"}
    hosts = {"ALL"}
    categories = {"ALL"}
    for t in targets:
        for q in _parts(t):
            hosts.update(q.hosts())
            categories.add(q.category)
    return {"metrics": sorted(metrics), "hosts": sorted(hosts), "categories": sorted(categories)}


def make_validation_plan(scenario_file: str | Path, targets: list[Target], *, reps: int, seed: int,
                         scale: float | None, months: int, name: str = "validate") -> Any:
    """The experiments-runner plan of the replicated runs (experiment.make_plan)."""
    from ..experiments.plan import Experiment, make_plan

    exp = Experiment(
        title=f"Validation of {Path(scenario_file).name} against data/targets.yaml",
        description="Replications of one scenario; outputs limited to what the targets read.",
        scenarios=[{"file": str(Path(scenario_file).resolve())}],
        replications=reps, seed=seed, scale=scale, months=months,
        outputs=output_selection(targets),
    )
    return make_plan(exp, name=name)


# --------------------------------------------------------------------------------------------
# Evaluating replicated runs
# --------------------------------------------------------------------------------------------


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
        """The fit rows of the targets the model misses."""
        return self.fit[self.fit["missed"]]


def host_level(t: Target) -> bool:
    """The target reads host codes (not only ALL or RU): the baselines differ from the model there."""
    return any(h not in ("ALL", "RU") for q in _parts(t) for h in q.hosts())


def target_sets(targets: list[Target]) -> dict[str, list[Target]]:
    """The sets over which ARD is reported."""
    ins = [t for t in targets if not t.holdout]
    return {
        "in-sample": ins,
        "in-sample, host level": [t for t in ins if host_level(t)],
        "holdout": [t for t in targets if t.holdout],
    }


def _band_series(targets: list[Target], df: pd.DataFrame, series: dict, runs: pd.Index) -> pd.DataFrame:
    months = sorted(df["month"].unique())
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


def evaluate_runs(table: Any, targets: list[Target], *, seeds: dict[str, int] | None = None,
                  tolerance: float = DEFAULT_TOLERANCE, confidence: float = 0.95, scenario: str = "",
                  notes: list[str] | None = None) -> Validation:
    """Compare the runs in `table` (tidy rows of several runs, with run_id) with the targets."""
    df = tidy_frame(table)
    if not len(df):
        raise ValidationError("no runs to evaluate")
    df = restrict(df, series_keys(targets, baselines=True))
    frames = {"model": df, **{name: fn(df) for name, fn in BASELINES.items()}}
    values = []
    for name, frame in frames.items():
        v = target_values(targets, frame)
        v.insert(0, "predictor", name)
        values.append(v.reset_index())
    vals = pd.concat(values, ignore_index=True)
    vals.insert(2, "seed", vals["run_id"].map(seeds or {}).astype("Int64"))
    n = df["run_id"].nunique()

    fit_rows = []
    for t in targets:
        x = vals.loc[vals.predictor == "model", t.id].to_numpy(dtype=float)
        ci = mean_ci(x, confidence)
        finite = x[np.isfinite(x)]
        lo, hi = (np.quantile(finite, BAND[0]), np.quantile(finite, BAND[1])) if len(finite) else (math.nan, math.nan)
        obs = t.observed
        text, missed = verdict(t, ci["mean"], tolerance)
        in_band = None
        if obs.value is not None and obs.low is None and obs.high is None and len(finite):
            in_band = bool(lo <= obs.value <= hi)
        row = {
            "target": t.id, "set": "holdout" if t.holdout else "in-sample", "unit": t.unit,
            "reliability": t.reliability.level, "observed": observed_text(obs, t.unit),
            "obs_value": obs.value, "obs_low": obs.low, "obs_high": obs.high,
            "mean": ci["mean"], "ci_low": ci["low"], "ci_high": ci["high"], "band_low": lo, "band_high": hi,
            "rel_diff": signed_difference(obs, ci["mean"]), "discrepancy": discrepancy(obs, ci["mean"]),
            "within_range": obs.contains(ci["mean"]) if math.isfinite(ci["mean"]) else None,
            "observed_in_band": in_band, "verdict": text, "missed": missed,
        }
        for name in BASELINES:
            m = float(np.nanmean(vals.loc[vals.predictor == name, t.id].to_numpy(dtype=float)))
            row[f"{name}_mean"] = m
            row[f"{name}_discrepancy"] = discrepancy(obs, m)
        fit_rows.append(row)
    fit = pd.DataFrame(fit_rows)

    score_rows = []
    for set_name, ts in target_sets(targets).items():
        means = {p: {t.id: float(np.nanmean(vals.loc[vals.predictor == p, t.id].to_numpy(dtype=float))) for t in ts}
                 for p in PREDICTORS}
        per_rep = {}
        for p in PREDICTORS:
            sub = vals[vals.predictor == p].set_index("run_id")
            per_rep[p] = pd.Series({r: ard(ts, sub.loc[r].to_dict()) for r in sub.index})
        for p in PREDICTORS:
            ci = mean_ci(per_rep[p].to_numpy(dtype=float), confidence)
            diff = (paired_difference(per_rep[p].to_numpy(float), per_rep["model"].reindex(per_rep[p].index).to_numpy(float),
                                      confidence) if p != "model" else None)
            score_rows.append({
                "set": set_name, "targets": len(ts), "predictor": p, "ard": ard(ts, means[p]),
                "ard_rep_mean": ci["mean"], "ard_rep_low": ci["low"], "ard_rep_high": ci["high"],
                "minus_model": diff["mean"] if diff else math.nan,
                "minus_model_low": diff["low"] if diff else math.nan,
                "minus_model_high": diff["high"] if diff else math.nan,
            })
    scores = pd.DataFrame(score_rows)
    runs = pd.Index(sorted(df["run_id"].unique()), name="run_id")
    series = _band_series(targets, df, _series(df, metrics_of(targets)), runs)
    return Validation(scenario, targets, vals, fit, scores, series, tolerance, confidence, n, list(notes or []))


def validate_results(folder: str | Path, targets: list[Target], **kwargs: Any) -> Validation:
    """Evaluate the completed runs of a results folder written by :func:`run_validation`."""
    from ..experiments.results import Results

    res = Results.open(folder)
    keep = output_selection(targets)
    table = res.timeseries(metrics=keep["metrics"], columns=["run_id", "seed", "date", "host", "category",
                                                            "metric", "value"])
    df = tidy_frame(table)
    seeds = df.drop_duplicates("run_id").set_index("run_id")["seed"].astype(int).to_dict()
    return evaluate_runs(df, targets, seeds=seeds, **kwargs)


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


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


def observed_text(obs: Observed, unit: str) -> str:
    """The observation as a short text: a value, a range or a bound."""
    if obs.low is not None and obs.high is not None:
        return f"{fmt(obs.low, unit, True)} to {fmt(obs.high, unit, True)}"
    if obs.low is not None:
        return f"{'>' if obs.low_exclusive else '>='} {fmt(obs.low, unit, True)}"
    if obs.high is not None:
        return f"{'<' if obs.high_exclusive else '<='} {fmt(obs.high, unit, True)}"
    return fmt(obs.value, unit, True)


def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:+.0%}"


def fit_table(v: Validation, holdout: bool) -> str:
    """Markdown table of the in-sample (or holdout) targets."""
    lines = [
        f"| target | rel. | observed | model mean [{v.confidence:.0%} CI] | {BAND[0]:.0%}-{BAND[1]:.0%} band "
        "| rel. diff | verdict | constant | proportional |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in v.fit[v.fit["set"] == ("holdout" if holdout else "in-sample")].itertuples():
        u = r.unit
        lines.append(
            f"| `{r.target}` | {r.reliability} | {r.observed} | {fmt(r.mean, u)} [{fmt(r.ci_low, u)}, {fmt(r.ci_high, u)}] "
            f"| {fmt(r.band_low, u)} to {fmt(r.band_high, u)} | {_pct(r.rel_diff)} | {'**' if r.missed else ''}"
            f"{r.verdict}{'**' if r.missed else ''} | {fmt(r.constant_mean, u)} | {fmt(r.proportional_mean, u)} |"
        )
    return "\n".join(lines)


def score_table(v: Validation) -> str:
    """Markdown table of the ARD of the model and the baselines."""
    lines = [
        f"| targets | n | predictor | ARD of the means | ARD per replication, mean [{v.confidence:.0%} CI] "
        f"| baseline minus model [{v.confidence:.0%} CI] |",
        "|---|---|---|---|---|---|",
    ]
    for r in v.scores.itertuples():
        diff = "" if r.predictor == "model" else f"{r.minus_model:+.3f} [{r.minus_model_low:+.3f}, {r.minus_model_high:+.3f}]"
        if r.predictor != "model" and math.isfinite(r.minus_model_low):
            better = "model" if r.minus_model_low > 0 else ("baseline" if r.minus_model_high < 0 else None)
            diff += f" ({better} closer)" if better else " (no clear difference)"
        lines.append(f"| {r.set} | {r.targets} | {r.predictor} | {r.ard:.3f} | {r.ard_rep_mean:.3f} "
                     f"[{r.ard_rep_low:.3f}, {r.ard_rep_high:.3f}] | {diff} |")
    return "\n".join(lines)


def misses_text(v: Validation) -> str:
    """The targets the model misses, one line each."""
    if not len(v.misses):
        return "The model misses none of the targets."
    out = []
    by_id = {t.id: t for t in v.targets}
    for r in v.misses.itertuples():
        t = by_id[r.target]
        out.append(f"- `{r.target}` ({r.set}, reliability {r.reliability}): observed {r.observed}, model "
                   f"{fmt(r.mean, r.unit)} [{fmt(r.ci_low, r.unit)}, {fmt(r.ci_high, r.unit)}]: {r.verdict}. "
                   f"{t.description}")
    return "\n".join(out)


def headline(v: Validation) -> str:
    """A few lines for the terminal."""
    s = v.scores.set_index(["set", "predictor"])["ard"]
    lines = [f"{v.scenario}: {v.reps} replications, {len(v.targets)} targets "
             f"({sum(not t.holdout for t in v.targets)} in-sample, {sum(t.holdout for t in v.targets)} holdout)"]
    for set_name in dict.fromkeys(v.scores["set"]):
        parts = ", ".join(f"{p} {s.get((set_name, p), math.nan):.3f}" for p in PREDICTORS)
        lines.append(f"  ARD {set_name}: {parts}")
    missed = list(v.misses["target"])
    lines.append(f"  missed ({len(missed)}): {', '.join(missed) if missed else 'none'}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def _observed_marker(ax: Any, obs: Observed, x: Any, unit: str, scale: float) -> None:
    kw = {"color": "crimson", "zorder": 5}
    if obs.low is not None and obs.high is not None:
        ax.errorbar([x], [(obs.low + obs.high) / 2 * scale], yerr=[[(obs.high - obs.low) / 2 * scale]], fmt="none",
                    capsize=6, lw=2.5, label="observed range", **kw)
    elif obs.low is not None or obs.high is not None:
        b = obs.low if obs.low is not None else obs.high
        ax.scatter([x], [b * scale], marker="^" if obs.low is not None else "v", s=90,
                   label="observed " + ("lower" if obs.low is not None else "upper") + " bound", **kw)
    elif obs.value is not None:
        ax.scatter([x], [obs.value * scale], marker="D", s=60, label="observed", **kw)


def _panel(ax: Any, v: Validation, t: Target) -> None:
    import matplotlib.dates as mdates

    r = v.fit.set_index("target").loc[t.id]
    scale, ylabel = (1.0, "share") if t.unit == "share" else (1e-3, "thousand persons")
    s = v.series[v.series["target"] == t.id]
    m = t.mapping
    if len(s) and m is not None:
        dates = pd.to_datetime(s["month"] + "-01")
        ax.fill_between(dates, s["low"] * scale, s["high"] * scale, color="tab:blue", alpha=0.25, lw=0,
                        label=f"model {BAND[0]:.0%}-{BAND[1]:.0%} band")
        ax.plot(dates, s["mean"] * scale, color="tab:blue", lw=1.5, label="model mean")
        x = pd.Timestamp(m.date + "-01")  # type: ignore[operator]
        for name, marker in (("constant", "x"), ("proportional", "+")):
            ax.scatter([x], [r[f"{name}_mean"] * scale], marker=marker, color="dimgray", s=50, zorder=4,
                       label=f"{name} baseline")
        _observed_marker(ax, t.observed, x, t.unit, scale)
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    else:
        x = v.values.loc[v.values.predictor == "model", t.id].to_numpy(dtype=float)
        jitter = np.linspace(-0.15, 0.15, len(x)) if len(x) > 1 else np.zeros(len(x))
        ax.scatter(jitter, x * scale, s=12, color="tab:blue", alpha=0.6, label="model, each replication")
        ax.errorbar([0.35], [r["mean"] * scale], yerr=[[(r["mean"] - r["ci_low"]) * scale], [(r["ci_high"] - r["mean"]) * scale]],
                    fmt="o", color="tab:blue", capsize=4, label=f"model mean, {v.confidence:.0%} CI")
        for name, marker in (("constant", "x"), ("proportional", "+")):
            ax.scatter([0.6], [r[f"{name}_mean"] * scale], marker=marker, color="dimgray", s=50, label=f"{name} baseline")
        _observed_marker(ax, t.observed, 0.85, t.unit, scale)
        ax.set_xlim(-0.4, 1.1)
        ax.set_xticks([])
    ax.set_title(f"{t.id}{' (holdout)' if t.holdout else ''}", fontsize=9, color="crimson" if r["missed"] else "black")
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)


def figures(v: Validation, folder: Path) -> dict[str, Path]:
    """One figure per target and an overview grid of all of them (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plots.figures import _PNG

    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for t in v.targets:
        fig, ax = plt.subplots(figsize=(6, 4))
        _panel(ax, v, t)
        ax.legend(fontsize=7, loc="best")
        fig.suptitle(t.description, fontsize=8)
        fig.tight_layout()
        path = folder / f"{t.id}.png"
        fig.savefig(path, dpi=90, **_PNG)
        plt.close(fig)
        out[t.id] = path
    cols = 4
    rows = math.ceil(len(v.targets) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax, t in zip(axes.flat, v.targets, strict=False):
        _panel(ax, v, t)
    for ax in list(axes.flat)[len(v.targets):]:
        ax.axis("off")
    handles, labels = {}, []
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in handles:
                handles[lab] = h
                labels.append(lab)
    fig.legend([handles[lab] for lab in labels], labels, loc="lower center", ncol=min(len(labels), 5), fontsize=8)
    fig.suptitle(f"{v.scenario}: model ({v.reps} replications) against the observed patterns "
                 "(red titles: missed)", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    path = folder.parent / "targets.png"
    fig.savefig(path, dpi=80, **_PNG)
    plt.close(fig)
    out["overview"] = path
    return out


# --------------------------------------------------------------------------------------------
# The report folder
# --------------------------------------------------------------------------------------------


def report_markdown(v: Validation) -> str:
    """The report as markdown (figures referenced relative to the report folder)."""
    meta = v.meta
    ins = v.fit[v.fit["set"] == "in-sample"]
    lines = [
        f"# Validation of {v.scenario}",
        "",
        f"- command: `{meta.get('command', '')}`",
        f"- runs: {v.reps} replications (seeds {meta.get('seeds', '')}), scale {meta.get('scale', '')} persons per "
        f"agent, {meta.get('months', '')} months from {meta.get('start', '')}; results folder `{meta.get('results', '')}`; "
        f"model code {meta.get('code_fingerprint', '')}",
        f"- time: {meta.get('seconds', math.nan):.1f} s for the runs, {meta.get('report_seconds', math.nan):.1f} s "
        "for this report",
        f"- targets: `{meta.get('targets_file', '')}`; model value = mean over replications with its "
        f"{v.confidence:.0%} t-interval; band = {BAND[0]:.0%}-{BAND[1]:.0%} quantiles over replications; "
        f"a point target is matched within {v.tolerance:.0%}, a range target when the mean is inside it",
        "",
        "## Fit, in-sample targets",
        "",
        fit_table(v, holdout=False),
        "",
        f"{int(ins['missed'].sum())} of {len(ins)} in-sample targets missed.",
        "",
        "## Holdout targets (not used by calibration)",
        "",
        fit_table(v, holdout=True),
        "",
        "## Overall score: ARD of the model and the naive baselines",
        "",
        "ARD = mean over the targets of |model - observed| / observed (0 inside a published range; "
        "distance to the violated bound outside). `constant`: every series frozen at its first-month value; "
        "`proportional`: each host keeps its first-month share of every total (module docstring of "
        "`diaspora_sim.validation`). Baseline minus model > 0: the model is closer to the observations.",
        "",
        score_table(v),
        "",
        "## Targets the model misses",
        "",
        misses_text(v),
        "",
    ]
    if v.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in v.notes], ""]
    lines += ["## Figures", "", "![targets](targets.png)", ""]
    lines += [f"- [`{t.id}`](figures/{t.id}.png)" for t in v.targets]
    return "\n".join(lines) + "\n"


def write_report(v: Validation, out: str | Path) -> Path:
    """Write the report folder (report.md, fit.csv, scores.csv, values.csv, series.csv, report.json,
    targets.png, figures/) atomically; an earlier validation report there is replaced, anything
    else refused (core.files).
    """

    def fill(tmp: Path) -> dict[str, Any]:
        started = time.perf_counter()
        v.fit.to_csv(tmp / "fit.csv", index=False)
        v.scores.to_csv(tmp / "scores.csv", index=False)
        v.values.to_csv(tmp / "values.csv", index=False)
        v.series.to_csv(tmp / "series.csv", index=False)
        figures(v, tmp / "figures")
        v.meta["report_seconds"] = time.perf_counter() - started
        (tmp / "report.md").write_text(report_markdown(v), encoding="utf-8")
        doc = {"scenario": v.scenario, "meta": v.meta, "tolerance": v.tolerance, "confidence": v.confidence,
               "notes": v.notes, "fit": json.loads(v.fit.to_json(orient="records")),
               "scores": json.loads(v.scores.to_json(orient="records"))}
        (tmp / "report.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        return {"scenario": v.scenario}

    return write_folder(Path(out), fill, kind="validation-report", overwrite=True, option="report folder")


def default_scenario(targets_file: str | Path = DEFAULT_PATH) -> Path:
    """The scenario a targets file names as its baseline (relative to the repository)."""
    from ..validation.targets import load_targets

    return Path(targets_file).resolve().parents[1] / load_targets(targets_file).baseline


__all__ = [
    "BASELINES",
    "DEFAULT_TOLERANCE",
    "PREDICTORS",
    "Validation",
    "ValidationError",
    "ard",
    "constant_baseline",
    "default_scenario",
    "discrepancy",
    "evaluate_runs",
    "first_months",
    "make_validation_plan",
    "output_selection",
    "proportional_baseline",
    "signed_difference",
    "target_values",
    "usable_targets",
    "validate_results",
    "write_report",
]
