"""Designs: the parameter points of an experiment (a grid, or Latin hypercube, Sobol or Morris samples
of the parameters' ranges drawn with SALib, or explicit points), and the SALib problem they share
with the sensitivity indices (:mod:`diaspora_sim.analysis.sensitivity`).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
from SALib.sample import latin, morris, sobol

from ..core.errors import InputError, Problem
from .spec import Experiment, Parameter


def salib_problem(parameters: Sequence[Parameter]) -> dict[str, Any]:
    """The SALib problem of parameters sampled from their ranges: num_vars, names, bounds."""
    return {"num_vars": len(parameters), "names": [p.name for p in parameters],
            "bounds": [list(p.range) for p in parameters]}


def design_seed(exp: Experiment) -> int:
    """The seed of the sampler (and of the sensitivity analysis): the design's, else the experiment's."""
    return exp.seed if exp.design.seed is None else exp.design.seed


def design_points(exp: Experiment) -> tuple[list[dict[str, Any]], np.ndarray | None]:
    """The parameter points of the design, and the sampler's matrix (None for a grid)."""
    params = exp.parameters
    if not params:
        return [{}], None
    d = exp.design
    if d.method == "grid":
        return [dict(zip([p.name for p in params], combo, strict=True))
                for combo in itertools.product(*[p.values or [] for p in params])], None
    problem = salib_problem(params)
    seed = design_seed(exp)
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


def param_types(exp: Experiment, points: list[dict[str, Any]]) -> dict[str, str]:
    """The Arrow type of every parameter's values (the type of its column in the results tables)."""
    types = {}
    for i, p in enumerate(exp.parameters):
        try:
            arrow = pa.array([pt[p.name] for pt in points]).type
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            raise InputError([Problem(f"parameters.{i}.values", "the values of a parameter must share one type "
                                           "(all numbers, all true/false or all text)")]) from None
        types[p.name] = str(arrow)
    return types


__all__ = ["design_points", "design_seed", "explicit_points", "param_types", "salib_problem"]
