"""How far a model value is from an observation: discrepancy, averaged relative difference, verdict.

Discrepancy of a value ``x`` with an observation (docs/validation.md, section 2):

- a published range or bound (``low`` and/or ``high``): 0 inside; outside, the distance to the
  violated bound ``b`` relative to it, ``|x - b| / |b|``; a violated bound at 0 (``> 0``, a
  qualitative fact) counts 1;
- a point value ``v``: ``|x - v| / |v|``.

A range takes precedence over a point value given with it. ARD = the mean of the target
discrepancies over a set of targets. Flee (Suleimenova, Bell and Groen 2017, Sci. Rep. 7:13377)
averages, over days, the sum over camps of ``|simulated - observed|`` divided by the observed
total; our targets are at different dates and in different units (persons, shares), so each
is made relative to its own observed value before averaging. With ``kind="log_ratio"`` the
discrepancy is ``|ln(x / ref)|`` instead (``x`` floored at 1 % of ``ref``; a violated bound at
0 counts 1), the distance used by calibration.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from .targets import Observed, Target

DEFAULT_TOLERANCE = 0.25
"""A point target is matched when the model mean is within this relative difference of it."""
LOG_FLOOR = 0.01
"""A log-ratio discrepancy floors the model value at this fraction of the observed one."""
Kind = Literal["relative", "log_ratio"]


def reference(obs: Observed, x: float) -> tuple[float | None, bool]:
    """The observed number `x` is compared with, and whether `x` satisfies the observation.

    For a range or bound: the violated bound (None when `x` is inside). For a point: the value.
    """
    if obs.low is not None or obs.high is not None:
        if obs.contains(x):
            return None, True
        low_violated = obs.low is not None and (x <= obs.low if obs.low_exclusive else x < obs.low)
        return (obs.low if low_violated else obs.high), False
    return obs.value, False


def _settled(obs: Observed, x: float) -> tuple[float, float | None]:
    """The reference to measure `x` from, or the result itself when there is nothing to measure:
    0 when `x` satisfies the observation, NaN when `x` is undefined or nothing numeric was observed.
    """
    if x is None or not math.isfinite(x):
        return math.nan, math.nan
    ref, inside = reference(obs, x)
    if inside:
        return math.nan, 0.0
    return (math.nan, math.nan) if ref is None else (ref, None)


def discrepancy(obs: Observed, x: float, kind: Kind = "relative") -> float:
    """Discrepancy of the value `x` with an observation (0 is a perfect fit); NaN if `x` is NaN
    or nothing numeric was observed. Definitions in the module docstring.
    """
    ref, settled = _settled(obs, x)
    if settled is not None:
        return settled
    if ref == 0:
        bounded = obs.low is not None or obs.high is not None
        return 1.0 if bounded or x != 0 else 0.0  # a violated bound at 0 (a qualitative fact) counts 1
    if kind == "relative":
        return abs(x - ref) / abs(ref)
    if kind == "log_ratio":
        if ref < 0:
            raise ValueError("a log ratio needs a positive observed value")
        return abs(math.log(max(x, LOG_FLOOR * ref) / ref))
    raise ValueError(f"unknown discrepancy kind {kind!r}")


def signed_difference(obs: Observed, x: float) -> float:
    """Relative difference with its sign: ``(x - ref) / |ref|`` (0 inside a range; NaN if undefined)."""
    ref, settled = _settled(obs, x)
    if settled is not None:
        return settled
    if ref == 0:
        if obs.low is not None or obs.high is not None:  # a violated bound at 0
            return -1.0 if obs.low == 0 and x <= 0 else 1.0
        return 0.0 if x == 0 else math.copysign(1.0, x)
    return (x - ref) / abs(ref)


def ard(targets: list[Target], values: dict[str, float], kind: Kind = "relative") -> float:
    """Averaged relative difference: the mean discrepancy of `values` (by target id) over `targets`.

    NaN if any value is missing or undefined (the caller chooses the targets all predictors define).
    """
    if not targets:
        return math.nan
    d = [discrepancy(t.observed, values.get(t.id, math.nan), kind) for t in targets]
    return float(np.mean(d)) if all(math.isfinite(v) for v in d) else math.nan


def mean_discrepancy(targets: list[Target], values: np.ndarray, kind: Kind = "relative") -> np.ndarray:
    """The mean discrepancy of each row of `values` (one column per target, in order): the
    distance of calibration; inf where a value is undefined.
    """
    x = np.atleast_2d(np.asarray(values, dtype=float))
    d = np.array([[discrepancy(t.observed, float(v), kind) for t, v in zip(targets, row, strict=True)] for row in x], float)
    out = d.mean(axis=1) if d.size else np.zeros(len(x))
    return np.where(np.isfinite(out), out, np.inf)


def verdict(t: Target, mean: float, tolerance: float = DEFAULT_TOLERANCE) -> tuple[str, bool]:
    """A short verdict on the model mean and whether the target is missed."""
    if not math.isfinite(mean):
        return "not computed", True
    obs = t.observed
    if obs.low is not None or obs.high is not None:
        if obs.contains(mean):
            return "in range", False
        ref, _ = reference(obs, mean)
        side = "above" if mean > (ref or 0) else "below"
        return f"{side} the {'range' if obs.low is not None and obs.high is not None else 'bound'}", True
    d = signed_difference(obs, mean)
    if abs(d) <= tolerance:
        return f"match (within {tolerance:.0%})", False
    return f"miss ({'over' if d > 0 else 'under'} by {abs(d):.0%})", True


__all__ = ["DEFAULT_TOLERANCE", "Kind", "ard", "discrepancy", "mean_discrepancy", "reference", "signed_difference",
           "verdict"]
