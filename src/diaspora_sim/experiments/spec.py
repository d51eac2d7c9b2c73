"""The experiment file: its schema (pydantic), reading it, and the checks of its design.

An experiment names scenario files, the parameters to vary (by their dotted path in the
scenario, as for ``--set``; :mod:`.paths`), how to vary them (an explicit grid, or ranges
sampled with a Latin hypercube, Sobol or Morris design; :mod:`.designs`), the number of
replications, the months, the scale and the outputs to keep. :func:`load_experiment` reads
and schema-checks the file; :func:`.plan.make_plan` checks every parameter path against every
scenario and lists the runs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from ..core.errors import InputError, Problem, pydantic_problems
from ..core.safe_yaml import file_locator, line_of, read_yaml
from ..outputs.columns import RESERVED_COLUMNS
from ..scenario.schema import CATEGORIES, Strict

DEFAULT_METRICS = ("return_rate", "integration_rate", "ever_left", "stock", "integrated", "secure_status",
                   "without_status", "returns", "forced_returns")
"""Metrics a run keeps when the experiment's `outputs.metrics` is not given."""
INT64_MAX = 2**63 - 1
"""Seeds are stored as 64-bit integers in the results tables."""
MAX_RUNS = 1_000_000
"""The most runs a plan may have (checked from the design before any point is made)."""
DEFAULT_SEED = 1
"""The base seed of every command and file that does not give one (run, sweep, compare, validate)."""


class ScenarioRef(Strict):
    """A scenario of the experiment: a file, optionally with `--set` style overrides."""

    file: str = Field(description="Scenario YAML file, relative to the experiment file's folder.")
    name: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_.+-]+$",
        description="Name of the scenario in the results (default: the file name without .yaml). Must be unique.",
    )
    set: list[str] = Field(
        default_factory=list,
        description="Overrides applied to the scenario, as `PATH=VALUE` strings exactly like `--set` of `run`.",
    )



def path_or_paths(data: Any) -> Any:
    """A parameter's raw data with `path: X` read as `paths: [X]` (one path may be written either way)."""
    if isinstance(data, dict) and "path" in data and "paths" not in data:
        data = {**data, "paths": data["path"]}
        del data["path"]
    if isinstance(data, dict) and isinstance(data.get("paths"), str):
        data = {**data, "paths": [data["paths"]]}
    return data

class Parameter(Strict):
    """A quantity the experiment varies; one value is written to one or more scenario paths."""

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Column name of the parameter in the results (lower case, digits, underscores).",
    )
    paths: list[str] = Field(
        min_length=1,
        description="Dotted scenario paths that all receive the value (a single string is accepted). "
        "`hosts.@GROUP.rest` means every host of the group; `timeline.N.set.KEY` the value event N sets.",
    )
    values: list[bool | int | float | str] | None = Field(
        None, min_length=1, description="Explicit values (design `grid`)."
    )
    range: tuple[float, float] | None = Field(
        None, description="`[low, high]`, sampled by the `lhs`, `sobol` or `morris` design."
    )
    integer: bool = Field(False, description="Round sampled values to integers (for integer fields such as months).")
    description: str = Field("", description="What the parameter means (shown in reports).")

    @model_validator(mode="before")
    @classmethod
    def _path_alias(cls, data: Any) -> Any:
        return path_or_paths(data)

    @field_validator("range")
    @classmethod
    def _ordered(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not (math.isfinite(v[0]) and math.isfinite(v[1]) and v[0] < v[1]):
            raise ValueError(f"range must be [low, high] with low < high, found {list(v)}")
        return v

    @model_validator(mode="after")
    def _values_or_range(self) -> Parameter:
        if (self.values is None) == (self.range is None):
            raise ValueError("give either `values` (a grid) or `range` (sampled), not both or neither")
        return self


class Design(Strict):
    """How parameter points are chosen."""

    method: Literal["grid", "lhs", "sobol", "morris"] = Field(
        "grid",
        description="`grid`: every combination of the parameters' `values`; `lhs`: Latin hypercube of `samples` "
        "points; `sobol`: Saltelli/Sobol design for Sobol indices, `samples` * (D + 2) points (D parameters; "
        "2D + 2 with `second_order`); `morris`: `samples` trajectories of D + 1 points (elementary effects).",
    )
    samples: int | None = Field(
        None, ge=1, le=1_000_000,
        description="lhs: number of points; sobol: base sample size N (a power of 2); morris: number of trajectories.",
    )
    seed: int | None = Field(None, ge=0, le=INT64_MAX,
                             description="Seed of the sampler (default: the experiment's `seed`).")
    levels: int = Field(4, ge=2, le=100, description="morris: number of grid levels of each parameter.")
    second_order: bool = Field(False, description="sobol: also allow second-order indices (more points).")


class Outputs(Strict):
    """What each run keeps of its tidy time series."""

    metrics: list[str] = Field(
        default_factory=lambda: list(DEFAULT_METRICS), min_length=1,
        description="Metric names (docs/metrics.md), or `all`.",
    )
    hosts: list[str] = Field(
        default_factory=lambda: ["ALL", "RU"], min_length=1,
        description="Locations to keep: host codes, `RU`, `ALL`; or `all` for every location.",
    )
    categories: list[str] = Field(
        default_factory=lambda: [*CATEGORIES, "ALL"], min_length=1,
        description="Categories to keep (the five categories and `ALL`), or `all`.",
    )

    @field_validator("metrics", "hosts", "categories", mode="before")
    @classmethod
    def _all(cls, v: Any) -> Any:
        return ["all"] if v == "all" else v


class Posterior(Strict):
    """Run every arm over draws of a calibration posterior (common draws and seeds across arms)."""

    dir: str = Field(description="Calibration output folder with particles.parquet and summary.json (relative to "
                                 "the experiment file's folder).")
    seeds_per_draw: int = Field(
        2, ge=1, le=1000,
        description="Replications run at every posterior draw: replication r uses draw r // seeds_per_draw and "
        "seed `seed + r` in every arm. 2 or more separates seed noise from parameter uncertainty.",
    )


class Experiment(Strict):
    """Scenarios x parameter points x replications, and what to keep of each run."""

    title: str = Field("", description="Short title shown in reports.")
    description: str = Field("", description="What the experiment asks.")
    scenarios: list[ScenarioRef] = Field(
        min_length=1,
        description="Scenario files (strings) or mappings {file, name, set}. The first is the reference of comparisons.",
    )
    parameters: list[Parameter] = Field(default_factory=list, description="Parameters to vary (none: one point).")
    design: Design = Field(default_factory=Design, description="How parameter points are chosen.")
    replications: int = Field(10, ge=1, le=100_000, description="Runs of every scenario at every point.")
    seed: int = Field(DEFAULT_SEED, ge=0, le=INT64_MAX,
                      description="Base seed: replicate r runs with seed `seed + r` everywhere (default 1).")
    months: int | None = Field(
        None, ge=1, le=600,
        description="Months to simulate (default: each scenario's run.months; fewer stops early, more extends).",
    )
    scale: float | None = Field(None, ge=1.0, allow_inf_nan=False,
                                description="Persons per agent (default: each scenario's run.scale).")
    outputs: Outputs = Field(default_factory=Outputs, description="What each run keeps of its time series.")
    posterior: Posterior | None = Field(
        None, description="Run over draws of a calibration posterior instead of the scenarios' own values of the "
        "calibrated parameters (`replications` / `seeds_per_draw` draws; no `parameters`).",
    )

    @field_validator("scenarios", mode="before")
    @classmethod
    def _file_strings(cls, v: Any) -> Any:
        return [{"file": s} if isinstance(s, str) else s for s in v] if isinstance(v, list) else v

    @model_validator(mode="after")
    def _seeds_fit_int64(self) -> Experiment:
        if self.seed + self.replications - 1 > INT64_MAX:
            raise ValueError(f"the seeds seed + r (r < replications) must fit a 64-bit integer: seed at most "
                             f"{INT64_MAX - self.replications + 1} with {self.replications} replications")
        return self


def design_problems(exp: Experiment, explicit_points: bool = False) -> list[tuple[list[str], str]]:
    """Problems of the design that no single field shows: (field path, message) pairs.

    With `explicit_points` (points given to :func:`.plan.make_plan` instead of sampled), the design's
    method and samples are not used; every parameter needs a `range`.
    """
    problems: list[tuple[list[str], str]] = []
    names = [p.name for p in exp.parameters]
    for i, p in enumerate(exp.parameters):
        if names.index(p.name) != i:
            problems.append((["parameters", str(i), "name"], f"parameter name {p.name!r} is used twice"))
        if p.name in RESERVED_COLUMNS:
            problems.append((["parameters", str(i), "name"], f"{p.name!r} is the name of a column of the results "
                             "tables (run_id, scenario, point, replicate, seed, date, host, category, metric, value "
                             "and the summary's figures); give the parameter another name"))
    if explicit_points:
        problems += [(["parameters", str(i), "values"], "explicit points need parameters with a `range` [low, high]")
                     for i, p in enumerate(exp.parameters) if p.range is None]
        return problems
    if exp.posterior is not None:
        if exp.parameters:
            problems.append((["posterior"], "an experiment over a posterior varies the calibrated parameters; "
                             "it cannot also have `parameters`"))
        if exp.replications % exp.posterior.seeds_per_draw or exp.replications < 2 * exp.posterior.seeds_per_draw:
            problems.append((["replications"], f"over a posterior, replications must be a multiple of seeds_per_draw "
                             f"({exp.posterior.seeds_per_draw}) covering at least 2 draws"))
        return problems
    method = exp.design.method
    for i, p in enumerate(exp.parameters):
        if method == "grid" and p.values is None:
            problems.append((["parameters", str(i), "range"], "design `grid` needs `values`; a `range` needs design "
                             "lhs, sobol or morris"))
        if method != "grid" and p.range is None:
            problems.append((["parameters", str(i), "values"], f"design `{method}` samples a `range` [low, high]; "
                             "explicit `values` need design grid"))
    if method != "grid":
        n = exp.design.samples
        if not exp.parameters:
            problems.append((["design", "method"], f"design `{method}` needs at least one parameter with a range"))
        if n is None:
            problems.append((["design"], f"design `{method}` needs `samples`"))
        elif method == "sobol" and n & (n - 1):
            lo = 1 << (n.bit_length() - 1)
            problems.append((["design", "samples"], f"sobol `samples` must be a power of 2 (its convergence needs it); "
                             f"found {n}, use {lo} or {lo * 2}"))
        elif method == "morris" and n < 2:
            problems.append((["design", "samples"], "morris needs at least 2 trajectories"))
    countable = not any(parts[-1] != "name" for parts, _ in problems)  # names do not change the count
    if countable and (size := plan_size(exp)) > MAX_RUNS:
        problems.append((["design"] if method != "grid" else ["parameters"], size_message(exp, size)))
    return problems


def design_size(exp: Experiment) -> tuple[int, str]:
    """The number of parameter points of the design, and how it is counted (computed, not enumerated)."""
    params, d = exp.parameters, exp.design
    if not params:
        return 1, "no parameters: 1 point"
    if d.method == "grid":
        sizes = [len(p.values or []) for p in params]
        return math.prod(sizes), "design grid: " + " x ".join(map(str, sizes)) + " values"
    n, k = d.samples or 0, len(params)
    if d.method == "lhs":
        return n, f"design lhs: {n} samples"
    if d.method == "sobol":
        per = 2 * k + 2 if d.second_order else k + 2
        return n * per, f"design sobol: {n} x {per} points"
    return n * (k + 1), f"design morris: {n} trajectories x {k + 1} points"


def plan_size(exp: Experiment, points: int | None = None) -> int:
    """Runs of the plan: scenarios x points (of the design, or `points` given) x replications."""
    return len(exp.scenarios) * (design_size(exp)[0] if points is None else points) * exp.replications


def size_message(exp: Experiment, size: int, points: int | None = None) -> str:
    """Why a plan of `size` runs is refused."""
    how = design_size(exp)[1] if points is None else f"{points} explicit points"
    n_points = design_size(exp)[0] if points is None else points
    return (f"the plan would have {size:,} runs ({len(exp.scenarios)} scenarios x {n_points:,} points ({how}) x "
            f"{exp.replications} replications); at most {MAX_RUNS:,} runs per plan: use fewer values, samples or "
            "replications, or split the experiment")


def load_experiment(path: str | Path) -> Experiment:
    """Read and schema-check an experiment file (paths are checked by :func:`.plan.make_plan`)."""
    path = Path(path)
    data, node = read_yaml(path, "experiment", empty_ok=False)
    try:
        exp = Experiment.model_validate(data)
    except PydanticValidationError as exc:
        raise InputError(pydantic_problems(exc, Experiment, file_locator(path, node)), "experiment") from None
    problems = [Problem(".".join(parts), msg, str(path), line_of(node, parts) or 1) for parts, msg in design_problems(exp)]
    if problems:
        raise InputError(problems, "experiment")
    return exp


COMPARISON_OPTIONS = {"replications": "--reps", "seed": "--seed", "months": "--months", "scale": "--scale",
                      "posterior": "--posterior"}
"""The fields of :func:`comparison_experiment` and the options of `compare` that give them."""


def comparison_experiment(files: list[str | Path], *, replications: int, seed: int = DEFAULT_SEED, months: int | None = None,
                          scale: float | None = None, posterior: str | Path | None = None) -> Experiment:
    """The experiment of `compare FILES`: every scenario file (the first is the reference), replicated with
    common seeds. InputError (paths: the field names, see COMPARISON_OPTIONS) if a value is out of range.
    """
    try:
        return Experiment(
            title="Comparison of " + ", ".join(Path(s).stem for s in files),
            scenarios=[{"file": str(Path(s).resolve())} for s in files],
            replications=replications, seed=seed, months=months, scale=scale,
            posterior=None if posterior is None else {"dir": str(Path(posterior).resolve())},
        )
    except PydanticValidationError as exc:
        raise InputError([Problem(".".join(map(str, err["loc"])) or "experiment",
                                  f"{err['msg']} (found {err.get('input')!r})")
                          for err in exc.errors(include_url=False)], "argument") from None


__all__ = [
    "COMPARISON_OPTIONS",
    "DEFAULT_METRICS",
    "DEFAULT_SEED",
    "INT64_MAX",
    "MAX_RUNS",
    "Design",
    "Experiment",
    "Outputs",
    "Parameter",
    "Posterior",
    "ScenarioRef",
    "comparison_experiment",
    "design_problems",
    "design_size",
    "load_experiment",
    "plan_size",
    "size_message",
]
