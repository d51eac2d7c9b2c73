"""Decision: the logit draw, utilities and who decides (rules.choice).

Hand-computed expectations on tiny hand-built states (see tests/model/builders.py).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from diaspora_sim.model import rules
from diaspora_sim.model.state import Income, Status

from ..builders import (
    AA,
    ACADEMIC,
    BB,
    IT,
    RU,
    context,
    flow,
    state,
    tiny,
)


def test_choose_by_cumulative_probabilities():
    # Weights 1 : 2 : 1 -> probabilities 0.25, 0.5, 0.25, cumulative 0.25, 0.75, 1.
    util = np.tile([0.0, math.log(2.0), 0.0], (6, 1)) + 5.0  # a common shift changes nothing
    feasible = np.ones((6, 3), bool)
    u = np.array([0.01, 0.24, 0.26, 0.74, 0.76, 0.999])
    np.testing.assert_array_equal(rules.choose(util, feasible, u), [0, 0, 1, 1, 2, 2])


def test_choose_never_picks_infeasible_options():
    util = np.tile([0.0, 10.0, 0.0], (5, 1))
    feasible = np.tile([True, False, True], (5, 1))
    u = np.array([0.01, 0.49, 0.51, 0.99, 0.5 - 1e-9])
    np.testing.assert_array_equal(rules.choose(util, feasible, u), [0, 0, 2, 2, 0])
    u_grid = np.linspace(0, 1, 1001, endpoint=False)[1:]
    picks = rules.choose(np.tile([0.0, 10.0, 0.0], (len(u_grid), 1)),
                         np.tile([True, False, True], (len(u_grid), 1)), u_grid)
    assert set(picks.tolist()) == {0, 2}


def test_choose_last_option_and_extreme_utilities():
    # Only the last option feasible; huge utility gaps do not overflow.
    util = np.array([[1000.0, -1000.0, 3.0], [0.0, 800.0, -800.0]])
    feasible = np.array([[False, False, True], [True, True, True]])
    np.testing.assert_array_equal(rules.choose(util, feasible, np.array([0.999, 0.5])), [2, 1])


def test_choose_at_a_cumulative_boundary_takes_the_next_option():
    # Equal weights: cumulative shares 0.25, 0.5, 0.75, 1. The pick is the first share that exceeds u.
    util = np.zeros((3, 4))
    feasible = np.ones((3, 4), bool)
    np.testing.assert_array_equal(rules.choose(util, feasible, np.array([0.25, 0.5, 0.75])), [1, 2, 3])


def test_choose_returns_minus_one_when_nothing_feasible():
    util = np.zeros((3, 4))
    feasible = np.array([[False] * 4, [False, True, False, False], [False] * 4])
    np.testing.assert_array_equal(rules.choose(util, feasible, np.array([0.5, 0.5, 0.0])), [-1, 1, -1])


def test_choose_never_picks_infeasible_first_option_at_u_zero():
    # Streams.uniform draws float32 multiples of 2**-24: u == 0.0 happens (once in ~16.8 million draws).
    util = np.zeros((1, 3))
    feasible = np.array([[False, True, True]])
    assert rules.choose(util, feasible, np.array([0.0], np.float32))[0] in (1, 2)


def test_decide_expelled_cannot_stay():
    sc = tiny(**{"hosts.BB.entry.visa_free": False})  # nowhere else to go
    n = 20
    s = state(n, location=AA, status=Status.TEMPORARY, integration=1.0, cash=5000.0)
    ctx = context(sc, n=n)
    ctx.expelled[:10] = True
    rules.decide(s, ctx, np.arange(n), allow_stay=True, allow_return=True)
    # The expelled must return to Russia (their only feasible option).
    np.testing.assert_array_equal(s.location[:10], RU)
    assert flow(ctx, "returns", AA, IT) >= 10


def test_decide_expelled_moves_on_when_another_host_is_open():
    sc = tiny()  # BB visa-free
    n = 30
    s = state(n, location=AA, status=Status.PERMANENT, integration=1.0, cash=5000.0)
    ctx = context(sc, n=n)
    ctx.expelled[:] = True
    moved = rules.decide(s, ctx, np.arange(n), allow_stay=True, allow_return=False)
    np.testing.assert_array_equal(s.location, BB)
    np.testing.assert_array_equal(moved, np.arange(n))
    np.testing.assert_array_equal(s.moves, 1)
    np.testing.assert_allclose(s.integration, 0.3)  # carry_over
    assert flow(ctx, "onward_moves", AA, IT) == n and flow(ctx, "arrivals", BB, IT) == n


def test_decide_stays_when_staying_is_the_only_option():
    sc = tiny(**{"hosts.BB.entry.visa_free": False})
    s = state(5, location=AA, status=Status.VISA_FREE)
    ctx = context(sc, n=5)
    ctx.forced[:] = True
    moved = rules.decide(s, ctx, np.arange(5), allow_stay=True, allow_return=False)
    assert len(moved) == 0
    np.testing.assert_array_equal(s.location, AA)


def test_decide_never_moves_to_an_unaffordable_host():
    sc = tiny(**{"hosts.BB.entry.travel_cost_usd": 5000})
    s = state(20, location=AA, status=Status.IRREGULAR, cash=4999.0)
    ctx = context(sc, n=20)
    ctx.expelled[:] = True
    rules.decide(s, ctx, np.arange(20), allow_stay=True, allow_return=True)
    np.testing.assert_array_equal(s.location, RU)


def test_decisions_only_the_forced_expelled_and_reconsidering_decide():
    # Nobody reconsiders (rates 0); BB is far more attractive but only the expelled row must choose.
    sc = tiny(**{"behaviour.decision_rate": 0.0, "behaviour.pressure_decision_rate": 0.0,
                 "hosts.BB.attractiveness": 20.0})
    s = state(3, location=AA, status=Status.TEMPORARY, cash=5000.0)
    ctx = context(sc, n=3)
    ctx.expelled[2] = True
    rules.decisions(s, ctx)
    assert s.location[0] == AA and s.location[1] == AA
    assert s.location[2] in (BB, RU)


def test_decisions_reconsider_rate_one_moves_toward_a_dominant_host():
    sc = tiny(**{"behaviour.decision_rate": 1.0, "hosts.BB.attractiveness": 30.0,
                 "behaviour.return_constant": -30.0})
    s = state(10, location=AA, status=Status.VISA_FREE, cash=5000.0)
    ctx = context(sc, n=10)
    rules.decisions(s, ctx)
    np.testing.assert_array_equal(s.location, BB)


def test_host_utility_wage_weighted_by_expected_employment():
    # V(h) = beta_income * (wage * employment - cost) / 1000 + beta_savings * ln(1 + cash / cost), with
    # beta_income 1, beta_savings 0.5, wage 1500, cost 1000, cash 1000; attractiveness, risk, hostility,
    # diaspora and peers are 0.
    s = state(3, cash=1000.0)
    employment = np.array([[1.0, 0.0], [0.6, 0.0], [0.0, 0.0]])
    v = rules.host_utility(s, context(tiny(), n=3), np.arange(3), employment)
    buffer = 0.5 * math.log(2.0)
    np.testing.assert_allclose(v[:, AA], [0.5 + buffer, -0.1 + buffer, -1.0 + buffer], rtol=1e-6)
    np.testing.assert_allclose(v[:, BB], -1.0 + buffer, rtol=1e-6)


def test_decide_stay_counts_the_job_held_or_the_chance_of_one_where_the_status_allows_work():
    # beta_income 1000 makes the wage decide (utility 1 per USD) and returning is ruled out. AA (current
    # host) pays 1500, job finding 0.1 (job chance within 6 months min(6 x 0.1 x 1, 1) = 0.6 at
    # language 1), no work on visa-free stays; BB offers certain work visas paying 850.
    # Stay = 1000 * (1500 * employment - 1000) / 1000 + inertia 1 + beta_legal * security(status);
    # BB = 1000 * (850 - 1000) / 1000 - move_cost 1 + 0.6 = -150.4 (savings terms are equal).
    sc = tiny(**{"behaviour.beta_income": 1000.0, "behaviour.return_constant": -1e5,
                 "hosts.AA.economy.job_finding": 0.1,
                 "hosts.BB.entry.visa_free": False, "hosts.BB.entry.work_visa": True,
                 "hosts.BB.entry.work_visa_approval": 1.0, "hosts.BB.economy.local_wage_usd": 850})
    s = state(4, status=[Status.TEMPORARY, Status.TEMPORARY, Status.VISA_FREE, Status.IRREGULAR],
              employed=[True, False, False, False], language=1.0, cash=5000.0)
    ctx = context(sc, n=4)
    rules.decide(s, ctx, np.arange(4))
    # 0: employed, employment 1: stay 500 + 1.6 = 501.6 > -150.4.
    # 1: unemployed with work rights, employment 0.6: stay -100 + 1.6 = -98.4 > -150.4.
    # 2: visa-free where work is not allowed, employment 0: stay -1000 + 1.2 = -998.8 < -150.4: moves.
    # 3: irregular, employment 0: stay -1000 + 1 = -999 < -150.4: moves.
    np.testing.assert_array_equal(s.location, [AA, AA, BB, BB])
    np.testing.assert_array_equal(s.status, [Status.TEMPORARY, Status.TEMPORARY, Status.TEMPORARY, Status.TEMPORARY])
    np.testing.assert_array_equal(s.employed, [True, False, True, True])


@pytest.mark.parametrize(
    ("route", "changes", "goes"),
    [
        ("short-stay visa", {"hosts.BB.entry.visa_free": False, "hosts.BB.entry.visa_approval": 1.0}, False),
        ("visa-free, no work", {"hosts.BB.economy.work_allowed_visa_free": False}, False),
        ("visa-free, work allowed", {"hosts.BB.economy.work_allowed_visa_free": True}, True),
        ("humanitarian visa", {"hosts.BB.entry.visa_free": False, "hosts.BB.entry.humanitarian_visa": True,
                               "hosts.BB.entry.humanitarian_approval": 1.0}, True),
        ("work visa", {"hosts.BB.entry.visa_free": False, "hosts.BB.entry.work_visa": True,
                       "hosts.BB.entry.work_visa_approval": 1.0}, True),
    ],
)
def test_decide_expected_wage_abroad_depends_on_the_route(route, changes, goes):
    # BB pays 3000 and jobs are certain to be found there (min(6 x 1 x 0.5, 1) = 1 at language 0); AA,
    # where the person holds a permit but no job, has none to find. beta_income 1000, move_cost 20.
    # Stay: 1000 * (0 - 1000) / 1000 + inertia 1 + 0.6 = -998.4.
    # BB with the wage: 1000 * (3000 - 1000) / 1000 - 20 + security <= 1980.6: goes.
    # BB without (a short-stay visa or a visa-free stay without work rights): -1000 - 20 + 0.3 <= -1019.7: stays.
    sc = tiny(**{"behaviour.beta_income": 1000.0, "behaviour.move_cost": 20.0, "behaviour.return_constant": -1e5,
                 "hosts.BB.economy.local_wage_usd": 3000, "hosts.BB.economy.job_finding": 1.0, **changes})
    s = state(3, status=Status.TEMPORARY, engagement=1.0, cash=5000.0)
    ctx = context(sc, n=3)
    rules.decide(s, ctx, np.arange(3))
    np.testing.assert_array_equal(s.location, BB if goes else AA)


@pytest.mark.parametrize("beta_legal", [1.0, 7.0])
def test_return_utility_hand_computed_without_legal_security(beta_legal):
    # R = return_constant 0 + beta_income * (income_ru - 700) / 1000 + 0.5 * ln(1 + max(cash, 0) / 700);
    # no repression, draft (women), family ties, lure or peers; beta_legal plays no part.
    sc = tiny(**{"behaviour.beta_legal": beta_legal})
    s = state(2, category=[IT, ACADEMIC], income_source=[Income.REMOTE_RUSSIAN, Income.NONE],
              remote_income=[3000.0, 0.0], cash=[1400.0, -50.0])
    r = rules.return_utility(s, context(sc, n=2), np.arange(2))
    expected = [(3000 - 700) / 1000 + 0.5 * math.log(1 + 1400 / 700), (900 - 700) / 1000 + 0.0]
    np.testing.assert_allclose(r, expected, rtol=1e-6)


# --------------------------------------------------------------------------------------------
