"""Simulating parameter vectors through the experiments runner, and their distance to the targets.

Each batch of vectors is planned by the experiments planner with explicit points
(``experiments.plan.make_plan(..., points=...)``, the one run-id scheme) and run by
``experiments.sweep.run_sweep`` into its own results folder, with the calibration's seeds
``base_seed .. base_seed + replicates - 1`` for every vector (common random numbers), so
differences in distance between vectors are not differences of random numbers. A vector's
target values are the means over those seeds (the one evaluator, ``validation.values``); its
distance is the mean discrepancy over the in-sample targets (``validation.scores``; by default
the absolute log ratio, 0 inside a published range). A batch found complete on disk is read,
not run again: an interrupted calibration resumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..experiments.plan import Plan, make_plan
from ..experiments.results import Results
from ..experiments.sweep import RunsFailedError, run_sweep
from ..validation.plan import output_selection
from ..validation.scores import mean_discrepancy
from ..validation.values import target_values
from .setup import Setup

VALUE_COLUMNS = ["run_id", "date", "host", "category", "metric", "value"]


@dataclass
class RunOptions:
    """How the runs are executed (the experiments runner's options), and what was run."""

    executor: str = "local"
    workers: int | None = None
    scheduler: str | None = None
    retries: int = 2
    progress: bool = True
    runs_made: int = 0  # counted by simulate_points: runs made in this process ...
    runs_reused: int = 0  # ... and completed runs found on disk (an earlier, interrupted or identical call)


def points_plan(setup: Setup, points: np.ndarray, tag: str) -> Plan:
    """The plan that runs every parameter vector (row of `points`, all distinct) with the
    calibration's seeds: the experiments planner with explicit points, named `tag`.
    """
    exp = setup.plan.experiment.model_copy(update={"title": f"{setup.plan.experiment.title}: {tag}"})
    pts = [{n: float(x) for n, x in zip(setup.names, row, strict=True)} for row in np.atleast_2d(points)]
    return make_plan(exp, name=tag, points=pts)


def run_plan(plan: Plan, folder: Path, opts: RunOptions) -> None:
    """Run a plan into `folder` (completed runs there are kept); RunsFailedError if a run failed or
    the sweep was interrupted.
    """
    report = run_sweep(plan, folder, executor=opts.executor, workers=opts.workers, scheduler=opts.scheduler,
                       max_retries=opts.retries, progress=opts.progress)
    opts.runs_made += report.ran
    opts.runs_reused += report.already_done
    if report.interrupted:
        raise RunsFailedError(f"interrupted: re-run the same command to resume (runs so far are in {folder})")
    if not report.ok:
        first = next(iter(report.failed.items()), ("?", "?"))
        raise RunsFailedError(f"{len(report.failed)} runs of {plan.name} failed (e.g. {first[0]}: {first[1]}); "
                              f"tracebacks in {folder / 'failed'}; re-run the same command to retry them")


def distances(setup: Setup, values: pd.DataFrame) -> np.ndarray:
    """The distance of each row of target values: mean discrepancy over the in-sample targets (inf if undefined)."""
    x = values[[t.id for t in setup.in_sample]].to_numpy(dtype=float)
    return mean_discrepancy(setup.in_sample, x, setup.config.abc.distance)


def simulate_points(setup: Setup, points: np.ndarray, tag: str, folder: Path, opts: RunOptions) -> pd.DataFrame:
    """Run every parameter vector with the calibration's seeds; per vector (row, in order): the
    target values (means over seeds, in-sample and holdout) and the distance. Repeated vectors
    are run once.
    """
    points = np.atleast_2d(np.asarray(points, dtype=float))
    index: dict[bytes, int] = {}  # each distinct vector's position among the distinct ones
    inverse = [index.setdefault(row.tobytes(), len(index)) for row in points]
    distinct = points[[inverse.index(k) for k in range(len(index))]]
    plan = points_plan(setup, distinct, tag)
    run_plan(plan, folder, opts)
    table = Results.open(folder).timeseries(metrics=output_selection(setup.targets)["metrics"], columns=VALUE_COLUMNS)
    values = target_values(setup.targets, table)
    point_of = {t.run_id: t.point for t in plan.tasks}
    values["point"] = values.index.map(point_of)
    means = values.groupby("point").mean().reindex(range(len(plan.points)))
    means["distance"] = distances(setup, means)
    return means.iloc[inverse].reset_index(drop=True)


__all__ = ["RunOptions", "RunsFailedError", "distances", "points_plan", "run_plan", "simulate_points"]
