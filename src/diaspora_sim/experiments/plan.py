"""Experiment files and the plan of runs they define.

An experiment names scenario files, the parameters to vary (by their dotted path in the
scenario, as for ``--set``), how to vary them (an explicit grid, or ranges sampled with a
Latin hypercube, Sobol or Morris design from SALib), the number of replications, the months,
the scale and the outputs to keep. :func:`load_experiment` validates the file and every
parameter path against every scenario before anything runs; :func:`make_plan` turns it into
the list of runs, each with a deterministic id.

Seeds: replicate ``r`` runs with seed ``experiment.seed + r`` in every scenario and at every
parameter point (common random numbers), so differences between scenarios or points are paired.

Parameter paths are the paths of ``--set`` (``hosts.DE.stay.renewal_probability``) with two
additions: ``hosts.@GROUP.rest`` sets ``rest`` in every host of the group (``hosts.@eu...``),
and ``timeline.N.set.KEY`` sets the value that event ``N`` gives to its (dotted) key ``KEY``,
for policies that a timeline event changes during the run.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import itertools
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..core.errors import InputError, Problem, pydantic_problems
from ..core.safe_yaml import file_locator, line_of, read_yaml
from ..model.metrics import METRICS
from ..scenario.loading import load_scenario, set_path, to_yaml, validate
from ..scenario.schema import CATEGORIES, Scenario

RUN_COLUMNS = ("run_id", "scenario", "point", "replicate", "seed")
"""Columns that identify a run in every results file (the parameter columns follow `point`)."""
TIDY_COLUMNS = ("date", "host", "category", "metric", "value")
SUMMARY_FIELDS = (
    "return_rate", "integration_rate", "ever_left", "stock_abroad", "in_russia",
    "it_specialists_in_russia", "without_status", "without_documents",
)
"""End-of-run figures of `outputs.summary` kept as columns of the summary table."""
SUMMARY_BY_CATEGORY = ("return_rate", "integration_rate", "ever_left")
DEFAULT_METRICS = ("return_rate", "integration_rate", "ever_left", "stock", "integrated", "secure_status",
                   "without_status", "returns", "forced_returns")


# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScenarioRef(_Strict):
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


class Parameter(_Strict):
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
        if isinstance(data, dict) and "path" in data and "paths" not in data:
            data = {**data, "paths": data["path"]}
            del data["path"]
        if isinstance(data, dict) and isinstance(data.get("paths"), str):
            data = {**data, "paths": [data["paths"]]}
        return data

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


class Design(_Strict):
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
    seed: int | None = Field(None, ge=0, description="Seed of the sampler (default: the experiment's `seed`).")
    levels: int = Field(4, ge=2, le=100, description="morris: number of grid levels of each parameter.")
    second_order: bool = Field(False, description="sobol: also allow second-order indices (more points).")


class Outputs(_Strict):
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


class Experiment(_Strict):
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
    seed: int = Field(0, ge=0, description="Base seed: replicate r runs with seed `seed + r` everywhere.")
    months: int | None = Field(
        None, ge=1, le=600,
        description="Months to simulate (default: each scenario's run.months; fewer stops early, more extends).",
    )
    scale: float | None = Field(None, ge=1.0, description="Persons per agent (default: each scenario's run.scale).")
    outputs: Outputs = Field(default_factory=Outputs, description="What each run keeps of its time series.")

    @field_validator("scenarios", mode="before")
    @classmethod
    def _file_strings(cls, v: Any) -> Any:
        return [{"file": s} if isinstance(s, str) else s for s in v] if isinstance(v, list) else v


def design_problems(exp: Experiment, explicit_points: bool = False) -> list[tuple[list[str], str]]:
    """Problems of the design that no single field shows: (field path, message) pairs.

    With `explicit_points` (points given to :func:`make_plan` instead of sampled), the design's
    method and samples are not used; every parameter needs a `range`.
    """
    problems: list[tuple[list[str], str]] = []
    names = [p.name for p in exp.parameters]
    for i, p in enumerate(exp.parameters):
        if names.index(p.name) != i:
            problems.append((["parameters", str(i), "name"], f"parameter name {p.name!r} is used twice"))
    if explicit_points:
        problems += [(["parameters", str(i), "values"], "explicit points need parameters with a `range` [low, high]")
                     for i, p in enumerate(exp.parameters) if p.range is None]
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
    return problems


# --------------------------------------------------------------------------------------------
# Reading and reporting errors
# --------------------------------------------------------------------------------------------


def _read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    return read_yaml(path, "experiment", empty_ok=False)


# --------------------------------------------------------------------------------------------
# Parameter paths
# --------------------------------------------------------------------------------------------


def expand_path(data: dict[str, Any], path: str) -> list[str]:
    """The concrete dotted paths `path` stands for in the scenario data (``hosts.@GROUP`` expanded)."""
    parts = path.split(".")
    if len(parts) >= 3 and parts[0] == "hosts" and parts[1].startswith("@"):
        group = parts[1][1:]
        hosts = data.get("hosts", {})
        codes = [code for code, host in hosts.items() if group in host.get("groups", [])]
        if not codes:
            groups = sorted({g for h in hosts.values() for g in h.get("groups", [])})
            raise KeyError(f"no host is in group {group!r}; groups: {', '.join(groups)}")
        return [".".join(["hosts", code, *parts[2:]]) for code in codes]
    return [path]


def apply_assignment(data: dict[str, Any], path: str, value: Any) -> None:
    """Set one concrete path (see module docstring) in raw scenario data; KeyError if it cannot be set."""
    parts = path.split(".")
    if parts[0] == "hosts" and len(parts) >= 3 and parts[1] not in data.get("hosts", {}):
        raise KeyError(f"unknown host {parts[1]!r}; known hosts: {', '.join(data.get('hosts', {}))}")
    if parts[0] == "timeline" and len(parts) >= 4 and parts[2] == "set":
        events = data.get("timeline", [])
        if not parts[1].isdigit() or int(parts[1]) >= len(events):
            raise KeyError(f"timeline.{parts[1]}: no such event (the timeline has events 0 to {len(events) - 1})")
        index, key = int(parts[1]), ".".join(parts[3:])
        event = events[index]
        if key not in event["set"]:
            others = [f"timeline.{i} ({e['name']!r})" for i, e in enumerate(events) if key in e["set"]]
            raise KeyError(
                f"event timeline.{index} ({event['name']!r}) does not set {key!r}; it sets "
                f"{', '.join(event['set'])}" + (f". Events that set {key!r}: {', '.join(others)}" if others else "")
            )
        event["set"][key] = value
        return
    set_path(data, path, value)


def overriding_events(data: dict[str, Any], path: str) -> list[str]:
    """Timeline events that later overwrite the value at the concrete `path` (the sweep holds only before them)."""
    parts = path.split(".")
    found = []
    for i, ev in enumerate(data.get("timeline", [])):
        if ev.get("hosts") is None and ev.get("groups") is None:
            keys = [k.split(".") for k in ev["set"]]
            rel = parts
        elif parts[0] == "hosts" and len(parts) >= 3:
            host = data["hosts"].get(parts[1], {})
            if parts[1] not in (ev.get("hosts") or []) and not set(host.get("groups", [])) & set(ev.get("groups") or []):
                continue
            keys, rel = [k.split(".") for k in ev["set"]], parts[2:]
        else:
            continue
        if any(k[: len(rel)] == rel or rel[: len(k)] == k for k in keys):
            found.append(f"timeline.{i} ({ev['name']!r}, {ev['date']})")
    return found


# --------------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutputSelection:
    """Rows of the tidy time series a run keeps (None: all)."""

    metrics: tuple[str, ...] | None
    hosts: tuple[str, ...] | None
    categories: tuple[str, ...] | None


@dataclass(frozen=True)
class RunTask:
    """One run: everything a worker needs besides the scenario's resolved data."""

    run_id: str
    scenario: str
    scenario_sha: str
    point: int
    values: dict[str, Any]
    assignments: tuple[tuple[str, Any], ...]
    replicate: int
    seed: int
    months: int
    outputs: OutputSelection
    param_types: tuple[tuple[str, str], ...]


@dataclass
class ScenarioSpec:
    """A scenario as the experiment runs it: resolved data (with the experiment's scale) and provenance."""

    name: str
    file: str
    overrides: list[str]
    data: dict[str, Any]
    sha256: str
    months: int
    yaml: str


@dataclass
class Plan:
    """The runs of an experiment, in the order they are submitted (replicate by replicate)."""

    experiment: Experiment
    name: str
    source: str
    scenarios: dict[str, ScenarioSpec]
    points: list[dict[str, Any]]
    design: np.ndarray | None
    param_types: dict[str, str]
    tasks: list[RunTask]
    warnings: list[str] = field(default_factory=list)

    def seeds(self) -> list[int]:
        """The seed of every replicate."""
        return [self.experiment.seed + r for r in range(self.experiment.replications)]

    def describe(self) -> dict[str, Any]:
        """The plan as JSON-ready data, for the results manifest."""
        return {
            "name": self.name,
            "source": self.source,
            "experiment": self.experiment.model_dump(mode="json"),
            "seeds": {"base": self.experiment.seed, "rule": "replicate r runs with seed base + r in every scenario and point"},
            "scenarios": {
                n: {"file": s.file, "overrides": s.overrides, "sha256": s.sha256, "months": s.months,
                    "scale": s.data["run"]["scale"], "resolved": f"scenarios/{n}.yaml"}
                for n, s in self.scenarios.items()
            },
            "parameters": {p.name: {"paths": p.paths, "type": self.param_types[p.name], "description": p.description}
                           for p in self.experiment.parameters},
            "points": self.points,
            "warnings": self.warnings,
            "runs": [{"run_id": t.run_id, "scenario": t.scenario, "point": t.point, "replicate": t.replicate,
                      "seed": t.seed} for t in self.tasks],
        }


def design_points(exp: Experiment) -> tuple[list[dict[str, Any]], np.ndarray | None]:
    """The parameter points of the design, and the sampler's matrix (None for a grid)."""
    params = exp.parameters
    if not params:
        return [{}], None
    d = exp.design
    if d.method == "grid":
        return [dict(zip([p.name for p in params], combo, strict=True))
                for combo in itertools.product(*[p.values or [] for p in params])], None
    from SALib.sample import latin, morris, sobol

    problem = {"num_vars": len(params), "names": [p.name for p in params], "bounds": [list(p.range) for p in params]}
    seed = exp.seed if d.seed is None else d.seed
    if d.method == "lhs":
        matrix = latin.sample(problem, d.samples, seed=seed)
    elif d.method == "sobol":
        matrix = sobol.sample(problem, d.samples, calc_second_order=d.second_order, seed=seed)
    else:
        matrix = morris.sample(problem, d.samples, num_levels=d.levels, seed=seed)
    points = [
        {p.name: (int(round(x)) if p.integer else float(x)) for p, x in zip(params, row, strict=True)}
        for row in matrix
    ]
    return points, matrix


def _param_types(exp: Experiment, points: list[dict[str, Any]]) -> dict[str, str]:
    types = {}
    for i, p in enumerate(exp.parameters):
        try:
            arrow = pa.array([pt[p.name] for pt in points]).type
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            raise InputError([Problem(f"parameters.{i}.values", "the values of a parameter must share one type "
                                           "(all numbers, all true/false or all text)")]) from None
        types[p.name] = str(arrow)
    return types


def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def scenario_sha(data: dict[str, Any]) -> str:
    """SHA-256 of resolved scenario data, without its seed (the seed is the replicate's, not the file's)."""
    return _sha({**data, "run": {k: v for k, v in data["run"].items() if k != "seed"}})


def _test_values(p: Parameter) -> list[Any]:
    """Values that validate a parameter: every grid value, or both ends and an interior point of a range."""
    if p.values is not None:
        return list(p.values)
    lo, hi = p.range
    values = [lo, lo + 0.37 * (hi - lo), hi]
    return [int(round(v)) for v in values] if p.integer else values


def load_experiment(path: str | Path) -> Experiment:
    """Read and schema-validate an experiment file (paths are checked by :func:`make_plan`)."""
    path = Path(path)
    data, node = _read_yaml(path)
    try:
        exp = Experiment.model_validate(data)
    except ValidationError as exc:
        raise InputError(pydantic_problems(exc, Experiment, file_locator(path, node)), "experiment") from None
    problems = [Problem(".".join(parts), msg, str(path), line_of(node, parts) or 1) for parts, msg in design_problems(exp)]
    if problems:
        raise InputError(problems, "experiment")
    return exp


def explicit_points(exp: Experiment, points: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Check explicit parameter points (name -> value for every parameter, each within its `range`)
    and return them as the design would (integers rounded for `integer` parameters) with their matrix.
    """
    names = [p.name for p in exp.parameters]
    problems: list[Problem] = []
    out: list[dict[str, Any]] = []
    for k, pt in enumerate(points):
        if set(pt) != set(names):
            missing, extra = sorted(set(names) - set(pt)), sorted(set(pt) - set(names))
            problems.append(Problem(f"points.{k}", "a point gives a value to every parameter and nothing else"
                                    + (f"; missing: {', '.join(missing)}" if missing else "")
                                    + (f"; unknown: {', '.join(extra)}" if extra else "")))
            continue
        row: dict[str, Any] = {}
        for p in exp.parameters:
            v = pt[p.name]
            lo, hi = p.range or (-math.inf, math.inf)
            if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating) \
                    or not (math.isfinite(float(v)) and lo <= float(v) <= hi):
                problems.append(Problem(f"points.{k}.{p.name}", f"must be a number in the range [{lo:g}, {hi:g}], "
                                        f"found {v!r}"))
                continue
            row[p.name] = int(round(float(v))) if p.integer else float(v)
        out.append(row)
    seen: dict[str, int] = {}
    for k, row in enumerate(out):
        key = json.dumps(row, sort_keys=True)
        if key in seen and not problems:
            problems.append(Problem(f"points.{k}", f"the same point as points.{seen[key]} (runs would share their ids)"))
        seen.setdefault(key, k)
    if problems:
        raise InputError(problems, "experiment")
    matrix = np.array([[row[n] for n in names] for row in out], dtype=float).reshape(len(out), len(names))
    return out, matrix


def make_plan(exp: Experiment, source: str | Path | None = None, name: str | None = None,
              points: list[dict[str, Any]] | None = None) -> Plan:
    """Resolve the scenarios, check every parameter path and value against each, and list the runs.

    Scenario files are relative to the folder of `source` (the experiment file; the current
    folder when None). Raises InputError (or the scenario's InputError) before
    anything runs.

    `points`: explicit parameter points (dicts name -> value for every parameter; parameters
    declared with a `range`, values within it) used instead of sampling the experiment's design
    (calibration plans its particles this way); same run ids and checks as a sampled design.
    """
    src = Path(source) if source is not None else None
    base_dir = src.parent if src is not None else Path(".")
    file, node = str(src) if src else "", None
    if src is not None and src.exists():
        node = _read_yaml(src)[1]

    def at(parts: list[str], message: str) -> Problem:
        return Problem(".".join(parts), message, file, line_of(node, parts) if node is not None else None)

    problems = [at(parts, msg) for parts, msg in design_problems(exp, explicit_points=points is not None)]
    if problems:
        raise InputError(problems, "experiment")
    given = explicit_points(exp, points) if points is not None else None

    scenarios: dict[str, ScenarioSpec] = {}
    for i, ref in enumerate(exp.scenarios):
        scen_path = base_dir / ref.file
        sname = ref.name or Path(ref.file).stem
        if sname in scenarios:
            problems.append(at(["scenarios", str(i)], f"two scenarios are named {sname!r}; give one a `name`"))
            continue
        if not scen_path.exists():
            problems.append(at(["scenarios", str(i), "file"], f"scenario file {scen_path} does not exist"))
            continue
        sc = load_scenario(scen_path, ref.set)  # raises InputError with the scenario's own file and line
        if exp.scale is not None:
            sc = sc.model_copy(update={"run": sc.run.model_copy(update={"scale": exp.scale})})
        data = sc.model_dump(mode="json", exclude_none=True)
        months = exp.months or sc.run.months
        spec = ScenarioSpec(sname, os.path.normpath(scen_path), list(ref.set), data, scenario_sha(data), months, to_yaml(sc))
        scenarios[sname] = spec

    outputs = _check_outputs(exp, scenarios, at, problems)
    warnings: list[str] = []
    for i, p in enumerate(exp.parameters):
        for j, pth in enumerate(p.paths):
            where = ["parameters", str(i), "paths", str(j)]
            seen: dict[str, list[str]] = {}
            for sname, spec in scenarios.items():
                for msg in _check_path(spec.data, pth, _test_values(p)):
                    seen.setdefault(msg, []).append(sname)
                try:
                    overridden: dict[str, list[str]] = {}
                    for concrete in expand_path(spec.data, pth):
                        for ev in overriding_events(spec.data, concrete):
                            overridden.setdefault(ev, []).append(concrete)
                except KeyError:
                    continue
                for ev, paths in overridden.items():
                    which = paths[0] if len(paths) == 1 else f"{pth} ({len(paths)} hosts)"
                    warnings.append(f"parameter {p.name!r}: in scenario {sname}, {ev} overwrites {which}; "
                                    "the swept value holds only before that event")
            for msg, names in seen.items():
                where_s = "scenario " + names[0] if len(names) == 1 else "scenarios " + ", ".join(names)
                problems.append(at(where, f"{pth!r} in {where_s}: {msg}"))
    if problems:
        raise InputError(sorted(problems, key=lambda p: p.line or 0), "experiment")

    points, matrix = given if given is not None else design_points(exp)
    types = _param_types(exp, points)
    type_items = tuple(types.items())
    tasks = []
    point_ids: dict[tuple[str, int], tuple[str, tuple[tuple[str, Any], ...]]] = {}
    for sname, spec in scenarios.items():
        for k, pt in enumerate(points):
            assignments = tuple((c, pt[p.name]) for p in exp.parameters for pth in p.paths
                                for c in expand_path(spec.data, pth))
            point_ids[sname, k] = (_sha({"name": sname, "scenario": spec.sha256, "assignments": assignments,
                                         "months": spec.months}),
                                   assignments)
    for r in range(exp.replications):
        seed = exp.seed + r
        for sname, spec in scenarios.items():
            for k, pt in enumerate(points):
                pid, assignments = point_ids[sname, k]
                run_id = _sha({"point": pid, "replicate": r, "seed": seed})[:20]
                tasks.append(RunTask(run_id, sname, spec.sha256, k, pt, assignments, r, seed, spec.months, outputs, type_items))
    if len({t.run_id for t in tasks}) != len(tasks):  # cannot happen unless the hash collides
        raise RuntimeError("two runs of the plan have the same id")
    plan_name = name or (src.stem if src else "experiment")
    return Plan(exp, plan_name, str(src or ""), scenarios, points, matrix, types, tasks, sorted(set(warnings)))


def _check_path(data: dict[str, Any], path: str, values: list[Any]) -> list[str]:
    """Problems (messages) of setting `path` to each of `values` in the scenario data; empty when fine."""
    messages: list[str] = []
    try:
        concrete = expand_path(data, path)
    except KeyError as exc:
        return [str(exc.args[0])]
    group = path.split(".")[1] if len(concrete) > 1 or concrete[0] != path else None
    for value in values:
        trial = copy.deepcopy(data)
        text = {c: f"{c}={json.dumps(value)}" for c in concrete}
        try:
            for c in concrete:
                apply_assignment(trial, c, value)
            validate(trial, overrides=text)
        except KeyError as exc:
            return [str(exc.args[0])]
        except InputError as exc:
            for p in exc.problems:
                msg = f"{p.path}: {p.message}" if p.path else p.message
                if group is not None:  # one message for the group, not one per host
                    for c in concrete:
                        msg = msg.replace(f"hosts.{c.split('.')[1]}.", f"hosts.{group}.")
                if isinstance(value, float) and not value.is_integer() and "integer" in p.message:
                    msg += "; set `integer: true` on the parameter"
                if msg not in messages:
                    messages.append(msg)
            break
    return messages


def _check_outputs(exp: Experiment, scenarios: dict[str, ScenarioSpec], at: Any, problems: list[Problem]) -> OutputSelection:
    out = exp.outputs
    hosts_ok = {"ALL", "RU"}.union(*[set(s.data["hosts"]) for s in scenarios.values()]) if scenarios else {"ALL", "RU"}

    def pick(key: str, given: list[str], valid: list[str] | set[str]) -> tuple[str, ...] | None:
        if given == ["all"]:
            return None
        for j, v in enumerate(given):
            if v not in valid:
                close = difflib.get_close_matches(v, list(valid), n=1)
                problems.append(at(["outputs", key, str(j)], f"unknown {key[:-1] if key != 'categories' else 'category'} "
                                   f"{v!r}" + (f"; did you mean {close[0]!r}?" if close else "")
                                   + f" (expected one of: {', '.join(sorted(valid))}, or all)"))
        return tuple(dict.fromkeys(given))

    return OutputSelection(
        pick("metrics", out.metrics, list(METRICS)),
        pick("hosts", out.hosts, hosts_ok),
        pick("categories", out.categories, [*CATEGORIES, "ALL"]),
    )


def scenario_data_for(task: RunTask, data: dict[str, Any]) -> Scenario:
    """The validated scenario of a run: the resolved data with the point's values and the replicate's seed.

    Raises ValueError if `data` is not the scenario the task was planned with (a guard against
    mixed-up data in transport to a worker).
    """
    if scenario_sha(data) != task.scenario_sha:
        raise ValueError(f"the scenario data given for run {task.run_id} is not {task.scenario!r} as planned "
                         f"(SHA-256 {scenario_sha(data)[:12]}, planned {task.scenario_sha[:12]})")
    data = copy.deepcopy(data)
    for path, value in task.assignments:
        apply_assignment(data, path, value)
    data["run"]["seed"] = task.seed
    return validate(data)


__all__ = [
    "Design",
    "Experiment",
    "OutputSelection",
    "Parameter",
    "Plan",
    "RunTask",
    "ScenarioRef",
    "apply_assignment",
    "design_points",
    "design_problems",
    "expand_path",
    "explicit_points",
    "load_experiment",
    "make_plan",
    "overriding_events",
    "scenario_data_for",
    "scenario_sha",
]
