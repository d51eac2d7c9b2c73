"""Resources: income, costs, savings, jobs (rules.resources).

Hand-computed expectations on tiny hand-built states (see tests/model/builders.py).
"""

from __future__ import annotations

import numpy as np

from diaspora_sim.model import rules
from diaspora_sim.model.state import Income, Status

from ..builders import (
    AA,
    ACADEMIC,
    BB,
    DRAFT,
    IT,
    JOURNALIST,
    RU,
    H,
    context,
    state,
    tiny,
)


def _resources_scenario():
    return tiny(**{
        "hosts.AA.economy.bank_accounts": True,
        "hosts.AA.economy.russian_transfers": True,
        "hosts.AA.support.media_funding_usd": 800,
        "hosts.BB.economy.bank_accounts": False,
        "hosts.BB.economy.russian_transfers": False,
        "hosts.BB.economy.cost_of_living_usd": 500,
        "hosts.BB.economy.local_wage_usd": 700,
    })


def test_resources_income_minus_cost_and_russian_savings():
    sc = _resources_scenario()
    W, R, N = Income.REMOTE_WESTERN, Income.REMOTE_RUSSIAN, Income.NONE
    s = state(
        8,
        location=[AA, BB, AA, AA, BB, BB, RU, RU],
        category=[IT, IT, IT, JOURNALIST, IT, JOURNALIST, IT, ACADEMIC],
        income_source=[W, W, W, R, R, W, R, N],
        remote_income=[2000, 2000, 2000, 1000, 1000, 0, 1000, 0],
        status=[Status.VISA_FREE, Status.VISA_FREE, Status.IRREGULAR, Status.TEMPORARY, Status.VISA_FREE,
                Status.TEMPORARY, Status.NONE, Status.NONE],
        employed=[False, False, False, True, False, True, False, False],
        cash=[5000, 5000, 5000, 5000, 600, 100, 100, 100],
        ru_savings=[3000, 3000, 0, 0, 3000, 0, 400, 400],
    )
    ctx = context(sc, n=8)
    income = rules.monthly_income(s, ctx, np.arange(6))
    # 0: Western pay usable (bank accounts, legal status); 1: no bank accounts in BB; 2: irregular;
    # 3: Russian pay (transfers) + wage + media grant; 4: no transfers in BB; 5: wage only (no grant in BB).
    np.testing.assert_allclose(income, [2000, 0, 0, 1000 + 1500 + 800, 0, 700])
    rules.resources(s, ctx)
    np.testing.assert_allclose(
        s.cash,
        [
            5000 + 3000 + 2000 - 1000,  # savings reach AA (russian_transfers)
            5000 - 500,  # savings stay in Russia
            5000 - 1000,
            5000 + 3300 - 1000,
            600 - 500,
            100 + 700 - 500,
            100 + 400 + 2500 - 700,  # in Russia: savings + the IT wage (more than the rouble remote pay) - cost
            100 + 400 + 900 - 700,
        ],
    )
    np.testing.assert_allclose(s.ru_savings, [0, 3000, 0, 0, 3000, 0, 0, 0])
    # Broke: cash below one month of costs while earning less than the costs.
    # Row 4 (100 < 500, income 0) is forced; row 5 (300 < 500, but income 700 >= 500) is not.
    np.testing.assert_array_equal(ctx.forced, [False, False, False, False, True, False, False, False])
    # job_finding = job_loss = 0: employment unchanged.
    np.testing.assert_array_equal(s.employed, [False, False, False, True, False, True, False, False])


def test_resources_jobs_found_only_with_work_rights_and_lost_without():
    sc = tiny(**{"hosts.AA.economy.job_finding": 1.0, "hosts.AA.economy.work_allowed_visa_free": False,
                 "hosts.BB.economy.job_finding": 1.0, "hosts.BB.economy.work_allowed_visa_free": True})
    s = state(
        5,
        location=[AA, AA, BB, AA, AA],
        status=[Status.TEMPORARY, Status.VISA_FREE, Status.VISA_FREE, Status.VISA_FREE, Status.IRREGULAR],
        employed=[False, False, False, True, True],
        language=1.0,
    )
    ctx = context(sc, n=5)
    np.testing.assert_array_equal(rules.can_work(s, ctx, np.arange(5)), [True, False, True, False, False])
    rules.resources(s, ctx)
    # Found (chance min(1 * (0.5 + 0.5 * 1), 1) = 1) where allowed; jobs without work rights are lost.
    np.testing.assert_array_equal(s.employed, [True, False, True, False, False])


def test_job_chance_language_and_programme_boosts():
    sc = tiny(**{"hosts.AA.economy.job_finding": 0.1, "hosts.AA.support.university_in_exile": True,
                 "hosts.BB.economy.job_finding": 0.1, "hosts.BB.support.relocation_programme": True})
    s = state(4, category=[ACADEMIC, ACADEMIC, IT, DRAFT], language=[0.0, 1.0, 0.5, 0.5],
              location=[AA, AA, BB, BB])
    ctx = context(sc, n=4)
    chance = rules.job_chance(s, ctx, np.arange(4), s.location.astype(np.int64))
    np.testing.assert_allclose(chance, [0.1 * 0.5 * 3, 0.1 * 1.0 * 3, 0.1 * 0.75 * 2, 0.1 * 0.75], rtol=1e-6)


def test_usable_remote_share_rouble_workaround_and_western_pay():
    # AA: bank accounts and Russian transfers; BB: neither. Rouble pay reaches BB only as the
    # workaround share 0.4; Western pay needs bank accounts and legal status; savings need transfers.
    sc = tiny(**{"hosts.AA.economy.russian_transfers": True, "hosts.BB.economy.russian_transfers": False,
                 "hosts.BB.economy.bank_accounts": False, "russia.transfer_workaround_share": 0.4})
    W, R, N = Income.REMOTE_WESTERN, Income.REMOTE_RUSSIAN, Income.NONE
    ctx = context(sc, n=0)
    source = np.array([W, W, R, R, N, N])
    hosts = np.array([AA, BB, AA, BB, AA, BB])
    np.testing.assert_allclose(rules.usable_remote_share(ctx, source, hosts), [1, 0, 1, 0.4, 0, 0])
    legal = np.array([False, False, False, False, False, False])
    np.testing.assert_allclose(rules.usable_remote_share(ctx, source, hosts, legal), [0, 0, 1, 0.4, 0, 0])

    s = state(2, location=[AA, BB], income_source=R, remote_income=1000.0, ru_savings=3000.0, cash=5000.0)
    ctx = context(sc, n=2)
    np.testing.assert_allclose(rules.monthly_income(s, ctx, np.arange(2)), [1000, 400])
    # The choice model expects the same shares: V(AA) - V(BB) = beta_income * (1000 - 400) / 1000.
    v = rules.host_utility(s, ctx, np.arange(2), np.zeros((2, H)))
    np.testing.assert_allclose(v[:, AA] - v[:, BB], 0.6)
    rules.resources(s, ctx)
    np.testing.assert_allclose(s.cash, [5000 + 3000 + 1000 - 1000, 5000 + 400 - 1000])
    np.testing.assert_allclose(s.ru_savings, [0, 3000])  # the workaround carries income, not savings


def test_russian_income_is_the_better_of_the_wage_and_a_rouble_job():
    # Russian wages: IT 2500, others 900. A rouble remote job counts if it pays more; Western pay never.
    W, R, N = Income.REMOTE_WESTERN, Income.REMOTE_RUSSIAN, Income.NONE
    s = state(5, location=RU, status=Status.NONE, category=[IT, IT, ACADEMIC, ACADEMIC, ACADEMIC],
              income_source=[R, R, R, W, N], remote_income=[1000, 3000, 1200, 2000, 0], cash=0.0)
    ctx = context(tiny(), n=5)
    np.testing.assert_allclose(rules.russian_income(s, ctx, np.arange(5)), [2500, 3000, 1200, 900, 900])
    rules.resources(s, ctx)
    np.testing.assert_allclose(s.cash, [2500 - 700, 3000 - 700, 1200 - 700, 900 - 700, 900 - 700])


# --------------------------------------------------------------------------------------------
