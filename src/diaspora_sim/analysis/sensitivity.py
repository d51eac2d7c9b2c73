"""Global sensitivity indices of a Sobol or Morris experiment (SALib), of any output or policy effect, over time.

The output of a run is one metric (host ALL, category ALL) at one month; a policy effect
``A-B`` is the paired difference of scenarios A and B at the same parameter point and seed.
Replication noise is averaged out before the indices (they are computed from the mean over
replications at each design point) and reported separately: ``noise_share`` is the variance of
those means that the seeds alone would produce (mean replication variance / replications)
divided by the variance of the means across points. Sobol gives first- and total-order indices
with bootstrap intervals, Morris mu* (with its bootstrap interval) and sigma. The bootstrap
is seeded with the design's seed (a generator is passed: SALib reads the integer 0 as "no seed"),
so a given results folder always gives the same intervals. Repeated design points (Morris
designs repeat points) share runs; their row of the design matrix maps to the shared point
(``design_rows`` of the manifest).

:func:`point_indices` is the one code path from values per point and replicate to indices;
:func:`sensitivity_of` reads a results folder into it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import morris, sobol

from ..core.errors import InputError
from ..experiments.designs import design_points, design_seed, salib_problem
from ..experiments.folder import results_error
from ..experiments.results import Results
from ..experiments.spec import Experiment
from .arms import available_dates

SOBOL_CONF_MAX = 0.1
"""Largest acceptable half-width of a Sobol index's interval (indices lie in [0, 1])."""
MORRIS_CONF_MAX = 0.25
"""Largest acceptable half-width of mu*'s interval, relative to the largest mu*."""


@dataclass
class Sensitivity:
    """Indices of one output (or effect) at one or more months, with the replication noise and warnings."""

    method: str
    output: str
    effect: str | None
    indices: pd.DataFrame
    noise: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def point_indices(method: str, problem: dict[str, Any], matrix: np.ndarray, rows: list[int],
                  values: pd.DataFrame, *, seed: int, second_order: bool = False,
                  levels: int = 4) -> tuple[pd.DataFrame, dict[str, float]]:
    """Indices of the mean over replications at each point (`values`: columns point, replicate, value;
    `rows[i]` is the point of row i of `matrix`) and the replication noise of those means.
    """
    grouped = values.groupby("point")["value"]
    means, reps = grouped.mean(), grouped.size()
    missing = sorted(set(rows) - set(means.dropna().index))
    if missing:
        raise results_error(f"{len(missing)} design points have no completed run; finish the sweep first")
    y = means.reindex(rows).to_numpy(float)
    rep_var = grouped.var(ddof=1)
    noise_var = float((rep_var / reps).mean()) if (reps >= 2).any() else math.nan
    total = float(np.var(y, ddof=1))
    noise = {"variance": total, "noise_variance": noise_var, "replications": float(reps.mean()),
             "noise_share": noise_var / total if total > 0 else math.nan}
    rng = np.random.default_rng(seed)
    if not total > 0:  # a constant output has no indices (SALib would divide by zero)
        cols = ("S1", "S1_conf", "ST", "ST_conf") if method == "sobol" else ("mu_star", "mu_star_conf", "sigma")
        return pd.DataFrame({"parameter": problem["names"], **{c: np.nan for c in cols}}), noise
    if method == "sobol":
        res = sobol.analyze(problem, y, calc_second_order=second_order, seed=rng)
        cols = ("S1", "S1_conf", "ST", "ST_conf")
    else:
        res = morris.analyze(problem, matrix, y, num_levels=levels, seed=rng)
        cols = ("mu_star", "mu_star_conf", "sigma")
    table = pd.DataFrame({"parameter": problem["names"], **{c: np.asarray(res[c], float) for c in cols}})
    return table, noise


def needed_samples(method: str, table: pd.DataFrame, samples: int) -> int | None:
    """The sample size (Sobol N, a power of 2; Morris trajectories) whose intervals would be narrow
    enough, when this one's are too wide; None when they are narrow enough.
    """
    if method == "sobol":
        confs = table[["S1_conf", "ST_conf"]].to_numpy(float)
        widest = float(np.nanmax(confs)) if np.isfinite(confs).any() else 0.0
        ratio = widest / SOBOL_CONF_MAX
    else:
        top = float(table["mu_star"].max()) if len(table) else 0.0
        ratio = float(table["mu_star_conf"].max()) / (MORRIS_CONF_MAX * top) if top > 0 else 0.0
    if not math.isfinite(ratio) or ratio <= 1:
        return None
    n = math.ceil(samples * ratio**2)
    return 1 << (n - 1).bit_length() if method == "sobol" else n


def output_values(results: Results, output: str, effect: str | None, dates: list[date]) -> dict[str, pd.DataFrame]:
    """Values per point and replicate at `dates` (columns point, replicate, date, value), by scenario,
    or of the effect ``A-B`` (one entry).
    """
    names = results.scenarios
    pair = None
    if effect is not None:
        pair = _effect_pair(effect, names)
    table = results.timeseries(metrics=[output], hosts=["ALL"], categories=["ALL"], dates=dates,
                               scenarios=list(pair) if pair else None,
                               columns=["scenario", "point", "replicate", "date", "value"])
    if table.num_rows == 0:
        raise results_error(f"{results.path} has no {output!r} rows at host ALL, category ALL: the experiment's "
                            "outputs must keep that metric and host ALL")
    df = table.to_pandas()
    if pair is None:
        return {s: df[df.scenario == s].drop(columns="scenario") for s in names if (df.scenario == s).any()}
    wide = df.pivot_table(index=["point", "replicate", "date"], columns="scenario", values="value", aggfunc="first")
    diff = (wide[pair[0]] - wide[pair[1]]).rename("value").reset_index()
    return {effect: diff}


def _effect_pair(effect: str, names: list[str]) -> tuple[str, str]:
    for i in range(1, len(effect)):
        if effect[i - 1] == "-" and effect[: i - 1] in names and effect[i:] in names:
            return effect[: i - 1], effect[i:]
    raise results_error(f"--effect {effect!r}: expected A-B with two scenarios of the results; they are: "
                        f"{', '.join(names)}")


def sensitivity_of(results: Results, output: str = "return_rate", effect: str | None = None,
                   dates: list[date] | None = None) -> Sensitivity:
    """Sobol or Morris indices of `output` (or of the effect ``A-B`` on it) at `dates` (default: the end)."""
    exp = Experiment.model_validate(results.manifest["experiment"])
    method = exp.design.method
    if method not in ("sobol", "morris") or results.manifest.get("posterior"):
        raise results_error(f"{results.path}: sensitivity indices need a sobol or morris design (this experiment's "
                            f"design is {method}); see docs/experiments.md")
    _, matrix = design_points(exp)
    rows = results.manifest.get("design_rows") or list(range(len(matrix)))
    problem = salib_problem(exp.parameters)
    if dates is None:
        dates = available_dates(results)[-1:]
    tables, noises, warnings = [], [], []
    for name, vals in output_values(results, output, effect, dates).items():
        for d, grp in vals.groupby("date"):
            table, noise = point_indices(method, problem, matrix, rows, grp, seed=design_seed(exp),
                                         second_order=exp.design.second_order, levels=exp.design.levels)
            key = {"target": name, "date": pd.Timestamp(d)}
            tables.append(table.assign(**key))
            noises.append({**key, **noise})
            needed = needed_samples(method, table, exp.design.samples or 0)
            if not noise["variance"] > 0:
                warnings.append(f"{name} {pd.Timestamp(d):%Y-%m}: the output is the same at every point; no indices")
            elif needed is not None:
                what = "base sample size N (samples)" if method == "sobol" else "trajectories (samples)"
                warnings.append(f"{name} {pd.Timestamp(d):%Y-%m}: the intervals of the indices are too wide for "
                                f"{exp.design.samples} {what}; about {needed} are needed")
            if math.isfinite(noise["noise_share"]) and noise["noise_share"] > 0.2:
                warnings.append(f"{name} {pd.Timestamp(d):%Y-%m}: replication noise is {noise['noise_share']:.0%} of "
                                "the variance across points; add replications")
    if exp.replications < 2:
        warnings.append("one replication per point: the seed noise of the point means cannot be separated from the "
                        "indices (noise n/a); run 2 or more")
    indices = pd.concat(tables, ignore_index=True)
    indices = indices[["target", "date", *[c for c in indices if c not in ("target", "date")]]]
    return Sensitivity(method, output, effect, indices, pd.DataFrame(noises), warnings)


def sensitivity(results: Results, metric: str = "return_rate") -> pd.DataFrame | None:
    """End-of-run indices of `metric` per scenario (for `results`); None for grid and LHS designs."""
    exp = Experiment.model_validate(results.manifest["experiment"])
    if exp.design.method not in ("sobol", "morris") or results.manifest.get("posterior"):
        return None
    try:
        sens = sensitivity_of(results, metric)
    except InputError:  # an incomplete sweep has no indices yet
        return None
    return sens.indices.rename(columns={"target": "scenario"}).drop(columns="date")


__all__ = ["Sensitivity", "needed_samples", "output_values", "point_indices", "sensitivity", "sensitivity_of"]
