"""The public Python API, for notebooks and scripts (documented in docs/api.md).

    import diaspora_sim as ds
    sc = ds.load_scenario("scenarios/restrictive_eu.yaml", set={"run.seed": 4})
    run = ds.run(sc, seed=7, months=36)           # or a path; .timeseries, .summary, .model
    exp = ds.Experiment(scenarios=["scenarios/baseline_2022.yaml", "scenarios/open_eu.yaml"], replications=10)
    res = ds.run_experiment(exp, "results/eu", workers=2)   # resumable, the engine of `sweep`
    ds.compare(res).report("results/eu/report")

Everything here is what the command line does, as functions: `run` is `python -m
diaspora_sim run`, `run_experiment` is `sweep`, `compare` and `Comparison.report` are
`compare --results`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from .analysis.comparison import Comparison
from .analysis.comparison import compare as compare_results
from .core.errors import InputError, Problem
from .experiments.options import EXECUTORS
from .experiments.posterior import plan_experiment
from .experiments.results import Results
from .experiments.spec import Experiment, load_experiment
from .experiments.sweep import RunsFailedError, run_sweep
from .model.model import DiasporaModel
from .outputs.run_folder import write_run
from .outputs.summary import summary
from .outputs.timeseries import timeseries_table
from .scenario.loading import load_scenario as _load_scenario
from .scenario.loading import with_run
from .scenario.schema import Scenario

Overrides = Sequence[str] | Mapping[str, Any] | None


def load_scenario(path: str | Path, set: Overrides = None) -> Scenario:  # noqa: A002 - the name of --set
    """Load a scenario file: `extends` resolved, `set` applied (a mapping of dotted paths to values,
    or `PATH=VALUE` strings as for `--set`), everything validated (InputError otherwise).
    """
    return _load_scenario(path, set or ())


@dataclass
class Run:
    """One simulated run: the scenario as run, the finished model, and its outputs."""

    scenario: Scenario
    model: DiasporaModel

    @cached_property
    def table(self) -> pa.Table:
        """The tidy time series as a pyarrow table: date, host, category, metric, value."""
        return timeseries_table(self.model)

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """The tidy time series as a pandas DataFrame (definitions in docs/metrics.md)."""
        return self.table.to_pandas()

    @cached_property
    def summary(self) -> dict[str, Any]:
        """End-of-run headline figures, as `summary.json` of a run folder."""
        return summary(self.model)

    def save(self, out: str | Path, *, figures: bool = True, overwrite: bool = False, source: str = "",
             overrides: Sequence[str] = ()) -> Path:
        """Write the run folder `out` (as `run --out`; an existing folder only with `overwrite`);
        `source` and `overrides` (the scenario file and its `--set` strings) go to its manifest.
        """
        return write_run(self.model, Path(out), source=source, overrides=list(overrides), figures=figures,
                         overwrite=overwrite)

    def release(self) -> None:
        """Free the model's agents (see `DiasporaModel.release`); the tables computed so far stay."""
        self.model.release()


def run(scenario: Scenario | str | Path, *, seed: int | None = None, months: int | None = None,
        scale: float | None = None, set: Overrides = None, progress: bool = False) -> Run:  # noqa: A002
    """Simulate a scenario (loaded, or a path) as `python -m diaspora_sim run` does: `seed`,
    `scale` and `set` override the file; `months` stops early or extends the run (a shorter run
    keeps the full timeline in its resolved scenario, so re-running it reproduces these months).
    `progress` shows a bar on standard error for runs that last more than two seconds.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, set)
    elif set:
        raise InputError([Problem("set", "`set` applies to a scenario file; pass the path, or load it with set=")],
                         "argument")
    if months is not None and months < 1:
        with_run(scenario, months=months)  # raises the validation error
    longer = months if months is not None and months > scenario.run.months else None
    scenario = with_run(scenario, seed=seed, scale=scale, months=longer)
    model = DiasporaModel(scenario, months=months if longer is None else None)
    try:
        with tqdm(total=model.months, unit="month", delay=2, disable=not progress, file=sys.stderr) as bar:
            while model.running:
                model.step()
                bar.update(1)
    except BaseException:
        model.release()
        raise
    return Run(scenario, model)


def run_experiment(experiment: Experiment | str | Path, out: str | Path, *, workers: int | None = None,
                   executor: str = "local", scheduler: str | None = None, progress: bool = False) -> Results:
    """Run an experiment (an `Experiment`, or the path of an experiment file) into the results
    folder `out`, as `sweep` does: resumable, every executor gives the same files. Returns the
    results; RunsFailedError if a run failed (its traceback is in `out/failed/`).
    """
    if isinstance(experiment, Experiment):
        plan = plan_experiment(experiment)  # over its posterior when it names one, as `sweep` plans it
    else:
        plan = plan_experiment(load_experiment(experiment), experiment)
    if executor not in EXECUTORS:
        raise InputError([Problem("executor", f"expected one of {', '.join(EXECUTORS)}, found {executor!r}")],
                         "argument")
    report = run_sweep(plan, out, executor=executor, workers=workers, scheduler=scheduler, progress=progress)
    if report.failed:
        first = next(iter(report.failed.items()))
        raise RunsFailedError(f"{len(report.failed)} runs failed (first: {first[0]}: {first[1]}); "
                              f"tracebacks in {Path(out) / 'failed'}; run again to retry them")
    return Results.open(out)


def open_results(path: str | Path) -> Results:
    """A results folder written by `sweep`, `compare` or `run_experiment`."""
    return Results.open(path)


def compare(results: Results | str | Path, scenarios: list[str] | None = None, *,
            confidence: float = 0.95) -> Comparison:
    """Compare the scenarios of a results folder: levels with CIs, paired differences to the first
    scenario, effect sizes. `.report(folder)` writes the markdown report with figures.
    """
    if not isinstance(results, Results):
        results = Results.open(results)
    return compare_results(results, scenarios, confidence=confidence)
