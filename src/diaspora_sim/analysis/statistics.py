"""Statistics of replicated runs: t-intervals, paired differences, effect sizes, replications needed.

Conventions (docs/experiments.md):

- Replicate ``r`` of every arm ran with the same seed (common random numbers), so two arms are
  compared through the paired differences ``d_r = x_arm,r - x_ref,r``.
- Means have two-sided t-intervals ``mean ± t(1 - alpha/2, n - 1) * sd / sqrt(n)`` over
  replications; the paired difference has the same interval over the ``d_r``.
- Effect sizes: Cohen's ``d_z = mean(d) / sd(d)`` (paired; large under common random
  numbers because the pairing removes most of the noise) and the Vargha-Delaney
  ``A12 = P(X_arm > X_ref) + P(X_arm = X_ref) / 2`` over all pairs of replications (0.5: no
  difference; 0.29 and 0.71 are conventionally "large").
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats as st


def t_quantile(n: int, confidence: float = 0.95) -> float:
    """The t quantile of a two-sided interval over `n` values (NaN when n < 2)."""
    return float(st.t.ppf(0.5 + confidence / 2, n - 1)) if n >= 2 else math.nan


def mean_ci(values: Any, confidence: float = 0.95) -> dict[str, float]:
    """Mean of replications with its t-interval: n, mean, sd, half (half-width), low, high."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    mean = float(x.mean()) if n else math.nan
    sd = float(x.std(ddof=1)) if n >= 2 else math.nan
    half = t_quantile(n, confidence) * sd / math.sqrt(n) if n >= 2 else math.nan
    return {"n": n, "mean": mean, "sd": sd, "half": half, "low": mean - half, "high": mean + half}


def vargha_delaney_a12(x: Any, y: Any) -> float:
    """Probability that a value of `x` exceeds one of `y` (ties count half); 0.5 means no difference."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    m, n = len(x), len(y)
    if not m or not n:
        return math.nan
    ranks = st.rankdata(np.concatenate([x, y]))
    return float((ranks[:m].sum() / m - (m + 1) / 2) / n)


def paired_difference(x: Any, y: Any, confidence: float = 0.95) -> dict[str, float]:
    """Paired difference ``x - y`` (same replicates in the same order): its mean and t-interval,
    Cohen's d_z, Cohen's d with the pooled sd of x and y (comparable to unpaired designs) and A12.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    out = mean_ci(x - y, confidence)
    sd, mean = out["sd"], out["mean"]
    if len(x) < 2:
        d_z = math.nan
    elif sd > 0:
        d_z = mean / sd
    else:
        d_z = 0.0 if mean == 0 else math.copysign(math.inf, mean)
    pooled = math.sqrt((x.var(ddof=1) + y.var(ddof=1)) / 2) if len(x) >= 2 else math.nan
    d = mean / pooled if pooled and pooled > 0 else (0.0 if mean == 0 else math.nan)
    return {**out, "d_z": d_z, "d": d, "a12": vargha_delaney_a12(x, y)}


def replications_needed(sd: float, half_width: float, confidence: float = 0.95) -> int:
    """Smallest number of replications whose t-interval half-width is at most `half_width` when the
    sd of one replication is `sd` (estimate it from a pilot: the `sd` of :func:`mean_ci`, or of the
    paired differences for a comparison).
    """
    if half_width <= 0:
        raise ValueError("half_width must be positive")
    if not math.isfinite(sd):
        raise ValueError("sd must be a finite number (a pilot of at least 2 replications)")
    if sd == 0:
        return 2
    z = st.norm.ppf(0.5 + confidence / 2)
    n = max(2, math.ceil((z * sd / half_width) ** 2))
    while t_quantile(n, confidence) * sd / math.sqrt(n) > half_width:
        n += 1
    return n


def wilson_interval(share: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a share observed among `n` units (agents); (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    z = float(st.norm.ppf(0.5 + confidence / 2))
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


__all__ = ["wilson_interval", "mean_ci", "paired_difference", "replications_needed", "t_quantile", "vargha_delaney_a12"]
