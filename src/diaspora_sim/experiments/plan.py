"""The plan of an experiment: every run (scenario x parameter point x replicate) with a deterministic id.

:func:`make_plan` resolves the scenarios, checks every parameter path and value against each
(before anything runs), takes the points of the design (:mod:`.designs`) or explicit points,
and lists the runs. The one run-id scheme (:func:`point_id`, :func:`run_id`): a run's id is a
hash of its scenario (name and resolved data), the concrete assignments of its point, the months,
its replicate and seed; the same run in two plans has the same id, so its results are reused.

Seeds: replicate ``r`` runs with seed ``experiment.seed + r`` in every scenario and at every
parameter point (common random numbers), so differences between scenarios or points are paired.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import InputError, Problem
from ..core.hashing import sha_of
from ..core.safe_yaml import line_of, read_yaml
from ..model.metrics import METRICS
from ..outputs.columns import RUN_COLUMNS
from ..scenario.loading import load_scenario, to_yaml, validate
from ..scenario.schema import CATEGORIES, Scenario
from .designs import design_points, explicit_points, param_types
from .paths import apply_assignment, expand_path, indexed_event, overriding_events, path_problems, trial_values
from .spec import MAX_RUNS, Design, Experiment, Parameter, design_problems, load_experiment, plan_size, size_message

Locate = Callable[[list[str], str], Problem]
"""Makes the Problem of a field path of the experiment file (with its line when the file is known)."""


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
    design_rows: list[int] | None = None
    """Point of every row of the design matrix (repeated rows, e.g. of a Morris design, share a point)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """More entries of the manifest (e.g. `posterior`: the draws of a comparison over a posterior)."""

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
            "design_rows": self.design_rows,
            "warnings": self.warnings,
            **self.extra,
            "runs": [{"run_id": t.run_id, "scenario": t.scenario, "point": t.point, "replicate": t.replicate,
                      "seed": t.seed} for t in self.tasks],
        }


def scenario_sha(data: dict[str, Any]) -> str:
    """SHA-256 of resolved scenario data, without its seed (the seed is the replicate's, not the file's)."""
    return sha_of({**data, "run": {k: v for k, v in data["run"].items() if k != "seed"}})


def point_id(scenario: ScenarioSpec, assignments: tuple[tuple[str, Any], ...]) -> str:
    """The id of a scenario at a parameter point: its name, resolved data, concrete assignments and months."""
    return sha_of({"name": scenario.name, "scenario": scenario.sha256, "assignments": assignments,
                 "months": scenario.months})


def run_id(point: str, replicate: int, seed: int) -> str:
    """The id of a run: its point's id (:func:`point_id`), replicate and seed."""
    return sha_of({"point": point, "replicate": replicate, "seed": seed})[:20]


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
    at = _locator(src)
    problems = [at(parts, msg) for parts, msg in design_problems(exp, explicit_points=points is not None)]
    if problems:
        raise InputError(problems, "experiment")
    if points is not None and (size := plan_size(exp, len(points))) > MAX_RUNS:
        raise InputError([at(["points"], size_message(exp, size, len(points)))], "experiment")
    given = explicit_points(exp, points) if points is not None else None
    base_dir = src.parent if src is not None else Path(".")
    scenarios = _resolve_scenarios(exp, base_dir, at, problems)
    outputs = _output_selection(exp, scenarios, at, problems)
    warnings = _check_parameters(exp, scenarios, at, problems)
    if problems:
        raise InputError(sorted(problems, key=lambda p: p.line or 0), "experiment")
    pts, matrix = given if given is not None else design_points(exp)
    pts, rows = unique_points(pts)
    if len(rows) > len(pts):
        warnings.append(f"the {exp.design.method} design repeats points: its {len(rows)} rows are {len(pts)} "
                        "distinct points; repeated rows share their runs")
    types = param_types(exp, pts)
    tasks = _tasks(exp, scenarios, pts, outputs, tuple(types.items()))
    plan_name = name or (src.stem if src else "experiment")
    return Plan(exp, plan_name, str(src or ""), scenarios, pts, matrix, types, tasks, sorted(set(warnings)),
                design_rows=rows if matrix is not None else None)


def unique_points(points: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[int]]:
    """The distinct points in first-seen order, and the index of every given point among them."""
    index: dict[str, int] = {}
    rows = []
    for pt in points:
        rows.append(index.setdefault(json.dumps(pt, sort_keys=True), len(index)))
    distinct = {k: pt for pt in points if (k := json.dumps(pt, sort_keys=True)) in index}
    return list(distinct.values()), rows


def _locator(src: Path | None) -> Locate:
    """Problems located in the experiment file `src` (by line, when it exists)."""
    file, node = str(src) if src else "", None
    if src is not None and src.exists():
        node = read_yaml(src, "experiment", empty_ok=False)[1]

    def at(parts: list[str], message: str) -> Problem:
        return Problem(".".join(parts), message, file, line_of(node, parts) if node is not None else None)

    return at


def _resolve_scenarios(exp: Experiment, base_dir: Path, at: Locate, problems: list[Problem]) -> dict[str, ScenarioSpec]:
    """Load every scenario (with its overrides and the experiment's scale); problems appended."""
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
    return scenarios


def _check_parameters(exp: Experiment, scenarios: dict[str, ScenarioSpec], at: Locate,
                      problems: list[Problem]) -> list[str]:
    """Check every path of every parameter in every scenario (problems appended); the warnings."""
    warnings: list[str] = []
    for i, p in enumerate(exp.parameters):
        for j, pth in enumerate(p.paths):
            seen: dict[str, list[str]] = {}
            for sname, spec in scenarios.items():
                for msg in path_problems(spec.data, pth, trial_values(p)):
                    seen.setdefault(msg, []).append(sname)
                warnings += _overridden(p, pth, sname, spec)
            for msg, names in seen.items():
                where_s = "scenario " + names[0] if len(names) == 1 else "scenarios " + ", ".join(names)
                problems.append(at(["parameters", str(i), "paths", str(j)], f"{pth!r} in {where_s}: {msg}"))
            events = {sname: indexed_event(spec.data, pth) for sname, spec in scenarios.items()}
            if len(set(events.values()) - {None}) > 1:
                which = "; ".join(f"{n}: {e!r}" for n, e in events.items())
                problems.append(at(["parameters", str(i), "paths", str(j)], f"{pth!r} addresses different events in "
                                   f"the scenarios ({which}); address the event by name: timeline[NAME]..."))
    return warnings


def _overridden(p: Parameter, pth: str, sname: str, spec: ScenarioSpec) -> list[str]:
    """Warnings for the timeline events of the scenario that overwrite the parameter's path later."""
    overridden: dict[str, list[str]] = {}
    try:
        for concrete in expand_path(spec.data, pth):
            for ev in overriding_events(spec.data, concrete):
                overridden.setdefault(ev, []).append(concrete)
    except KeyError:
        return []
    warnings = []
    for ev, paths in overridden.items():
        which = paths[0] if len(paths) == 1 else f"{pth} ({len(paths)} hosts)"
        warnings.append(f"parameter {p.name!r}: in scenario {sname}, {ev} overwrites {which}; "
                        "the swept value holds only before that event")
    return warnings


def _tasks(exp: Experiment, scenarios: dict[str, ScenarioSpec], points: list[dict[str, Any]],
           outputs: OutputSelection, type_items: tuple[tuple[str, str], ...]) -> list[RunTask]:
    """The runs, replicate by replicate, then scenario, then point."""
    point_ids: dict[tuple[str, int], tuple[str, tuple[tuple[str, Any], ...]]] = {}
    for sname, spec in scenarios.items():
        for k, pt in enumerate(points):
            assignments = tuple((c, pt[p.name]) for p in exp.parameters for pth in p.paths
                                for c in expand_path(spec.data, pth))
            point_ids[sname, k] = (point_id(spec, assignments), assignments)
    tasks = []
    for r in range(exp.replications):
        seed = exp.seed + r
        for sname, spec in scenarios.items():
            for k, pt in enumerate(points):
                pid, assignments = point_ids[sname, k]
                tasks.append(RunTask(run_id(pid, r, seed), sname, spec.sha256, k, pt, assignments, r, seed,
                                     spec.months, outputs, type_items))
    if len({t.run_id for t in tasks}) != len(tasks):  # cannot happen unless the hash collides
        raise RuntimeError("two runs of the plan have the same id")
    return tasks


def _output_selection(exp: Experiment, scenarios: dict[str, ScenarioSpec], at: Locate,
                      problems: list[Problem]) -> OutputSelection:
    """The rows each run keeps; unknown metrics, hosts or categories appended to `problems`."""
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
    "RUN_COLUMNS",
    # re-exported from .spec, .designs and .paths for the callers of the former single module
    "Design",
    "Experiment",
    "OutputSelection",
    "Parameter",
    "Plan",
    "RunTask",
    "ScenarioSpec",
    "apply_assignment",
    "design_points",
    "expand_path",
    "load_experiment",
    "make_plan",
    "point_id",
    "run_id",
    "scenario_data_for",
    "scenario_sha",
    "unique_points",
]
