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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from .analysis.comparison import Comparison
from .analysis.comparison import compare as compare_results
from .core.errors import InputError, Problem
from .experiments.executors import EXECUTORS
from .experiments.plan import Experiment, load_experiment, make_plan
from .experiments.results import Results
from .experiments.sweep import RunsFailedError, run_sweep
from .model.model import DiasporaModel
from .outputs.run_folder import summary, timeseries_table, write_run
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

    def save(self, out: str | Path, *, figures: bool = True, overwrite: bool = False) -> Path:
        """Write the run folder `out` (as `run --out`; an existing folder only with `overwrite`)."""
        return write_run(self.model, Path(out), figures=figures, overwrite=overwrite)


def run(scenario: Scenario | str | Path, *, seed: int | None = None, months: int | None = None,
        scale: float | None = None, set: Overrides = None) -> Run:  # noqa: A002
    """Simulate a scenario (loaded, or a path) as `python -m diaspora_sim run` does: `seed`,
    `scale` and `set` override the file; `months` stops early or extends the run.
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
    model.run()
    return Run(scenario, model)


def run_experiment(experiment: Experiment | str | Path, out: str | Path, *, workers: int | None = None,
                   executor: str = "local", scheduler: str | None = None, progress: bool = False) -> Results:
    """Run an experiment (an `Experiment`, or the path of an experiment file) into the results
    folder `out`, as `sweep` does: resumable, every executor gives the same files. Returns the
    results; RunsFailedError if a run failed (its traceback is in `out/failed/`).
    """
    if isinstance(experiment, Experiment):
        plan = make_plan(experiment)
    else:
        plan = make_plan(load_experiment(experiment), experiment)
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
