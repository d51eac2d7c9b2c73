"""Comparison of the arms of a results folder: levels with confidence intervals at chosen months and
over time, paired differences to the reference arm (the first) with effect sizes, and the
replications a target precision needs. Conventions in :mod:`.statistics`; the report in :mod:`.report`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from ..experiments.folder import results_error
from ..experiments.results import Results
from .arms import RATES, Arm, arms_of, available_dates, default_dates, parse_dates, rate_values
from .posterior import posterior_effects
from .report import headline_text, results_text, write_report
from .sensitivity import sensitivity
from .statistics import mean_ci, paired_difference, replications_needed, t_quantile, vargha_delaney_a12

MAX_ARMS = 40
"""Arms (scenarios x points) one report can show."""


def describe(values: pd.DataFrame, arms: list[Arm], confidence: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per arm, metric, category and date: mean with CI; and the paired difference of every arm
    to the first arm (the reference), matched on the seed, with its CI and effect sizes.
    """
    label = {(a.scenario, a.point): a.label for a in arms}
    values = values.assign(arm=[label[k] for k in zip(values["scenario"], values["point"], strict=True)])
    keys = ["metric", "category", "date"]
    rows = []
    for (arm, *key), grp in values.groupby(["arm", *keys], sort=False):
        rows.append({"arm": arm, **dict(zip(keys, key, strict=True)), **mean_ci(grp["value"], confidence)})
    levels = pd.DataFrame(rows)
    ref = arms[0].label
    wide = values.pivot_table(index=[*keys, "seed"], columns="arm", values="value", aggfunc="first")
    diffs = []
    for arm in [a.label for a in arms[1:]]:
        if arm not in wide or ref not in wide:
            continue
        for key, grp in wide[[arm, ref]].groupby(level=keys, sort=False):
            diffs.append({"arm": arm, "reference": ref, **dict(zip(keys, key, strict=True)),
                          **paired_difference(grp[arm].to_numpy(), grp[ref].to_numpy(), confidence)})
    order = {a.label: i for i, a in enumerate(arms)}
    levels = levels.sort_values(["metric", "date", "category", "arm"], key=lambda s: s.map(order) if s.name == "arm" else s)
    diffs_df = pd.DataFrame(diffs)
    return levels.reset_index(drop=True), diffs_df.reset_index(drop=True)


def _labelled(values: pd.DataFrame, arms: list[Arm]) -> pd.DataFrame:
    label = {(a.scenario, a.point): a.label for a in arms}
    return values.assign(arm=[label[k] for k in zip(values["scenario"], values["point"], strict=True)])


@dataclass
class Comparison:
    """Everything the comparison report shows."""

    results: Results
    arms: list[Arm]
    dates: list[pd.Timestamp]
    levels: pd.DataFrame
    diffs: pd.DataFrame
    series: pd.DataFrame
    series_diffs: pd.DataFrame
    needed: pd.DataFrame
    confidence: float
    target: float
    replications: int
    posterior: pd.DataFrame | None = None
    """Effects over the calibration posterior (:mod:`.posterior`), when the runs were planned over one."""
    series_values: pd.DataFrame | None = None
    """The rates of every run over time (all categories), for the envelope figure."""
    """Effects over the calibration posterior (:mod:`.posterior`), when the runs were planned over one."""

    def report(self, out: str | Path) -> Path:
        """Write the comparison report folder `out` (see :func:`write_report`); the path of report.md."""
        return write_report(self, Path(out))


def compare(results: Results, scenarios: list[str] | None = None, dates: list[date] | None = None,
            confidence: float = 0.95, target: float = 0.005) -> Comparison:
    """Statistics of the arms at `dates` (default: :func:`default_dates`) and over time (all categories)."""
    arms = arms_of(results, scenarios)
    if len(arms) > MAX_ARMS:
        raise results_error(f"{len(arms)} arms (scenarios x points) are too many for one report; "
                           "name the scenarios to compare, or read the tables directly")
    available = available_dates(results)
    dates = dates or default_dates(available)
    values = rate_values(results, arms, dates)
    levels, diffs = describe(values, arms, confidence)
    post = results.manifest.get("posterior")
    effects = posterior_effects(values, [a.scenario for a in arms], post["seeds_per_draw"], confidence) if post else None
    series_values = rate_values(results, arms, None, categories=["ALL"])
    series, series_diffs = describe(series_values, arms, confidence)
    end = pd.Timestamp(max(dates))
    rows = []
    for arm in arms:
        for metric in RATES:
            row: dict[str, Any] = {"arm": arm.label, "metric": metric}
            lv = levels[(levels.arm == arm.label) & (levels.metric == metric) & (levels.category == "ALL")
                        & (levels.date == end)]
            if len(lv) and math.isfinite(lv.sd.iloc[0]):
                row.update(n=int(lv.n.iloc[0]), sd=lv.sd.iloc[0],
                           needed_mean=replications_needed(lv.sd.iloc[0], target, confidence))
            df = diffs[(diffs.arm == arm.label) & (diffs.metric == metric) & (diffs.category == "ALL")
                       & (diffs.date == end)] if len(diffs) else diffs
            if len(df) and math.isfinite(df.sd.iloc[0]):
                row.update(sd_diff=df.sd.iloc[0], needed_diff=replications_needed(df.sd.iloc[0], target, confidence))
            rows.append(row)
    reps = int(levels["n"].max()) if len(levels) else 0
    return Comparison(results, arms, [pd.Timestamp(d) for d in dates], levels, diffs, series, series_diffs,
                      pd.DataFrame(rows), confidence, target, reps, effects, _labelled(series_values, arms))


__all__ = [
    "MAX_ARMS",
    "RATES",
    "Arm",
    "Comparison",
    "compare",
    "describe",
    # re-exported for the callers of the former single module: .arms, .statistics, .sensitivity, .report
    "arms_of",
    "available_dates",
    "default_dates",
    "headline_text",
    "mean_ci",
    "paired_difference",
    "parse_dates",
    "rate_values",
    "replications_needed",
    "results_text",
    "sensitivity",
    "t_quantile",
    "vargha_delaney_a12",
    "write_report",
]
