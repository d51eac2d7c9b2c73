"""Experiments over a calibration posterior: every arm runs at the same posterior draws with the same seeds.

A calibration output folder (`calibrate`) holds the accepted particles (``particles.parquet``:
particle, weight, distance and one column per calibrated parameter) and ``summary.json`` (every
parameter with its prior range and scenario ``paths``). :func:`plan_experiment` plans an experiment
whose ``posterior`` key names such a folder: the calibrated parameters become the experiment's
parameters, ``replications / seeds_per_draw`` particles are drawn (by weight, without
replacement, with the experiment's seed), and replication ``r`` of every arm runs at draw
``r // seeds_per_draw`` with seed ``seed + r``: common draws and common random numbers across
arms, so the difference of two arms at replication ``r`` is paired on both.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import InputError, Problem
from .plan import Plan, make_plan
from .spec import Experiment, Parameter, design_problems

PARTICLES = "particles.parquet"
SUMMARY = "summary.json"


def load_posterior(folder: str | Path) -> tuple[list[Parameter], pd.DataFrame]:
    """The calibrated parameters (range: the prior's; paths: the scenario paths) and the particles."""
    folder = Path(folder)
    missing = [f for f in (PARTICLES, SUMMARY) if not (folder / f).is_file()]
    if missing:
        raise InputError([Problem("posterior", f"{folder} is not a calibration output folder (no "
                                  f"{' or '.join(missing)}); make one with `calibrate`")], "argument")
    summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    params = [Parameter(name=p["parameter"], paths=p["paths"], range=(p["prior_low"], p["prior_high"]),
                        description=f"calibrated (posterior median {p['median']:.4g})")
              for p in summary["parameters"]]
    particles = pd.read_parquet(folder / PARTICLES)
    absent = [p.name for p in params if p.name not in particles]
    if absent:
        raise InputError([Problem("posterior", f"{folder / PARTICLES} has no column {', '.join(absent)}")], "argument")
    return params, particles


def posterior_draws(particles: pd.DataFrame, params: list[Parameter], n: int,
                    seed: int) -> tuple[list[int], list[dict[str, float]]]:
    """`n` distinct particles drawn by weight without replacement: their ids and parameter values
    (clipped to the prior range, against rounding in the file).
    """
    if n > len(particles):
        raise InputError([Problem("replications", f"{n} posterior draws asked, the posterior has {len(particles)} "
                                  "particles; use fewer replications or more seeds_per_draw")], "experiment")
    weights = particles["weight"].to_numpy(float) if "weight" in particles else np.ones(len(particles))
    rng = np.random.default_rng([seed, 0x505354])
    rows = rng.choice(len(particles), size=n, replace=False, p=weights / weights.sum())
    ids = [int(particles["particle"].iloc[i]) if "particle" in particles else int(i) for i in rows]
    points = [{p.name: float(np.clip(particles[p.name].iloc[i], *p.range)) for p in params} for i in rows]
    return ids, points


def plan_experiment(exp: Experiment, source: str | Path | None = None, name: str | None = None) -> Plan:
    """The plan of an experiment: :func:`.plan.make_plan`, or over its posterior when it has one."""
    if exp.posterior is None:
        return make_plan(exp, source, name)
    problems = [Problem(".".join(parts), msg, str(source or "")) for parts, msg in design_problems(exp)]
    if problems:
        raise InputError(problems, "experiment")
    base = Path(source).parent if source is not None else Path(".")
    folder = (base / exp.posterior.dir).resolve()
    params, particles = load_posterior(folder)
    k = exp.posterior.seeds_per_draw
    ids, points = posterior_draws(particles, params, exp.replications // k, exp.seed)
    inner = exp.model_copy(update={"parameters": params, "posterior": None})
    plan = make_plan(inner, source, name, points=points)
    tasks = [t for t in plan.tasks if t.point == t.replicate // k]
    info: dict[str, Any] = {"dir": str(folder), "seeds_per_draw": k, "draws": len(points), "particles": ids,
                            "rule": "replicate r runs at posterior draw (point) r // seeds_per_draw with seed base + r "
                                    "in every scenario"}
    return replace(plan, experiment=exp.model_copy(update={"parameters": params}), tasks=tasks,
                   extra={**plan.extra, "posterior": info})


__all__ = ["load_posterior", "plan_experiment", "posterior_draws"]
