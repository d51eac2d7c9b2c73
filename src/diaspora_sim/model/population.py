"""Drawing the emigrant population: who leaves when, with which documents, money and ties."""

from __future__ import annotations

import numpy as np

from ..scenario.schema import CATEGORIES, Scenario, month_number
from .state import Income, State
from .streams import Streams


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total by weights (largest remainder): deterministic counts summing to total."""
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    rest = total - counts.sum()
    if rest:
        counts[np.argsort(-(exact - counts), kind="stable")[:rest]] += 1
    return counts


def departure_schedule(sc: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Agents' departure month offsets and categories, sorted by month, from the waves.

    Agent counts are the wave sizes divided by the run's scale, rounded; the split over
    months and categories is deterministic (largest remainder), so every run of a scenario
    has exactly the same departures.
    """
    start = month_number(sc.run.start)
    months, cats = [], []
    for wave in sc.population.waves:
        n_agents = int(round(wave.size / sc.run.scale))
        first = month_number(wave.start) - start
        span = month_number(wave.end) - month_number(wave.start) + 1
        weights = np.array(wave.monthly_weights or [1.0] * span, dtype=np.float64)
        mix = np.array(wave.category_mix.values())
        for k, n_month in enumerate(_allocate(n_agents, weights)):
            for c, n_cat in enumerate(_allocate(int(n_month), mix)):
                months.append(np.full(n_cat, first + k, dtype=np.int16))
                cats.append(np.full(n_cat, c, dtype=np.int8))
    depart = np.concatenate(months) if months else np.zeros(0, np.int16)
    category = np.concatenate(cats) if cats else np.zeros(0, np.int8)
    order = np.argsort(depart, kind="stable")
    return depart[order], category[order]


def draw_population(sc: Scenario, streams: Streams, n_hosts: int) -> State:
    """The initial state of every emigrant the scenario will produce (not yet left)."""
    depart, category = departure_schedule(sc)
    n = len(depart)
    rng = streams.generator("population")
    f32 = np.float32

    def per_category(draw) -> np.ndarray:
        out = np.empty(n, dtype=f32)
        for c, name in enumerate(CATEGORIES):
            rows = np.flatnonzero(category == c)
            out[rows] = draw(sc.population.profiles[name], len(rows))
        return out

    def lognormal(dist, k):
        if dist.median == 0:
            return np.zeros(k)
        return dist.median * np.exp(dist.sigma * rng.standard_normal(k))

    # Draw order is fixed (attribute by attribute, category by category): keep it so.
    age0 = per_category(lambda p, k: np.clip(rng.normal(p.age.mean, p.age.sd, k), p.age.min, p.age.max))
    male = per_category(lambda p, k: rng.random(k) < p.male_share).astype(bool)
    passport = per_category(lambda p, k: rng.random(k) < p.foreign_passport_share).astype(bool)
    years = per_category(lambda p, k: rng.uniform(p.passport_years_left.low, p.passport_years_left.high, k))
    cash = per_category(lambda p, k: lognormal(p.cash_usd, k))
    ru_savings = per_category(lambda p, k: lognormal(p.russian_savings_usd, k))
    remote = per_category(lambda p, k: lognormal(p.remote_income_usd, k))

    def source(p, k):
        s = p.income_source
        return rng.choice(3, size=k, p=[s.none, s.remote_western, s.remote_russian])

    income_source = per_category(source).astype(np.int8)
    assert Income.NONE == 0 and Income.REMOTE_WESTERN == 1 and Income.REMOTE_RUSSIAN == 2
    engagement = per_category(lambda p, k: rng.beta(p.engagement.a, p.engagement.b, k))
    family = per_category(lambda p, k: rng.beta(p.family_ties.a, p.family_ties.b, k))
    language = per_category(lambda p, k: rng.beta(p.language.a, p.language.b, k))

    expiry = np.where(passport, depart + np.round(years * 12), -1).astype(np.int16)
    return State(
        category=category,
        male=male,
        age0=age0,
        depart=depart,
        engagement=engagement,
        family_ties=family,
        language=language,
        income_source=income_source,
        remote_income=np.where(income_source == Income.NONE, 0.0, remote).astype(f32),
        cash=cash,
        ru_savings=ru_savings,
        passport_valid=passport & (expiry > depart),
        passport_expiry=expiry,
        travel_doc=np.zeros(n, bool),
        location=np.full(n, n_hosts + 1, np.int16),
        status=np.zeros(n, np.int8),
        stay_left=np.zeros(n, np.int16),
        months_resident=np.zeros(n, np.int16),
        employed=np.zeros(n, bool),
        asylum_refused=np.zeros(n, bool),
        integration=np.zeros(n, f32),
        left=np.zeros(n, bool),
        persecuted=np.zeros(n, bool),
        mobilized=np.zeros(n, bool),
        moves=np.zeros(n, np.int16),
        returns=np.zeros(n, np.int16),
        cohort_host=np.full(n, -1, np.int16),
    )
