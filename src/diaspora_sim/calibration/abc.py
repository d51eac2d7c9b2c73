"""Calibration: behaviour and policy parameters fitted to the observed patterns by ABC-SMC.

A parameter file (``calibration/*.yaml``, schema :class:`CalibrationFile`) declares the
parameters to fit, each by its dotted scenario path(s) as for ``--set`` and with a uniform prior
``[low, high]``, and the settings of the approximate Bayesian computation. The distance of a
parameter vector is the mean discrepancy (``validation.discrepancy``; by default the absolute
log ratio, 0 inside a published range) over the in-sample targets: mapped, not ``holdout``, not
excluded by the file. Each parameter vector is simulated with the same seeds
``base_seed .. base_seed + replicates - 1`` (common random numbers across all vectors) and its
target values are the means over those seeds, so differences in distance between vectors are
not differences of random numbers.

The algorithm is ABC-SMC in its population Monte Carlo form (Beaumont, Cornuet, Marin and
Robert 2009, Biometrika 96:983; Toni et al. 2009, J. R. Soc. Interface 6:187), with the
tolerance of each generation set to a quantile of the previous generation's distances
(Del Moral, Doucet and Jasra 2012): generation 0 samples the prior; generation t resamples the
previous population by weight, perturbs with a Gaussian kernel of twice its weighted covariance,
redraws proposals outside the prior's support, and accepts those within the tolerance until
``particles`` are accepted; weights are ``prior / sum_j w_j K(theta | theta_j)``. Proposals are
simulated in batches through the experiments runner (``sweep.run_sweep``, any executor), and the
first accepted in proposal order are kept, so the result does not depend on which runs finish
first. The sampler's random numbers depend on ``abc.seed``, the generation and the batch only:
the same file, scenario and seed give the same posterior, and an interrupted calibration resumes
from the runs on disk.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..core.errors import InputError, Problem, pydantic_problems
from ..core.safe_yaml import file_locator, line_of, read_yaml
from ..scenario.loading import load_scenario
from ..scenario.schema import CATEGORIES

# --------------------------------------------------------------------------------------------
# The parameter file
# --------------------------------------------------------------------------------------------

CALIBRATION = "calibration parameters"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Prior(_Strict):
    """A prior distribution (uniform; `[low, high]` is accepted as shorthand)."""

    distribution: Literal["uniform"] = Field("uniform", description="Only `uniform` (flat between low and high).")
    low: float = Field(description="Lower end of the prior range.")
    high: float = Field(description="Upper end of the prior range (above low).")

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, data: Any) -> Any:
        if isinstance(data, list | tuple):
            if len(data) != 2:
                raise ValueError(f"a prior range is [low, high], found {list(data)}")
            return {"low": data[0], "high": data[1]}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> Prior:
        if not self.low < self.high:
            raise ValueError(f"the prior range must have low < high, found [{self.low}, {self.high}]")
        return self


class CalibratedParameter(_Strict):
    """A parameter to fit: one value written to one or more scenario paths."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Name in the posterior tables (lower case, digits, _).")
    paths: list[str] = Field(
        min_length=1,
        description="Dotted scenario paths that all receive the value, as for `--set` (`path:` for one). "
        "`hosts.@GROUP.rest` means every host of the group; `X.default` sets the value of the categories the "
        "scenario does not list under X. Timeline events cannot be calibrated.",
    )
    prior: Prior = Field(description="Prior distribution: `[low, high]` (uniform) or {distribution, low, high}.")
    description: str = Field("", description="What the parameter means and why its prior range.")
    moves: list[str] = Field(
        default_factory=list, description="Target ids the parameter was seen to move (documentation; checked to exist)."
    )

    @model_validator(mode="before")
    @classmethod
    def _path_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "path" in data and "paths" not in data:
            data = {**data, "paths": data["path"]}
            del data["path"]
        if isinstance(data, dict) and isinstance(data.get("paths"), str):
            data = {**data, "paths": [data["paths"]]}
        return data


class ABCSettings(_Strict):
    """Settings of the ABC-SMC sampler and of the runs it makes."""

    particles: int = Field(100, ge=4, le=100_000, description="Particles of each generation (the posterior sample size).")
    generations: int = Field(6, ge=1, le=100, description="Most generations (the first samples the prior).")
    quantile: float = Field(
        0.5, gt=0.0, lt=1.0, description="Tolerance of a generation: this quantile of the previous generation's distances."
    )
    max_simulations: int = Field(
        4000, ge=1, description="Most parameter vectors simulated in all (each with `replicates` runs); the last "
        "complete generation is the posterior when the budget runs out."
    )
    min_acceptance: float = Field(
        0.02, ge=0.0, lt=1.0, description="Stop after a generation whose acceptance rate fell below this."
    )
    replicates: int = Field(2, ge=1, le=50, description="Runs per parameter vector (seeds base_seed, base_seed + 1, ...).")
    base_seed: int = Field(1, ge=0, description="Seed of the first run of every parameter vector.")
    scale: float | None = Field(300.0, ge=1.0, description="Persons per agent in the runs (null: the scenario's).")
    months: int | None = Field(
        None, ge=1, le=600, description="Months simulated (null: up to the last month an in-sample target reads)."
    )
    distance: Literal["log_ratio", "relative"] = Field(
        "log_ratio", description="Discrepancy per target: |ln(model / observed)| or |model - observed| / observed."
    )
    kernel_scale: float = Field(2.0, gt=0.0, description="Perturbation covariance = this times the weighted covariance.")
    seed: int = Field(0, ge=0, description="Seed of the sampler's random numbers (prior draws, resampling, perturbation).")


class TargetSelection(_Strict):
    """Which targets the distance uses."""

    file: str | None = Field(None, description="Targets file, relative to this file (default: data/targets.yaml).")
    exclude: list[str] = Field(
        default_factory=list, description="In-sample target ids left out of the distance (holdouts are always left out)."
    )


class CalibrationFile(_Strict):
    """A calibration parameter file."""

    title: str = Field("", description="Short title.")
    description: str = Field("", description="What is calibrated and why these parameters.")
    parameters: list[CalibratedParameter] = Field(min_length=1, description="The parameters to fit.")
    abc: ABCSettings = Field(default_factory=ABCSettings, description="Sampler settings and run settings.")
    targets: TargetSelection = Field(default_factory=TargetSelection, description="Targets of the distance.")

    @field_validator("parameters")
    @classmethod
    def _unique(cls, v: list[CalibratedParameter]) -> list[CalibratedParameter]:
        names = [p.name for p in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"parameter names must be unique; repeated: {', '.join(dup)}")
        return v


def _read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    return read_yaml(path, CALIBRATION, empty_ok=False)


def load_params(path: str | Path) -> tuple[CalibrationFile, yaml.Node | None]:
    """Read and schema-validate a parameter file (paths are checked against a scenario by :func:`prepare`)."""
    path = Path(path)
    data, node = _read_yaml(path)
    try:
        return CalibrationFile.model_validate(data), node
    except ValidationError as exc:
        raise InputError(pydantic_problems(exc, CalibrationFile, file_locator(path, node)), CALIBRATION) from None


# --------------------------------------------------------------------------------------------
# Resolving a parameter file against a scenario and the targets
# --------------------------------------------------------------------------------------------


@dataclass
class Setup:
    """Everything a calibration needs, checked: the parameters' concrete paths, the targets, the base plan."""

    params_file: Path
    scenario_file: Path
    config: CalibrationFile
    concrete: list[list[str]]  # per parameter: the concrete scenario paths it sets
    written: list[list[str]]  # per parameter: the paths written to the calibrated scenario (`.default` kept)
    base_values: list[float]  # per parameter: the scenario's own value (at its first concrete path)
    in_sample: list[Any]  # Target
    holdout: list[Any]
    notes: list[str]
    plan: Any  # experiment.Plan of one point (its scenario, outputs, months, seeds)
    targets_file: Path

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.config.parameters]

    @property
    def lows(self) -> np.ndarray:
        return np.array([p.prior.low for p in self.config.parameters])

    @property
    def highs(self) -> np.ndarray:
        return np.array([p.prior.high for p in self.config.parameters])

    @property
    def seeds(self) -> list[int]:
        a = self.config.abc
        return [a.base_seed + r for r in range(a.replicates)]


def _get(obj: Any, parts: list[str]) -> Any:
    for part in parts:
        obj = obj[part] if isinstance(obj, dict) else (obj[int(part)] if isinstance(obj, list) else getattr(obj, part))
    return obj


def _default_categories(scenario_file: Path, path: str, lo: float, hi: float) -> list[str]:
    """The categories whose value a `X.default` path sets in the scenario file (those it does not list)."""
    parent = path[: -len(".default")]
    cats = set(CATEGORIES)
    for frac in (0.3141592, 0.6931472):  # two odd probe values: a category follows the default if it takes both
        probe = lo + frac * (hi - lo)
        sc = load_scenario(scenario_file, [f"{path}={probe!r}"])
        node = _get(sc, parent.split("."))
        cats &= {c for c in CATEGORIES if getattr(node, c, None) == probe}
    return [c for c in CATEGORIES if c in cats]


def prepare(params_file: str | Path, scenario_file: str | Path, *, overrides: dict[str, Any] | None = None,
            exclude: list[str] | None = None, include: list[str] | None = None) -> Setup:
    """Load the parameter file, the targets and the scenario, check every path and value (raising
    InputError with the file, line and field of each problem), and make the base plan.

    `overrides` replaces `abc` settings (the command line's --particles, --scale, ...); `exclude`
    adds target ids to `targets.exclude` (--exclude-target) and `include` removes them from it
    (--include-target).
    """
    from ..experiments.plan import Experiment, Parameter, expand_path, make_plan
    from ..validation.plan import output_selection, usable_targets
    from ..validation.targets import DEFAULT_PATH, last_month, load_targets

    params_file, scenario_file = Path(params_file), Path(scenario_file)
    cfg, node = load_params(params_file)
    if overrides:
        try:
            abc = ABCSettings.model_validate({**cfg.abc.model_dump(), **overrides})
        except ValidationError as exc:
            raise InputError([Problem(f"abc.{'.'.join(map(str, e['loc']))}", f"{e['msg']} (found {e.get('input')!r})",
                                            "command line") for e in exc.errors(include_url=False)]) from None
        cfg = cfg.model_copy(update={"abc": abc})
    file = str(params_file)
    unknown = [t for t in include or [] if t not in cfg.targets.exclude]
    if unknown:
        raise InputError([Problem("--include-target", f"{t!r} is not excluded by the parameter file (targets.exclude: "
                                        f"{', '.join(cfg.targets.exclude) or 'none'})", "command line") for t in unknown])
    extra = [t for t in exclude or [] if t not in cfg.targets.exclude]
    kept = [t for t in cfg.targets.exclude if t not in (include or [])]
    if extra or include:
        cfg = cfg.model_copy(update={"targets": cfg.targets.model_copy(update={"exclude": [*kept, *extra]})})

    def at(parts: list[str], message: str) -> Problem:
        return Problem(".".join(parts), message, file, line_of(node, parts) or 1)

    tfile = (params_file.parent / cfg.targets.file) if cfg.targets.file else DEFAULT_PATH
    try:
        tf = load_targets(tfile)
    except InputError as exc:
        raise InputError([at(["targets", "file"], str(exc))], CALIBRATION) from None
    sc = load_scenario(scenario_file)  # a InputError names the scenario file itself

    problems: list[Problem] = []
    mapped = {t.id for t in tf.mapped()}
    n_file = len(kept)
    for j, tid in enumerate(cfg.targets.exclude):
        if tid not in mapped:
            close = difflib.get_close_matches(tid, sorted(mapped), n=1)
            msg = f"no mapped target {tid!r}" + (f"; did you mean {close[0]!r}?" if close else "")
            problems.append(at(["targets", "exclude", str(j)], msg) if j < n_file
                            else Problem("--exclude-target", msg, "command line"))
    for i, p in enumerate(cfg.parameters):
        key = "path" if len(p.paths) == 1 and "paths" not in _keys(node, ["parameters", str(i)]) else "paths"
        for j, pth in enumerate(p.paths):
            where = ["parameters", str(i), key] + ([str(j)] if key == "paths" else [])
            if pth.split(".")[0] in ("timeline", "run"):
                problems.append(at(where, f"{pth!r}: `{pth.split('.')[0]}` cannot be calibrated (a calibrated scenario "
                                   "sets values through `extends`, which replaces a timeline as a whole)"))
        for j, tid in enumerate(p.moves):
            if tid not in mapped:
                problems.append(at(["parameters", str(i), "moves", str(j)], f"no mapped target {tid!r}"))
    if problems:
        raise InputError(problems, CALIBRATION)

    in_all = [t for t in tf.mapped() if t.id not in cfg.targets.exclude]
    needed = [t for t in in_all if not t.holdout]
    if not needed:
        raise InputError([at(["targets"], "no in-sample target is left for the distance")], CALIBRATION)
    months = cfg.abc.months or (max(1, _months_between(sc.run.start, last_month(needed))))
    usable, notes = usable_targets(tf, sc, months)
    usable = [t for t in usable if t.id not in cfg.targets.exclude]
    in_sample = [t for t in usable if not t.holdout]
    holdout = [t for t in usable if t.holdout]
    if not in_sample:
        raise InputError([at(["abc", "months"], f"no in-sample target falls within the {months} months simulated")], CALIBRATION)
    notes += [f"excluded by the parameter file: {tid}" for tid in cfg.targets.exclude]

    def experiment(paths: list[list[str]]) -> Any:
        return Experiment(
            title=cfg.title or f"Calibration of {scenario_file.name}",
            description="ABC-SMC calibration (diaspora_sim.calibration); the points are particles.",
            scenarios=[{"file": str(scenario_file.resolve()), "name": scenario_file.stem}],
            parameters=[Parameter(name=p.name, paths=ps, range=(p.prior.low, p.prior.high), description=p.description)
                        for p, ps in zip(cfg.parameters, paths, strict=True)],
            design={"method": "lhs", "samples": 1, "seed": cfg.abc.seed},
            replications=cfg.abc.replicates, seed=cfg.abc.base_seed, months=months, scale=cfg.abc.scale,
            outputs=output_selection(in_sample + holdout),
        )

    user_paths = [list(p.paths) for p in cfg.parameters]
    try:  # every path and both ends of every prior, checked by the experiments runner
        plan0 = make_plan(experiment(user_paths), name="calibration")
    except InputError as exc:
        out = []
        for prob in exc.problems:
            parts = prob.path.split(".")
            if len(parts) == 4 and parts[0] == "parameters" and parts[2] == "paths":
                i = int(parts[1])
                if "paths" not in _keys(node, ["parameters", parts[1]]) and len(user_paths[i]) == 1:
                    parts = parts[:3]
                    parts[2] = "path"
            out.append(at(parts, prob.message))
        raise InputError(out, CALIBRATION) from None

    concrete: list[list[str]] = []
    written: list[list[str]] = []
    data = plan0.scenarios[scenario_file.stem].data
    for i, p in enumerate(cfg.parameters):
        conc: list[str] = []
        wr: list[str] = []
        for j, pth in enumerate(p.paths):
            for c in expand_path(data, pth):
                if c.endswith(".default"):
                    cats = _default_categories(scenario_file, c, p.prior.low, p.prior.high)
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
    base_values = []
    for i, paths in enumerate(concrete):
        found = []
        for c in paths:
            v = _get(data, c.split("."))
            found += list(v.values()) if isinstance(v, dict) else [v]
        if any(not isinstance(v, int | float) or isinstance(v, bool) for v in found):
            problems.append(at(["parameters", str(i)], f"{', '.join(paths)}: not a number in the scenario ({found[0]!r})"))
        elif len(set(found)) > 1:
            problems.append(at(["parameters", str(i)], f"{', '.join(paths)}: the scenario has several values here "
                               f"({', '.join(f'{v:g}' for v in dict.fromkeys(found))}; by category or by path), so the "
                               "parameter has no single starting value; calibrate one category (`X.it_specialist`), "
                               "`X.default`, or paths that share one value"))
        else:
            base_values.append(float(found[0]))
    if problems:
        raise InputError(problems, CALIBRATION)
    plan = plan0 if concrete == user_paths else make_plan(experiment(concrete), name="calibration")
    return Setup(params_file, scenario_file, cfg, concrete, written, base_values, in_sample, holdout, notes, plan,
                 Path(tfile))


def _keys(node: yaml.Node | None, parts: list[str]) -> set[str]:
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
        else:
            return set()
    return {k.value for k, _ in node.value} if isinstance(node, yaml.MappingNode) else set()


def _months_between(start: str, last: str) -> int:
    from ..scenario.schema import month_number

    return month_number(last) - month_number(start) + 1


# --------------------------------------------------------------------------------------------
# Simulating parameter vectors through the experiments runner
# --------------------------------------------------------------------------------------------


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def plan_for_points(setup: Setup, points: np.ndarray, tag: str) -> Any:
    """A plan of the experiments runner that runs every parameter vector (row of `points`) with the
    calibration's seeds; run ids depend on the tag, the vector's index and values and the seed.
    """
    from ..experiments.plan import Design, RunTask

    base = setup.plan
    (sname, spec), = base.scenarios.items()
    names = setup.names
    template = base.tasks[0]
    types = tuple((n, "double") for n in names)
    pts = [{n: float(x) for n, x in zip(names, row, strict=True)} for row in np.atleast_2d(points)]
    tasks = []
    for r, seed in enumerate(setup.seeds):
        for k, pt in enumerate(pts):
            assignments = tuple((c, pt[n]) for n, paths in zip(names, setup.concrete, strict=True) for c in paths)
            run_id = _digest({"scenario": spec.sha256, "tag": tag, "k": k, "assignments": assignments,
                              "months": spec.months, "seed": seed})[:20]
            tasks.append(RunTask(run_id, sname, spec.sha256, k, pt, assignments, r, seed, spec.months,
                                 template.outputs, types))
    exp = base.experiment.model_copy(update={
        "title": f"{base.experiment.title}: {tag}",
        "design": Design(method="lhs", samples=len(pts), seed=setup.config.abc.seed),
    })
    return replace(base, experiment=exp, name=tag, source=str(setup.params_file), points=pts,
                   design=np.atleast_2d(points), param_types=dict(types), tasks=tasks)


@dataclass
class RunOptions:
    """How the runs are executed (the experiments runner's options)."""

    executor: str = "local"
    workers: int | None = None
    scheduler: str | None = None
    retries: int = 2
    progress: bool = True
    runs_made: int = 0  # counted by simulate_points: runs made in this process ...
    runs_reused: int = 0  # ... and completed runs found on disk (an earlier, interrupted or identical call)


class RunsFailedError(Exception):
    """Some runs of a batch failed or the batch was interrupted."""


def simulate_points(setup: Setup, points: np.ndarray, tag: str, folder: Path, opts: RunOptions) -> pd.DataFrame:
    """Run every parameter vector with the calibration's seeds; per vector (row, in order): the
    target values (means over seeds, in-sample and holdout) and the distance.
    """
    from ..experiments.results import Results
    from ..experiments.sweep import run_sweep
    from ..validation.plan import output_selection
    from ..validation.values import target_values

    plan = plan_for_points(setup, points, tag)
    report = run_sweep(plan, folder, executor=opts.executor, workers=opts.workers, scheduler=opts.scheduler,
                       max_retries=opts.retries, progress=opts.progress)
    opts.runs_made += report.ran
    opts.runs_reused += report.already_done
    if report.interrupted:
        raise RunsFailedError(f"interrupted: re-run the same command to resume (runs so far are in {folder})")
    if not report.ok:
        first = next(iter(report.failed.items()), ("?", "?"))
        raise RunsFailedError(f"{len(report.failed)} runs of {tag} failed (e.g. {first[0]}: {first[1]}); tracebacks in "
                         f"{folder / 'failed'}; re-run the same command to retry them")
    targets = setup.in_sample + setup.holdout
    res = Results.open(folder)
    keep = output_selection(targets)
    table = res.timeseries(metrics=keep["metrics"], columns=["run_id", "date", "host", "category", "metric", "value"])
    values = target_values(targets, table)
    point_of = {t.run_id: t.point for t in plan.tasks}
    values["point"] = values.index.map(point_of)
    means = values.groupby("point").mean().reindex(range(len(plan.points)))
    means["distance"] = distances(setup, means)
    return means.reset_index(drop=True)


def distances(setup: Setup, values: pd.DataFrame) -> np.ndarray:
    """The distance of each row of target values: mean discrepancy over the in-sample targets (inf if undefined)."""
    from ..validation.scores import discrepancy

    kind = setup.config.abc.distance
    x = values[[t.id for t in setup.in_sample]].to_numpy(dtype=float)
    d = np.array([[discrepancy(t.observed, float(v), kind) for t, v in zip(setup.in_sample, row, strict=True)]
                  for row in x], float)
    out = d.mean(axis=1) if len(d) else np.zeros(0)
    return np.where(np.isfinite(out), out, np.inf)


# --------------------------------------------------------------------------------------------
# ABC-SMC (population Monte Carlo) on numpy
# --------------------------------------------------------------------------------------------


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float | np.ndarray) -> Any:
    """Quantile(s) of weighted values (weights at the midpoints of their cumulative mass, interpolated)."""
    x, w = np.asarray(x, float), np.asarray(w, float)
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order] / w.sum()
    cum = np.cumsum(w) - w / 2
    return np.interp(q, cum, x)


def _mvn_density(diff: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Density of N(0, cov) at each row of `diff` (... x d)."""
    d = cov.shape[0]
    chol = np.linalg.cholesky(cov)
    z = np.linalg.solve(chol, diff.reshape(-1, d).T).T
    log_det = 2 * np.log(np.diag(chol)).sum()
    dens = np.exp(-0.5 * (z**2).sum(axis=1) - 0.5 * (d * math.log(2 * math.pi) + log_det))
    return dens.reshape(diff.shape[:-1])


@dataclass
class ABCResult:
    """The final population and the history of the sampler."""

    names: list[str]
    lows: np.ndarray
    highs: np.ndarray
    particles: np.ndarray  # N x d
    weights: np.ndarray
    distances: np.ndarray
    values: pd.DataFrame  # target values of the particles (rows aligned)
    generations: list[dict[str, Any]]
    simulations: int
    stop_reason: str
    seconds: float = 0.0

    @property
    def ess(self) -> float:
        """Effective sample size of the weights."""
        return float(1.0 / np.sum(self.weights**2))

    def summary(self) -> pd.DataFrame:
        """Per parameter: prior range, weighted mean, sd, median and 5 %, 95 % quantiles (90 % credible interval)."""
        rows = []
        w = self.weights
        for j, n in enumerate(self.names):
            x = self.particles[:, j]
            mean = float(np.sum(w * x))
            q05, q50, q95 = weighted_quantile(x, w, [0.05, 0.5, 0.95])
            rows.append({"parameter": n, "prior_low": float(self.lows[j]), "prior_high": float(self.highs[j]),
                         "median": float(q50), "q05": float(q05), "q95": float(q95), "mean": mean,
                         "sd": float(np.sqrt(np.sum(w * (x - mean) ** 2)))})
        return pd.DataFrame(rows)


Simulator = Callable[[np.ndarray, str], pd.DataFrame]
"""simulate(points, tag) -> one row per point with a 'distance' column (and any target values)."""


def abc_smc(simulate: Simulator, names: list[str], lows: np.ndarray, highs: np.ndarray, settings: ABCSettings,
            log: Callable[[str], None] = lambda s: None) -> ABCResult:
    """ABC-SMC (population Monte Carlo with adaptive tolerances); see the module docstring."""
    started = time.perf_counter()
    n, d = settings.particles, len(names)
    lows, highs = np.asarray(lows, float), np.asarray(highs, float)
    budget = settings.max_simulations
    if budget < n:
        raise ValueError(f"max_simulations ({budget}) is below the number of particles ({n})")
    rng = np.random.default_rng([settings.seed, 0, 0])
    pts = lows + (highs - lows) * rng.random((n, d))
    t0 = time.perf_counter()
    frame = simulate(pts, "g00-b00")
    sims = n
    pop, dist = pts, frame["distance"].to_numpy(float)
    w = np.full(n, 1.0 / n)
    vals = frame.reset_index(drop=True)
    history = [{"generation": 0, "epsilon": math.inf, "simulations": n, "accepted": n, "acceptance_rate": 1.0,
                "ess": float(n), "median_distance": float(np.median(dist)), "min_distance": float(dist.min()),
                "seconds": time.perf_counter() - t0}]
    log(f"generation 0: {n} prior draws, distances median {np.median(dist):.3f}, min {dist.min():.3f}")
    stop = f"{settings.generations} generations done"
    for g in range(1, settings.generations):
        t0 = time.perf_counter()
        finite = np.isfinite(dist)
        eps = float(weighted_quantile(dist[finite], w[finite], settings.quantile)) if finite.any() else math.inf
        cov = settings.kernel_scale * np.atleast_2d(np.cov(pop.T, aweights=w, ddof=0))
        cov += np.diag(((highs - lows) * 1e-6) ** 2)  # a degenerate population still has a valid kernel
        chol = np.linalg.cholesky(cov)
        acc_pts: list[np.ndarray] = []
        acc_rows: list[pd.DataFrame] = []
        sims_g, b = 0, 0
        while len(acc_pts) < n:
            left = budget - sims
            if left <= 0:
                break
            need = n - len(acc_pts)
            rate = len(acc_pts) / sims_g if sims_g else settings.quantile
            size = int(min(left, max(need, math.ceil(1.15 * need / max(rate, 0.05)))))
            brng = np.random.default_rng([settings.seed, g, b])
            props = np.empty((size, d))
            filled = 0
            for _ in range(10_000):  # redraw proposals outside the prior's support
                k = size - filled
                parents = brng.choice(n, size=k, p=w)
                cand = pop[parents] + brng.standard_normal((k, d)) @ chol.T
                ok = np.all((cand >= lows) & (cand <= highs), axis=1)
                props[filled: filled + ok.sum()] = cand[ok]
                filled += int(ok.sum())
                if filled == size:
                    break
            else:
                raise RuntimeError("the perturbation kernel keeps leaving the prior's support")
            frame = simulate(props, f"g{g:02d}-b{b:02d}")
            sims += size
            sims_g += size
            dd = frame["distance"].to_numpy(float)
            for k in np.flatnonzero(dd <= eps)[:need]:
                acc_pts.append(props[k])
                acc_rows.append(frame.iloc[[k]])
            log(f"generation {g}, batch {b}: {size} proposals, {int((dd <= eps).sum())} within epsilon {eps:.3f}; "
                f"{len(acc_pts)}/{n} accepted, {sims} of {budget} simulations used")
            b += 1
        if len(acc_pts) < n:
            stop = f"simulation budget ({budget}) used up in generation {g}; the posterior is generation {g - 1}"
            log(stop)
            break
        new = np.array(acc_pts)
        dens = _mvn_density(new[:, None, :] - pop[None, :, :], cov)  # n_new x n_old
        nw = 1.0 / (dens @ w)  # uniform prior: constant inside the support
        nw = nw / nw.sum()
        pop, w = new, nw
        vals = pd.concat(acc_rows, ignore_index=True)
        dist = vals["distance"].to_numpy(float)
        rate = n / sims_g
        history.append({"generation": g, "epsilon": eps, "simulations": sims_g, "accepted": n, "acceptance_rate": rate,
                        "ess": float(1.0 / np.sum(w**2)), "median_distance": float(np.median(dist)),
                        "min_distance": float(dist.min()), "seconds": time.perf_counter() - t0})
        log(f"generation {g}: epsilon {eps:.3f}, acceptance {rate:.1%}, ESS {1.0 / np.sum(w ** 2):.0f}, "
            f"distances median {np.median(dist):.3f}")
        if rate < settings.min_acceptance:
            stop = f"acceptance rate {rate:.1%} below min_acceptance {settings.min_acceptance:.1%} in generation {g}"
            break
    return ABCResult(list(names), lows, highs, pop, w, dist, vals, history, sims, stop, time.perf_counter() - started)


# --------------------------------------------------------------------------------------------
# Outputs: posterior tables, summary, figure, calibrated scenario
# --------------------------------------------------------------------------------------------


def round_sig(x: float, digits: int = 4) -> float:
    """`x` rounded to `digits` significant digits (the values written to the calibrated scenario)."""
    return float(f"{x:.{digits}g}")


def calibrated_data(setup: Setup, values: dict[str, float]) -> dict[str, Any]:
    """The body of the calibrated scenario: `extends` plus every calibrated path, nested."""
    body: dict[str, Any] = {}
    for name, paths in zip(setup.names, setup.written, strict=True):
        for pth in paths:
            node = body
            parts = pth.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = values[name]
    return body


def write_scenario(setup: Setup, values: dict[str, float], dest: Path, header: str) -> Path:
    """Write a scenario that `extends` the calibrated one and sets `values` (by parameter name); it is
    loaded and checked before it is renamed into place.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    base = os.path.relpath(setup.scenario_file.resolve(), dest.parent.resolve())
    doc = {"extends": base, **calibrated_data(setup, values)}
    text = header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    try:
        sc = load_scenario(tmp)
        for name, paths in zip(setup.names, setup.concrete, strict=True):
            for c in paths:
                node = _get(sc, c.split("."))
                got = [getattr(node, k) for k in CATEGORIES] if hasattr(node, CATEGORIES[0]) else [node]
                if not all(math.isclose(float(g), values[name], rel_tol=1e-9, abs_tol=1e-12) for g in got):
                    raise RuntimeError(f"the calibrated scenario gives {c} = {got}, not {values[name]}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def scenario_header(setup: Setup, summary: pd.DataFrame, meta: dict[str, Any]) -> str:
    """The comment at the top of a calibrated scenario: how it was produced, the posterior, the fit."""
    a = setup.config.abc
    lines = [
        f"Calibrated: {setup.scenario_file.name} with the posterior medians of an ABC-SMC calibration to "
        f"{len(setup.in_sample)} in-sample",
        f"targets of {meta['targets_file']} (not used: the holdouts"
        + (f"; excluded: {', '.join(setup.config.targets.exclude)}" if setup.config.targets.exclude else "") + ").",
        "",
        f"Produced by: {meta['command']}",
        f"on {meta['date']} (diaspora_sim {meta['version']}, model code {meta['code_fingerprint']}): "
        f"{meta['simulations']} parameter vectors x {a.replicates} runs; {_made(meta)} in {meta['seconds'] / 60:.1f} min",
        f"(seeds {setup.seeds[0]}-{setup.seeds[-1]}, scale {_scale(a.scale)}, {meta['months']} months), "
        f"{len(meta['generations'])} generations of {a.particles} particles (stopped: {meta['stop_reason']}).",
        "",
        "Posterior median [90% credible interval] (prior range):",
    ]
    for r in summary.itertuples():
        lines.append(f"  {r.parameter}: {round_sig(r.median)} [{round_sig(r.q05, 3)}, {round_sig(r.q95, 3)}] "
                     f"({r.prior_low:g} to {r.prior_high:g})")
    lines += [
        "",
        f"Distance ({a.distance}, mean over {len(setup.in_sample)} in-sample targets, at the calibration seeds):",
        f"  {meta['distance_base']:.3f} with {setup.scenario_file.name}'s own values, {meta['distance_median']:.3f} "
        "with these medians.",
        f"Posterior samples and summary: {meta['posterior']}. Re-running the command gives the same values.",
    ]
    return "".join(f"# {ln}".rstrip() + "\n" for ln in lines)


def posterior_figure(result: ABCResult, summary: pd.DataFrame, base_values: list[float], path: Path) -> Path:
    """Weighted histograms of the marginal posteriors over the prior ranges."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plots.figures import _PNG

    d = len(result.names)
    cols = min(3, d)
    rows = math.ceil(d / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.3 * cols, 2.9 * rows), squeeze=False)
    for j, (ax, name) in enumerate(zip(axes.flat, result.names, strict=False)):
        lo, hi = result.lows[j], result.highs[j]
        ax.hist(result.particles[:, j], bins=20, range=(lo, hi), weights=result.weights, color="tab:blue", alpha=0.7)
        r = summary.iloc[j]
        ax.axvline(r["median"], color="black", lw=1.5, label="median")
        ax.axvspan(r["q05"], r["q95"], color="tab:blue", alpha=0.12, label="90% credible interval")
        ax.axvline(base_values[j], color="crimson", ls="--", lw=1.2, label="scenario's own value")
        ax.set_xlim(lo, hi)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    for ax in list(axes.flat)[d:]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8)
    fig.suptitle("Posterior marginals (weighted particles) over the prior ranges", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    fig.savefig(path, dpi=90, **_PNG)
    plt.close(fig)
    return path


def summary_markdown(setup: Setup, result: ABCResult, summary: pd.DataFrame, meta: dict[str, Any]) -> str:
    """The posterior summary as markdown."""
    a = setup.config.abc
    lines = [
        f"# Posterior: {setup.config.title or setup.params_file.name}",
        "",
        f"- command: `{meta['command']}`",
        f"- scenario `{setup.scenario_file}`; parameters `{setup.params_file}`; targets `{meta['targets_file']}`",
        f"- ABC-SMC: {a.particles} particles, tolerance = {a.quantile:g} quantile of the previous generation's "
        f"distances, kernel {a.kernel_scale:g} x weighted covariance, sampler seed {a.seed}; distance {a.distance}",
        f"- runs: seeds {setup.seeds[0]}-{setup.seeds[-1]} for every vector, scale {_scale(a.scale)}, "
        f"{meta['months']} months; {meta['simulations']} vectors simulated ({meta['simulations'] * a.replicates} runs, "
        f"and {2 * a.replicates} runs to check the medians); {_made(meta)} in {meta['seconds'] / 60:.1f} min",
        f"- stopped: {meta['stop_reason']}; effective sample size {result.ess:.0f}",
        "",
        "| parameter | paths | prior | scenario's own value | posterior median | 90% credible interval | mean | sd |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r, paths, base in zip(summary.itertuples(), setup.written, setup.base_values, strict=True):
        lines.append(f"| {r.parameter} | {', '.join(f'`{p}`' for p in paths)} | [{r.prior_low:g}, {r.prior_high:g}] "
                     f"| {base:g} | {round_sig(r.median)} | [{round_sig(r.q05, 3)}, {round_sig(r.q95, 3)}] "
                     f"| {round_sig(r.mean, 3)} | {round_sig(r.sd, 2)} |")
    lines += [
        "",
        "| generation | epsilon | vectors simulated | acceptance | ESS | median distance | min distance | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for h in result.generations:
        lines.append(f"| {h['generation']} | {h['epsilon']:.3f} | {h['simulations']} | {h['acceptance_rate']:.1%} "
                     f"| {h['ess']:.0f} | {h['median_distance']:.3f} | {h['min_distance']:.3f} | {h['seconds']:.0f} |")
    lines += [
        "",
        f"Distance at the calibration seeds: {meta['distance_base']:.3f} with the scenario's own values, "
        f"{meta['distance_median']:.3f} with the posterior medians (rounded as written), "
        f"{np.median(result.distances):.3f} median over the posterior particles.",
        "",
        f"In-sample targets ({len(setup.in_sample)}): {', '.join(t.id for t in setup.in_sample)}.",
        f"Holdout targets (not in the distance; their values are in particles.csv): "
        f"{', '.join(t.id for t in setup.holdout) or 'none'}.",
        "",
        "![posterior](posterior.png)",
        "",
    ]
    if setup.notes:
        lines += ["Notes:", "", *[f"- {n}" for n in setup.notes], ""]
    return "\n".join(lines)


@dataclass
class Calibration:
    """What a calibration produced."""

    setup: Setup
    result: ABCResult
    summary: pd.DataFrame
    medians: dict[str, float]
    meta: dict[str, Any] = field(default_factory=dict)
    folder: Path | None = None
    scenario: Path | None = None


def calibrate(setup: Setup, out: str | Path, *, opts: RunOptions | None = None, scenario_out: str | Path | None = None,
              command: str = "", log: Callable[[str], None] | None = None) -> Calibration:
    """Run the ABC-SMC calibration; write ``out/posterior/`` (atomically) and the calibrated scenario."""
    from .. import __version__
    from ..experiments.sweep import code_fingerprint

    out = Path(out)
    opts = opts or RunOptions()
    log = log or (lambda s: print(s, file=sys.stderr))
    runs = out / "runs"
    runs.mkdir(parents=True, exist_ok=True)

    def simulate(points: np.ndarray, tag: str) -> pd.DataFrame:
        return simulate_points(setup, points, tag, runs / tag, opts)

    started = time.perf_counter()
    result = abc_smc(simulate, setup.names, setup.lows, setup.highs, setup.config.abc, log)
    summary = result.summary()
    medians = {r.parameter: round_sig(r.median) for r in summary.itertuples()}
    check = simulate(np.array([setup.base_values, [medians[n] for n in setup.names]]), "check")
    seconds = time.perf_counter() - started
    meta = {
        "command": command, "date": datetime.now(UTC).strftime("%Y-%m-%d"), "version": __version__,
        "code_fingerprint": code_fingerprint(), "seconds": seconds, "simulations": result.simulations,
        "months": setup.plan.scenarios[setup.scenario_file.stem].months, "stop_reason": result.stop_reason,
        "generations": result.generations, "targets_file": _rel(setup.targets_file),
        "distance_base": float(check["distance"].iloc[0]), "distance_median": float(check["distance"].iloc[1]),
        "check_values": json.loads(check.to_json(orient="records")),
        "posterior": _rel(out / "posterior"), "runs_made": opts.runs_made, "runs_reused": opts.runs_reused,
    }
    folder = out / "posterior"
    tmp = out / f".posterior.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        parts = pd.DataFrame(result.particles, columns=setup.names)
        parts.insert(0, "particle", range(len(parts)))
        parts.insert(1, "weight", result.weights)
        parts.insert(2, "distance", result.distances)
        vals = result.values.drop(columns=["distance"], errors="ignore").reset_index(drop=True)
        parts = pd.concat([parts, vals], axis=1)
        parts.to_parquet(tmp / "particles.parquet", index=False)
        parts.to_csv(tmp / "particles.csv", index=False)
        pd.DataFrame(result.generations).to_csv(tmp / "generations.csv", index=False)
        summary.to_csv(tmp / "summary.csv", index=False)
        posterior_figure(result, summary, setup.base_values, tmp / "posterior.png")
        header = scenario_header(setup, summary, meta)
        doc = {
            "params_file": str(setup.params_file), "scenario": str(setup.scenario_file),
            "settings": setup.config.abc.model_dump(mode="json"), "seeds": setup.seeds,
            "parameters": [{**r, "paths": paths, "written_paths": wr, "scenario_value": base,
                            "written_value": medians[r["parameter"]]}
                           for r, paths, wr, base in zip(summary.to_dict("records"), setup.concrete, setup.written,
                                                         setup.base_values, strict=True)],
            "in_sample_targets": [t.id for t in setup.in_sample], "holdout_targets": [t.id for t in setup.holdout],
            "notes": setup.notes, "ess": result.ess, **meta,
        }
        (tmp / "summary.json").write_text(json.dumps(doc, indent=1, default=float) + "\n", encoding="utf-8")
        (tmp / "summary.md").write_text(summary_markdown(setup, result, summary, meta), encoding="utf-8")
        # the folder's copy extends the scenario by a path valid from `folder` (a sibling of `tmp`)
        write_scenario(setup, medians, tmp / "calibrated_scenario.yaml", header)
        scen = folder / "calibrated_scenario.yaml"
        if scenario_out is not None:
            scen = write_scenario(setup, medians, Path(scenario_out), header)
        old = out / f".posterior.old-{os.getpid()}"
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Calibration(setup, result, summary, medians, meta, folder, scen)


def _made(meta: dict[str, Any]) -> str:
    if not meta.get("runs_reused"):
        return f"{meta['runs_made']} runs made"
    return f"{meta['runs_made']} runs made, {meta['runs_reused']} reused from an earlier call"


def _scale(scale: float | None) -> str:
    return "of the scenario" if scale is None else f"{scale:g}"


def _rel(path: Path) -> str:
    try:
        return os.path.relpath(path.resolve(), Path.cwd())
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------------------------
# Screening: which targets each parameter moves
# --------------------------------------------------------------------------------------------


def screen(setup: Setup, out: str | Path, opts: RunOptions | None = None) -> pd.DataFrame:
    """One parameter at a time at the ends of its prior (the others at the scenario's values), with
    the calibration's seeds: each target's relative change from the scenario's own values.
    """
    opts = opts or RunOptions()
    base = np.array(setup.base_values, float)
    pts, labels = [base], [("scenario", "own value", math.nan)]
    for j, name in enumerate(setup.names):
        for end, v in (("low", setup.lows[j]), ("high", setup.highs[j])):
            p = base.copy()
            p[j] = v
            pts.append(p)
            labels.append((name, end, float(v)))
    frame = simulate_points(setup, np.array(pts), "screen", Path(out) / "runs" / "screen", opts)
    ids = [t.id for t in setup.in_sample + setup.holdout]
    ref = frame.iloc[0][ids].astype(float)
    rows = []
    for (name, end, v), (_, r) in zip(labels, frame.iterrows(), strict=True):
        row = {"parameter": name, "end": end, "value": v, "distance": r["distance"]}
        for tid in ids:
            x = float(r[tid])
            row[tid] = x if name == "scenario" else ((x - ref[tid]) / abs(ref[tid]) if ref[tid] else math.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def screen_markdown(setup: Setup, table: pd.DataFrame, threshold: float = 0.1) -> str:
    """Which targets each parameter moves by more than `threshold` (relative) at an end of its prior."""
    ids = [t.id for t in setup.in_sample + setup.holdout]
    lines = [f"Relative change of each target from the scenario's own values, one parameter at a time at the ends of "
             f"its prior (seeds {setup.seeds[0]}-{setup.seeds[-1]}, scale {_scale(setup.config.abc.scale)}); changes above "
             f"{threshold:.0%} listed.", "",
             "| parameter | low end | high end | distance low / high |", "|---|---|---|---|"]
    base = table.iloc[0]
    for name in setup.names:
        sub = table[table["parameter"] == name].set_index("end")
        cells = []
        for end in ("low", "high"):
            moved = [f"{tid} {sub.loc[end, tid]:+.0%}" for tid in ids
                     if math.isfinite(sub.loc[end, tid]) and abs(sub.loc[end, tid]) > threshold]
            cells.append(f"({sub.loc[end, 'value']:g}) " + (", ".join(moved) or "none"))
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | {sub.loc['low', 'distance']:.3f} / "
                     f"{sub.loc['high', 'distance']:.3f} |")
    lines += ["", f"Distance with the scenario's own values: {base['distance']:.3f}."]
    return "\n".join(lines) + "\n"


__all__ = [
    "ABCResult",
    "ABCSettings",
    "Calibration",
    "CalibrationFile",
    "RunOptions",
    "RunsFailedError",
    "Setup",
    "abc_smc",
    "calibrate",
    "load_params",
    "plan_for_points",
    "prepare",
    "screen",
    "simulate_points",
    "weighted_quantile",
    "write_scenario",
]
