"""Policy effects over a calibration posterior: parameter and stochastic uncertainty of a paired effect.

In a results folder planned over a posterior (:mod:`diaspora_sim.experiments.posterior`),
replication ``r`` of every arm ran at posterior draw ``j = r // k`` (``k`` seeds per draw) with
seed ``r``. The effect of an arm is ``d_r = x_arm,r - x_ref,r`` (paired on draw and seed).
With ``D`` draws of ``k`` seeds (one-way random-effects decomposition):

- seed (stochastic) variance ``s_w^2`` = mean over draws of the variance of ``d`` within a draw;
- parameter variance ``s_p^2 = max(0, var(draw means) - s_w^2 / k)``;
- shares: ``s_p^2 / (s_p^2 + s_w^2)`` and ``s_w^2 / (s_p^2 + s_w^2)``.

Two intervals, named apart in the report:

- the **seed-only CI** of the mean effect, ``mean ± t * s_w / sqrt(D k)``: what a comparison at
  fixed parameters reports (Monte Carlo error only);
- the **posterior interval** of the effect, the 2.5% and 97.5% quantiles (for 95%) of the ``d_r``:
  each ``d_r`` is one draw from the effect's predictive distribution (parameters from the
  posterior, a random seed), so it combines parameter and stochastic uncertainty.

``p_sign`` is the share of draws whose mean effect has the sign of the overall mean effect
(e.g. P(restrictive EU raises returns) when the mean effect is positive).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .statistics import t_quantile


def effect_uncertainty(d: np.ndarray, draws: np.ndarray, confidence: float = 0.95) -> dict[str, Any]:
    """Mean effect with its seed-only CI and posterior interval, the variance shares and p_sign, from
    the paired effects `d` and the draw of each (see the module docstring).
    """
    frame = pd.DataFrame({"d": np.asarray(d, float), "draw": np.asarray(draws)}).dropna()
    n = len(frame)
    mean = float(frame["d"].mean()) if n else math.nan
    by_draw = frame.groupby("draw")["d"]
    k = float(by_draw.size().mean()) if n else math.nan
    within = float(by_draw.var(ddof=1).mean()) if n and k >= 2 else math.nan
    means = by_draw.mean()
    between = float(means.var(ddof=1)) if len(means) >= 2 else math.nan
    param = max(0.0, between - within / k) if math.isfinite(within) and math.isfinite(between) else math.nan
    total = param + within
    seed_half = t_quantile(n, confidence) * math.sqrt(within / n) if math.isfinite(within) else math.nan
    alpha = (1 - confidence) / 2
    low, high = (float(np.quantile(frame["d"], q)) for q in (alpha, 1 - alpha)) if n else (math.nan, math.nan)
    sign = np.sign(mean) if mean else 1.0
    return {
        "n": n, "draws": len(means), "seeds_per_draw": k, "mean": mean,
        "seed_low": mean - seed_half, "seed_high": mean + seed_half,
        "posterior_low": low, "posterior_high": high,
        "sd_parameter": math.sqrt(param) if math.isfinite(param) else math.nan,
        "sd_seed": math.sqrt(within) if math.isfinite(within) else math.nan,
        "share_parameter": param / total if total > 0 else math.nan,
        "share_seed": within / total if total > 0 else math.nan,
        "p_sign": float((np.sign(means) == sign).mean()) if len(means) else math.nan,
        "sign": "+" if sign > 0 else "-",
    }


def posterior_effects(values: pd.DataFrame, scenarios: list[str], seeds_per_draw: int,
                      confidence: float = 0.95) -> pd.DataFrame:
    """Effect of every scenario to the first (the reference) per metric, category and date, over the posterior.

    `values`: columns scenario, replicate, seed, date, category, metric, value (:func:`.arms.rate_values`).
    """
    reference = scenarios[0]
    keys = ["metric", "category", "date"]
    wide = values.pivot_table(index=[*keys, "replicate"], columns="scenario", values="value", aggfunc="first")
    rows = []
    for scen in scenarios[1:]:
        if scen not in wide or reference not in wide:
            continue
        for key, grp in wide[[scen, reference]].groupby(level=keys, sort=False):
            reps = grp.index.get_level_values("replicate").to_numpy()
            d = (grp[scen] - grp[reference]).to_numpy()
            rows.append({"arm": scen, "reference": reference, **dict(zip(keys, key, strict=True)),
                         **effect_uncertainty(d, reps // seeds_per_draw, confidence)})
    return pd.DataFrame(rows)


__all__ = ["effect_uncertainty", "posterior_effects"]
