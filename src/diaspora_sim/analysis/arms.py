"""Arms (a scenario at one parameter point) of a results folder, its months, and the rates of its runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from ..experiments.folder import results_error
from ..experiments.results import Results

RATES = ("return_rate", "integration_rate")
"""The rates compared (the headline rates of a run's summary, `outputs.summary.SUMMARY_RATES`)."""


ALL_POINTS = -1
"""The point of an arm over a posterior: every draw (replicate r at draw r // seeds_per_draw)."""


@dataclass
class Arm:
    """A scenario at one parameter point (or over all posterior draws: point ALL_POINTS)."""

    scenario: str
    point: int
    values: dict[str, Any]
    label: str


def arms_of(results: Results, scenarios: list[str] | None = None) -> list[Arm]:
    """The arms of a results folder, scenarios in the given (or the experiment's) order, then points."""
    names = scenarios or results.scenarios
    for name in names:
        if name not in results.manifest["scenarios"]:
            raise results_error(f"no scenario {name!r} in {results.path}; it has: {', '.join(results.scenarios)}")
    if results.manifest.get("posterior"):
        return [Arm(name, ALL_POINTS, {}, name) for name in names]
    points = results.manifest["points"]
    arms = []
    for name in names:
        for k, values in enumerate(points):
            label = name if len(points) == 1 else f"{name} [" + ", ".join(f"{p}={_fmt_value(v)}" for p, v in values.items()) + "]"
            arms.append(Arm(name, k, values, label))
    return arms


def _fmt_value(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def available_dates(results: Results) -> list[date]:
    """The months present in the runs (read from one completed run)."""
    if not results.completed:
        raise results_error(f"{results.path} has no completed runs")
    one = sorted(results.completed)[0]
    table = results.files("runs", {one})
    dates = pq.read_table(table[0], columns=["date"]).column("date").to_pylist()
    return sorted(set(dates))


def default_dates(dates: list[date]) -> list[date]:
    """The last month and the months 12 and 24 months before it, where simulated (else the middle month)."""
    end = dates[-1]
    picks = []
    for back in (24, 12):
        y, m = divmod(end.year * 12 + end.month - 1 - back, 12)
        d = date(y, m + 1, 1)
        if d in dates:
            picks.append(d)
    if not picks and len(dates) > 2:
        picks.append(dates[len(dates) // 2])
    return [*picks, end]


def parse_dates(text: str, dates: list[date]) -> list[date]:
    """Months from ``YYYY-MM,YYYY-MM``; InputError naming the simulated span if one is outside it."""
    out = []
    for item in text.split(","):
        item = item.strip()
        try:
            y, m = (int(x) for x in item.split("-"))
            d = date(y, m, 1)
        except ValueError:
            raise results_error(f"--dates: expected months as YYYY-MM, found {item!r}") from None
        if d not in dates:
            raise results_error(f"--dates: {item} was not simulated; the runs span "
                               f"{dates[0]:%Y-%m} to {dates[-1]:%Y-%m}")
        out.append(d)
    return sorted(set(out))


def rate_values(results: Results, arms: list[Arm], dates: list[date] | None,
                categories: list[str] | None = None) -> pd.DataFrame:
    """Return and integration rates of every completed run of the arms (host ALL):
    columns scenario, point, replicate, seed, date, category, metric, value.
    """
    table = results.timeseries(
        metrics=list(RATES), hosts=["ALL"], categories=categories, dates=dates,
        scenarios=sorted({a.scenario for a in arms}),
        columns=["scenario", "point", "replicate", "seed", "date", "category", "metric", "value"],
    )
    if table.num_rows == 0:
        raise results_error(f"{results.path} has no return_rate / integration_rate rows at host ALL: the experiment's "
                           "outputs must keep metrics return_rate and integration_rate and host ALL")
    df = table.to_pandas()
    df["date"] = pd.to_datetime(df["date"])
    if any(a.point == ALL_POINTS for a in arms):
        df["point"] = ALL_POINTS
    keep = {(a.scenario, a.point) for a in arms}
    return df[[k in keep for k in zip(df["scenario"], df["point"], strict=True)]]


__all__ = ["ALL_POINTS", "RATES", "Arm", "arms_of", "available_dates", "default_dates", "parse_dates", "rate_values"]
