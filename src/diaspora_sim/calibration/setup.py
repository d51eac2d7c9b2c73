"""A parameter file resolved against a scenario and the targets: everything a calibration needs, checked.

:func:`prepare` loads the parameter file, the targets and the scenario, checks every path and
prior (through the experiments planner, which checks both ends of every prior), expands paths
to the concrete scenario paths they set (``hosts.@GROUP.rest``, ``X.default``), reads the
scenario's own value of every parameter, and chooses the in-sample and holdout targets and the
months simulated. Every problem is an InputError with the file, line and field.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..core.errors import InputError, Problem
from ..core.safe_yaml import keys_at, line_of
from ..experiments.plan import Experiment, Parameter, Plan, expand_path, make_plan
from ..scenario.loading import load_scenario
from ..scenario.schema import CATEGORIES, Scenario
from ..validation.plan import months_to_simulate, output_selection, usable_targets
from ..validation.targets import DEFAULT_PATH, Target, TargetsFile, load_targets
from .spec import CALIBRATION, CalibrationFile, load_params, with_overrides, with_targets

At = Callable[[list[str], str], Problem]
"""A problem at a field path of the parameter file (with its file and line)."""


@dataclass
class Setup:
    """Everything a calibration needs, checked: the parameters' concrete paths, the targets, the base plan."""

    params_file: Path
    scenario_file: Path
    config: CalibrationFile
    concrete: list[list[str]]  # per parameter: the concrete scenario paths it sets
    written: list[list[str]]  # per parameter: the paths written to the calibrated scenario (`.default` kept)
    base_values: list[float]  # per parameter: the scenario's own value (at its first concrete path)
    in_sample: list[Target]
    holdout: list[Target]
    notes: list[str]
    plan: Plan  # the experiments plan of one point (its scenario, outputs, months, seeds)
    targets_file: Path

    @property
    def names(self) -> list[str]:
        """The parameter names, in the file's order."""
        return [p.name for p in self.config.parameters]

    @property
    def lows(self) -> np.ndarray:
        """The lower ends of the priors."""
        return np.array([p.prior.low for p in self.config.parameters])

    @property
    def highs(self) -> np.ndarray:
        """The upper ends of the priors."""
        return np.array([p.prior.high for p in self.config.parameters])

    @property
    def seeds(self) -> list[int]:
        """The seeds every parameter vector runs with (common random numbers)."""
        a = self.config.abc
        return [a.base_seed + r for r in range(a.replicates)]

    @property
    def months(self) -> int:
        """The months every run simulates."""
        return next(iter(self.plan.scenarios.values())).months

    @property
    def targets(self) -> list[Target]:
        """The in-sample targets, then the holdouts (all targets whose values are computed)."""
        return self.in_sample + self.holdout


def scenario_value(obj: Any, parts: list[str]) -> Any:
    """The value at a dotted path (as parts) of scenario data or a Scenario."""
    for part in parts:
        obj = obj[part] if isinstance(obj, dict) else (obj[int(part)] if isinstance(obj, list) else getattr(obj, part))
    return obj


def default_categories(scenario_file: Path, path: str, lo: float, hi: float) -> list[str]:
    """The categories whose value a `X.default` path sets in the scenario file (those it does not list)."""
    parent = path[: -len(".default")]
    cats = set(CATEGORIES)
    for frac in (0.3141592, 0.6931472):  # two odd probe values: a category follows the default if it takes both
        probe = lo + frac * (hi - lo)
        sc = load_scenario(scenario_file, [f"{path}={probe!r}"])
        node = scenario_value(sc, parent.split("."))
        cats &= {c for c in CATEGORIES if getattr(node, c, None) == probe}
    return [c for c in CATEGORIES if c in cats]


def _path_key(node: yaml.Node | None, cfg: CalibrationFile, i: int) -> str:
    """How parameter i names its paths in the file: `path` (one, written as such) or `paths`."""
    one = len(cfg.parameters[i].paths) == 1 and "paths" not in keys_at(node, ["parameters", str(i)])
    return "path" if one else "paths"


def file_problems(cfg: CalibrationFile, node: yaml.Node | None, mapped: set[str], n_file: int, at: At) -> list[Problem]:
    """Problems of the file that need the targets but not the scenario: excluded targets that are
    not mapped (the first `n_file` exclusions are the file's, the others the command line's),
    timeline or run paths, unknown targets in `moves`.
    """
    problems: list[Problem] = []
    for j, tid in enumerate(cfg.targets.exclude):
        if tid not in mapped:
            close = difflib.get_close_matches(tid, sorted(mapped), n=1)
            msg = f"no mapped target {tid!r}" + (f"; did you mean {close[0]!r}?" if close else "")
            problems.append(at(["targets", "exclude", str(j)], msg) if j < n_file
                            else Problem("--exclude-target", msg, "command line"))
    for i, p in enumerate(cfg.parameters):
        key = _path_key(node, cfg, i)
        for j, pth in enumerate(p.paths):
            where = ["parameters", str(i), key] + ([str(j)] if key == "paths" else [])
            if pth.split(".")[0] in ("timeline", "run"):
                problems.append(at(where, f"{pth!r}: `{pth.split('.')[0]}` cannot be calibrated (a calibrated scenario "
                                   "sets values through `extends`, which replaces a timeline as a whole)"))
        for j, tid in enumerate(p.moves):
            if tid not in mapped:
                problems.append(at(["parameters", str(i), "moves", str(j)], f"no mapped target {tid!r}"))
    return problems


def choose_targets(cfg: CalibrationFile, tf: TargetsFile, sc: Scenario, at: At) -> tuple[list[Target], list[Target],
                                                                                        list[str], int]:
    """The in-sample and holdout targets, notes on those left out, and the months simulated (the
    file's `abc.months`, or up to the last month an in-sample target reads).
    """
    needed = [t for t in tf.fitted() if t.id not in cfg.targets.exclude and not t.holdout]
    if not needed:
        raise InputError([at(["targets"], "no in-sample target is left for the distance")], CALIBRATION)
    months = cfg.abc.months or months_to_simulate(needed, sc.run.start)
    usable, notes = usable_targets(tf, sc, months)
    usable = [t for t in usable if t.id not in cfg.targets.exclude and not t.contested]
    in_sample = [t for t in usable if not t.holdout]
    if not in_sample:
        raise InputError([at(["abc", "months"], f"no in-sample target falls within the {months} months simulated")],
                         CALIBRATION)
    notes += [f"excluded by the parameter file: {tid}" for tid in cfg.targets.exclude]
    return in_sample, [t for t in usable if t.holdout], notes, months


def experiment(cfg: CalibrationFile, scenario_file: Path, paths: list[list[str]], months: int,
               targets: list[Target]) -> Experiment:
    """The experiment of a calibration: one scenario, the parameters (with these paths and their
    prior ranges), the calibration's seeds, months, scale, and the outputs the targets read.
    """
    return Experiment(
        title=cfg.title or f"Calibration of {scenario_file.name}",
        description="ABC-SMC calibration (diaspora_sim.calibration); the points are particles.",
        scenarios=[{"file": str(scenario_file.resolve()), "name": scenario_file.stem}],
        parameters=[Parameter(name=p.name, paths=ps, range=(p.prior.low, p.prior.high), description=p.description)
                    for p, ps in zip(cfg.parameters, paths, strict=True)],
        design={"method": "lhs", "samples": 1, "seed": cfg.abc.seed},
        replications=cfg.abc.replicates, seed=cfg.abc.base_seed, months=months, scale=cfg.abc.scale,
        outputs=output_selection(targets),
    )


def checked_plan(exp: Experiment, cfg: CalibrationFile, node: yaml.Node | None, at: At) -> Plan:
    """The plan of `exp` (every path and both ends of every prior checked by the experiments
    planner), its problems reported at the parameter file's fields.
    """
    try:
        return make_plan(exp, name="calibration")
    except InputError as exc:
        out = []
        for prob in exc.problems:
            parts = prob.path.split(".")
            if len(parts) == 4 and parts[0] == "parameters" and parts[2] == "paths" \
                    and _path_key(node, cfg, int(parts[1])) == "path":
                parts = [*parts[:2], "path"]
            out.append(at(parts, prob.message))
        raise InputError(out, CALIBRATION) from None


def concrete_paths(cfg: CalibrationFile, data: dict[str, Any], scenario_file: Path,
                   at: At) -> tuple[list[list[str]], list[list[str]]]:
    """Per parameter: the concrete scenario paths it sets, and the paths written to the calibrated
    scenario (groups expanded; `X.default` kept as written, set for the categories it covers).
    """
    problems: list[Problem] = []
    concrete: list[list[str]] = []
    written: list[list[str]] = []
    for i, p in enumerate(cfg.parameters):
        conc: list[str] = []
        wr: list[str] = []
        for j, pth in enumerate(p.paths):
            for c in expand_path(data, pth):
                if c.endswith(".default"):
                    cats = default_categories(scenario_file, c, p.prior.low, p.prior.high)
                    if not cats:
                        problems.append(at(["parameters", str(i), "paths", str(j)], f"{c!r}: the scenario gives every "
                                           "category its own value, so `default` applies to none; name the categories"))
                    conc += [f"{c[: -len('.default')]}.{cat}" for cat in cats]
                else:
                    conc.append(c)
                wr.append(c)
        concrete.append(list(dict.fromkeys(conc)))
        written.append(list(dict.fromkeys(wr)))
    if problems:
        raise InputError(problems, CALIBRATION)
    return concrete, written


def base_values(concrete: list[list[str]], data: dict[str, Any], at: At) -> list[float]:
    """The scenario's own value of every parameter: one number shared by all its concrete paths."""
    problems: list[Problem] = []
    values = []
    for i, paths in enumerate(concrete):
        found = []
        for c in paths:
            v = scenario_value(data, c.split("."))
            found += list(v.values()) if isinstance(v, dict) else [v]
        if any(not isinstance(v, int | float) or isinstance(v, bool) for v in found):
            problems.append(at(["parameters", str(i)], f"{', '.join(paths)}: not a number in the scenario ({found[0]!r})"))
        elif len(set(found)) > 1:
            problems.append(at(["parameters", str(i)], f"{', '.join(paths)}: the scenario has several values here "
                               f"({', '.join(f'{v:g}' for v in dict.fromkeys(found))}; by category or by path), so the "
                               "parameter has no single starting value; calibrate one category (`X.it_specialist`), "
                               "`X.default`, or paths that share one value"))
        else:
            values.append(float(found[0]))
    if problems:
        raise InputError(problems, CALIBRATION)
    return values


def prepare(params_file: str | Path, scenario_file: str | Path, *, overrides: dict[str, Any] | None = None,
            exclude: list[str] | None = None, include: list[str] | None = None) -> Setup:
    """Load the parameter file, the targets and the scenario, check every path and value (raising
    InputError with the file, line and field of each problem), and make the base plan.

    `overrides` replaces `abc` settings (the command line's --particles, --scale, ...); `exclude`
    adds target ids to `targets.exclude` (--exclude-target) and `include` removes them from it
    (--include-target).
    """
    params_file, scenario_file = Path(params_file), Path(scenario_file)
    cfg, node = load_params(params_file)
    n_file = len([t for t in cfg.targets.exclude if t not in (include or [])])
    cfg = with_targets(with_overrides(cfg, overrides), exclude, include)

    def at(parts: list[str], message: str) -> Problem:
        return Problem(".".join(parts), message, str(params_file), line_of(node, parts) or 1)

    tfile = (params_file.parent / cfg.targets.file) if cfg.targets.file else DEFAULT_PATH
    try:
        tf = load_targets(tfile)
    except InputError as exc:
        raise InputError([at(["targets", "file"], str(exc))], CALIBRATION) from None
    sc = load_scenario(scenario_file)  # an InputError names the scenario file itself
    problems = file_problems(cfg, node, {t.id for t in tf.mapped()}, n_file, at)
    if problems:
        raise InputError(problems, CALIBRATION)
    in_sample, holdout, notes, months = choose_targets(cfg, tf, sc, at)
    user_paths = [list(p.paths) for p in cfg.parameters]
    plan = checked_plan(experiment(cfg, scenario_file, user_paths, months, in_sample + holdout), cfg, node, at)
    data = plan.scenarios[scenario_file.stem].data
    concrete, written = concrete_paths(cfg, data, scenario_file, at)
    values = base_values(concrete, data, at)
    if concrete != user_paths:
        plan = make_plan(experiment(cfg, scenario_file, concrete, months, in_sample + holdout), name="calibration")
    return Setup(params_file, scenario_file, cfg, concrete, written, values, in_sample, holdout, notes, plan, Path(tfile))


__all__ = ["Setup", "base_values", "concrete_paths", "default_categories", "prepare", "scenario_value"]
