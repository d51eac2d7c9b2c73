"""The mechanisms that let people whose status or money runs out stay on (docs/model.md sections
6 and 12): the host's overstay penalty, family help and informal work, the loss of rouble remote jobs."""

from __future__ import annotations

import math

import numpy as np

from diaspora_sim.model import rules
from diaspora_sim.model.rules.choice import forced_stay_cost
from diaspora_sim.model.rules.resources import fallback_income
from diaspora_sim.model.state import Income, Status

from ..builders import AA, IT, RU, context, state, tiny


def test_forced_stay_cost_by_hand():
    assert forced_stay_cost(True, True, 0.5, 3.0) == 0.5  # irregular: the host's overstay penalty
    assert forced_stay_cost(False, True, 0.5, 3.0) == 3.0  # broke, status kept: forced_stay_penalty
    assert forced_stay_cost(False, False, 0.5, 3.0) == 0.0  # free reconsideration


def test_overstay_penalty_sets_the_odds_of_staying_on_without_status():
    # Irregular in AA, BB closed: stay (irregular) or return. With a return utility r and a staying
    # utility u - penalty, P(stay) = 1 / (1 + exp(r - u + penalty)). Compare penalties 0 and 50.
    base = {"hosts.BB.entry.visa_free": False, "behaviour.decision_rate": 0.0}
    n = 400
    stays = []
    for penalty in (0.0, 50.0):
        sc = tiny(**base, **{"hosts.AA.pressure.overstay_penalty": penalty})
        s = state(n, location=AA, status=Status.IRREGULAR, cash=5000.0)
        ctx = context(sc, n=n)
        ctx.forced[:] = True
        rows = np.arange(n)
        r = rules.return_utility(s, ctx, rows)[0]
        rules.decide(s, ctx, rows)
        stays.append((s.location == AA).mean())
        if penalty == 0.0:
            # utility of staying irregular: place terms (- beta_income x cost 1000 / 1000)
            # + beta_savings ln(1 + 5000/1000) + inertia (no job, no status, no integration)
            b = sc.behaviour
            u = -b.beta_income * 1.0 + b.beta_savings * math.log1p(5.0) + b.inertia
            expected = 1.0 / (1.0 + math.exp(r - u))
            assert abs(stays[0] - expected) < 0.06
    assert stays[1] == 0.0  # a prohibitive penalty: everyone returns
    np.testing.assert_array_equal(s.location, RU)


def test_fallback_income_by_hand():
    assert fallback_income(False, 0.5, 800.0, 300.0, np.float32(0.5)) == 150.0 + 400.0
    assert fallback_income(True, 0.5, 800.0, 300.0, np.float32(0.5)) == 150.0  # a job: no informal work


def test_family_help_and_informal_work_keep_the_broke_from_being_forced():
    # cost 1000, wage 1500, no income, cash 500 (below one month of costs).
    changes = {"behaviour.family_support_usd": 400.0, "hosts.AA.economy.informal_wage_share": 0.5}
    s = state(3, location=AA, cash=[500.0, 500.0, 50000.0], family_ties=[1.0, 0.0, 1.0])
    ctx = context(tiny(**changes), n=3)
    rules.resources(s, ctx)
    # row 0: 400 x 1 + 0.5 x 1500 = 1150 >= 1000, not forced; row 1: 750 < 1000, forced;
    # row 2: cash does not run low, no help.
    np.testing.assert_allclose(s.cash, [500 + 1150 - 1000, 500 + 750 - 1000, 50000 - 1000])
    np.testing.assert_array_equal(ctx.broke, [False, True, False])
    np.testing.assert_array_equal(ctx.forced, [False, True, False])


def test_remote_job_loss():
    for p, lost in ((0.0, False), (1.0, True)):
        s = state(4, location=AA, income_source=Income.REMOTE_RUSSIAN, remote_income=2000.0,
                  category=IT)
        ctx = context(tiny(**{"russia.remote_job_loss": p, "hosts.AA.economy.russian_transfers": True}), n=4)
        rules.resources(s, ctx)
        np.testing.assert_array_equal(s.income_source == Income.NONE, lost)
        np.testing.assert_allclose(s.cash, 10000 - 1000 + (0 if lost else 2000))
    # Returnees in Russia keep their rouble job (the rule concerns emigrants abroad).
    s = state(2, location=RU, income_source=Income.REMOTE_RUSSIAN, remote_income=2000.0)
    rules.resources(s, context(tiny(**{"russia.remote_job_loss": 1.0}), n=2))
    np.testing.assert_array_equal(s.income_source, Income.REMOTE_RUSSIAN)


def test_irregular_decide_monthly_or_only_when_status_is_lost():
    # Row 0 loses its stay this month (AA does not reset stays); row 1 was already irregular.
    for monthly, expected in ((True, [True, True]), (False, [True, False])):
        sc = tiny(**{"hosts.AA.stay.visa_run_resets": False, "behaviour.irregular_decide_monthly": monthly})
        s = state(2, status=[Status.VISA_FREE, Status.IRREGULAR], stay_left=[1, 0])
        ctx = context(sc, n=2)
        rules.legal_status(s, ctx)
        np.testing.assert_array_equal(s.status, Status.IRREGULAR)
        np.testing.assert_array_equal(ctx.forced, expected)
