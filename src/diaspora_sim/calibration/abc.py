"""ABC-SMC (population Monte Carlo with adaptive tolerances) on numpy, as a pure algorithm.

The sampler knows nothing of scenarios or files: it calls ``simulate(points, tag)`` with a batch
of parameter vectors and reads their distances (:mod:`.simulate` runs them through the
experiments runner). Population Monte Carlo (Beaumont, Cornuet, Marin and Robert 2009,
Biometrika 96:983; Toni et al. 2009, J. R. Soc. Interface 6:187), with the tolerance of each
generation set to a quantile of the previous generation's distances (Del Moral, Doucet and
Jasra 2012): generation 0 samples the (uniform) prior; generation t resamples the previous
population by weight, perturbs with a Gaussian kernel of `kernel_scale` times its weighted
covariance, redraws proposals outside the prior's support, and accepts those within the
tolerance until ``particles`` are accepted; weights are ``prior / sum_j w_j K(theta | theta_j)``.
The first accepted in proposal order are kept, so the result does not depend on which runs
finish first. The random numbers depend on ``settings.seed``, the generation and the batch only:
the same settings and simulator give the same posterior.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .spec import ABCSettings


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
Log = Callable[[str], None]


@dataclass
class Population:
    """A generation's particles, weights, distances and simulated values (rows aligned)."""

    particles: np.ndarray  # N x d
    weights: np.ndarray
    distances: np.ndarray
    values: pd.DataFrame


@dataclass
class Support:
    """The support of the uniform prior: the ends of each parameter's range."""

    lows: np.ndarray
    highs: np.ndarray

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """`n` draws from the prior."""
        return self.lows + (self.highs - self.lows) * rng.random((n, len(self.lows)))

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Which rows of `points` lie in the prior's support."""
        return np.all((points >= self.lows) & (points <= self.highs), axis=1)


def _record(g: int, eps: float, sims: int, accepted: int, pop: Population, started: float) -> dict[str, Any]:
    """A generation's line of the history."""
    return {"generation": g, "epsilon": eps, "simulations": sims, "accepted": accepted,
            "acceptance_rate": accepted / sims, "ess": float(1.0 / np.sum(pop.weights**2)),
            "median_distance": float(np.median(pop.distances)), "min_distance": float(pop.distances.min()),
            "seconds": time.perf_counter() - started}


def prior_generation(simulate: Simulator, support: Support, settings: ABCSettings) -> Population:
    """Generation 0: `particles` draws from the prior, equally weighted."""
    n = settings.particles
    pts = support.sample(np.random.default_rng([settings.seed, 0, 0]), n)
    frame = simulate(pts, "g00-b00").reset_index(drop=True)
    return Population(pts, np.full(n, 1.0 / n), frame["distance"].to_numpy(float), frame)


def kernel(pop: Population, support: Support, scale: float) -> np.ndarray:
    """Covariance of the perturbation kernel: `scale` times the population's weighted covariance
    (plus a tiny diagonal, so that a degenerate population still has a valid kernel).
    """
    cov = scale * np.atleast_2d(np.cov(pop.particles.T, aweights=pop.weights, ddof=0))
    return cov + np.diag(((support.highs - support.lows) * 1e-6) ** 2)


def propose(pop: Population, support: Support, chol: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """`size` proposals: particles resampled by weight and perturbed, redrawn while outside the support."""
    n, d = pop.particles.shape
    props = np.empty((size, d))
    filled = 0
    for _ in range(10_000):
        k = size - filled
        parents = rng.choice(n, size=k, p=pop.weights)
        cand = pop.particles[parents] + rng.standard_normal((k, d)) @ chol.T
        ok = support.contains(cand)
        props[filled: filled + ok.sum()] = cand[ok]
        filled += int(ok.sum())
        if filled == size:
            return props
    raise RuntimeError("the perturbation kernel keeps leaving the prior's support")


def batch_size(need: int, accepted: int, simulated: int, left: int, quantile: float) -> int:
    """Proposals of the next batch: enough for the `need` still missing at the acceptance rate so
    far (the tolerance quantile before any batch), with a margin, within the budget `left`.
    """
    rate = accepted / simulated if simulated else quantile
    return int(min(left, max(need, math.ceil(1.15 * need / max(rate, 0.05)))))


def importance_weights(new: np.ndarray, pop: Population, cov: np.ndarray) -> np.ndarray:
    """Normalized weights of accepted particles: the uniform prior over the kernel mixture density."""
    dens = _mvn_density(new[:, None, :] - pop.particles[None, :, :], cov)  # n_new x n_old
    w = 1.0 / (dens @ pop.weights)
    return w / w.sum()


def next_generation(simulate: Simulator, pop: Population, support: Support, settings: ABCSettings, g: int,
                    budget_left: int, log: Log) -> tuple[Population | None, float, int]:
    """Generation `g`: proposals in batches until `particles` are within the tolerance. Returns the
    new population (None when the budget ran out first), the tolerance and the vectors simulated.
    """
    n = settings.particles
    finite = np.isfinite(pop.distances)
    eps = float(weighted_quantile(pop.distances[finite], pop.weights[finite], settings.quantile)) if finite.any() \
        else math.inf
    cov = kernel(pop, support, settings.kernel_scale)
    chol = np.linalg.cholesky(cov)
    acc_pts: list[np.ndarray] = []
    acc_rows: list[pd.DataFrame] = []
    sims, b = 0, 0
    while len(acc_pts) < n and budget_left - sims > 0:
        need = n - len(acc_pts)
        size = batch_size(need, len(acc_pts), sims, budget_left - sims, settings.quantile)
        props = propose(pop, support, chol, np.random.default_rng([settings.seed, g, b]), size)
        frame = simulate(props, f"g{g:02d}-b{b:02d}")
        sims += size
        dd = frame["distance"].to_numpy(float)
        for k in np.flatnonzero(dd <= eps)[:need]:
            acc_pts.append(props[k])
            acc_rows.append(frame.iloc[[k]])
        log(f"generation {g}, batch {b}: {size} proposals, {int((dd <= eps).sum())} within epsilon {eps:.3f}; "
            f"{len(acc_pts)}/{n} accepted, {settings.max_simulations - budget_left + sims} of "
            f"{settings.max_simulations} simulations used")
        b += 1
    if len(acc_pts) < n:
        return None, eps, sims
    new = np.array(acc_pts)
    vals = pd.concat(acc_rows, ignore_index=True)
    return Population(new, importance_weights(new, pop, cov), vals["distance"].to_numpy(float), vals), eps, sims


def abc_smc(simulate: Simulator, names: list[str], lows: np.ndarray, highs: np.ndarray, settings: ABCSettings,
            log: Log = lambda s: None) -> ABCResult:
    """ABC-SMC (population Monte Carlo with adaptive tolerances); see the module docstring."""
    started = time.perf_counter()
    n = settings.particles
    support = Support(np.asarray(lows, float), np.asarray(highs, float))
    if settings.max_simulations < n:
        raise ValueError(f"max_simulations ({settings.max_simulations}) is below the number of particles ({n})")
    t0 = time.perf_counter()
    pop = prior_generation(simulate, support, settings)
    sims = n
    history = [{**_record(0, math.inf, n, n, pop, t0), "ess": float(n)}]
    log(f"generation 0: {n} prior draws, distances median {np.median(pop.distances):.3f}, min {pop.distances.min():.3f}")
    stop = f"{settings.generations} generations done"
    for g in range(1, settings.generations):
        t0 = time.perf_counter()
        new, eps, sims_g = next_generation(simulate, pop, support, settings, g, settings.max_simulations - sims, log)
        sims += sims_g
        if new is None:
            stop = (f"simulation budget ({settings.max_simulations}) used up in generation {g}; "
                    f"the posterior is generation {g - 1}")
            log(stop)
            break
        pop = new
        history.append(_record(g, eps, sims_g, n, pop, t0))
        rate = n / sims_g
        log(f"generation {g}: epsilon {eps:.3f}, acceptance {rate:.1%}, ESS {history[-1]['ess']:.0f}, "
            f"distances median {np.median(pop.distances):.3f}")
        if rate < settings.min_acceptance:
            stop = f"acceptance rate {rate:.1%} below min_acceptance {settings.min_acceptance:.1%} in generation {g}"
            break
    return ABCResult(list(names), support.lows, support.highs, pop.particles, pop.weights, pop.distances, pop.values,
                     history, sims, stop, time.perf_counter() - started)


__all__ = ["ABCResult", "Population", "Simulator", "abc_smc", "weighted_quantile"]
