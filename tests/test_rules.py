"""Unit tests of each monthly rule in rules.py on tiny hand-built states, with hand-computed expectations.

A two-host scenario ("AA" and "BB") is built from a dict; probabilities of 0 or 1 make the draws
deterministic, and where a draw matters the expected outcome is computed from the stream's uniforms.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest

from diaspora_sim.model import rules as rules
from diaspora_sim.model.policy import Policy
from diaspora_sim.model.rules import C, Step
from diaspora_sim.model.state import Income, State, Status
from diaspora_sim.model.streams import Streams
from diaspora_sim.scenario.loading import set_path, validate
from diaspora_sim.scenario.schema import CATEGORIES

IT = CATEGORIES.index("it_specialist")
JOURNALIST = CATEGORIES.index("journalist_activist")
ACADEMIC = CATEGORIES.index("academic")
DRAFT = CATEGORIES.index("draft_evader")
AA, BB, RU, NOT_LEFT = 0, 1, 2, 3  # location codes in the two-host scenario
H = 2

# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------

_PROFILE = {
    "age": {"mean": 30, "sd": 0, "min": 18, "max": 80},
    "male_share": 0.5,
    "foreign_passport_share": 1.0,
    "passport_years_left": {"low": 5, "high": 5},
    "cash_usd": {"median": 1000, "sigma": 0},
    "russian_savings_usd": {"median": 0, "sigma": 0},
    "remote_income_usd": {"median": 0, "sigma": 0},
    "income_source": {"remote_western": 0, "remote_russian": 0, "none": 1},
    "engagement": {"a": 1, "b": 1},
    "family_ties": {"a": 1, "b": 1},
    "language": {"a": 1, "b": 1},
}


def _host(name: str) -> dict:
    """A neutral host: visa-free for 3 months, no permit paths, no pressure, no hostility."""
    return {
        "name": name,
        "entry": {"visa_free": True, "travel_cost_usd": 100},
        "stay": {"visa_free_months": 3, "visa_run_cost_usd": 150, "permit_months": 12,
                 "renewal_probability": 0.9, "permanent_after_months": 24, "permanent_approval": 0.5,
                 "asylum_processing_months": 6},
        "economy": {"cost_of_living_usd": 1000, "local_wage_usd": 1500, "job_finding": 0.0, "job_loss": 0.0},
        "pressure": {"population_millions": 1.0, "deportation_rate": 0.0, "harassment_rate": 0.0,
                     "hostility_base": 0.0, "hostility_slope": 0.0},
    }


_BASE = {
    "run": {"start": "2022-01", "months": 12, "scale": 1, "seed": 0},
    "population": {
        "waves": [{"name": "w", "start": "2022-01", "end": "2022-01", "size": 10,
                   "category_mix": {"it_specialist": 0.2, "journalist_activist": 0.2, "academic": 0.2,
                                    "businessperson": 0.2, "draft_evader": 0.2}}],
        "profiles": {c: _PROFILE for c in CATEGORIES},
    },
    "hosts": {"AA": _host("Aland"), "BB": _host("Bbland")},
    "russia": {"cost_of_living_usd": 700, "wage_usd": {"default": 900, "it_specialist": 2500},
               "repression_base": 0.0, "repression_engagement": 0.0, "reemigration_rate": 0.0,
               "passport_renewal": 0.8, "renewal_engagement_penalty": 0.5, "return_cost_usd": 300},
}


def tiny(**changes):
    """The two-host scenario with dotted-path changes, e.g. tiny(**{"hosts.AA.entry.visa_free": False})."""
    data = copy.deepcopy(_BASE)
    for path, value in changes.items():
        set_path(data, path, value)
    return validate(data)


def step(sc, *, t: int = 0, n: int, stock=(0.0, 0.0), seed: int = 0) -> Step:
    return Step(
        t=t, n=n, policy=Policy.from_scenario(sc), russia=sc.russia, behaviour=sc.behaviour,
        integration=sc.integration, streams=Streams(seed), n_hosts=H, stock=np.asarray(stock, float),
        peer_return=np.zeros((H, C)), peer_permit=np.zeros((H, C)),
    )


_COLUMNS = {
    "category": (np.int8, IT),
    "male": (bool, False),
    "age0": (np.float32, 30.0),
    "depart": (np.int16, 0),
    "engagement": (np.float32, 0.0),
    "family_ties": (np.float32, 0.0),
    "language": (np.float32, 0.0),
    "income_source": (np.int8, Income.NONE),
    "remote_income": (np.float32, 0.0),
    "cash": (np.float32, 10000.0),
    "ru_savings": (np.float32, 0.0),
    "passport_valid": (bool, True),
    "passport_expiry": (np.int16, 600),
    "travel_doc": (bool, False),
    "location": (np.int16, AA),
    "status": (np.int8, Status.VISA_FREE),
    "stay_left": (np.int16, 12),
    "months_resident": (np.int16, 0),
    "employed": (bool, False),
    "asylum_refused": (bool, False),
    "integration": (np.float32, 0.0),
    "left": (bool, True),
    "persecuted": (bool, False),
    "mobilized": (bool, False),
    "moves": (np.int16, 0),
    "returns": (np.int16, 0),
}


def state(n: int, **cols) -> State:
    """n rows with neutral defaults (abroad in AA, visa-free, passport valid); cols give scalars or lists."""
    out = {}
    for name, (dtype, default) in _COLUMNS.items():
        value = cols.pop(name, default)
        out[name] = np.broadcast_to(np.asarray(value, dtype=dtype), (n,)).copy()
    assert not cols, f"unknown columns {cols}"
    return State(**out)


def flow(st: Step, name: str, loc: int, cat: int) -> int:
    return int(st.flows[name].reshape(H + 2, C)[loc, cat])


def flow_total(st: Step, name: str) -> int:
    return int(st.flows[name].sum())


# --------------------------------------------------------------------------------------------
# 1. Outflow
# --------------------------------------------------------------------------------------------


def test_outflow_departure_month_rows_leave_to_the_only_reachable_host():
    # BB closed (no visa-free entry, visas never approved): everyone leaving in month 1 goes to AA.
    sc = tiny(**{"hosts.BB.entry.visa_free": False})
    s = state(6, depart=[0, 0, 1, 1, 1, 2], location=NOT_LEFT, status=Status.NONE, stay_left=0,
              left=False, cash=5000.0)
    s.location[:2] = AA  # left in month 0
    s.left[:2] = True
    st = step(sc, t=1, n=5)  # rows [0, 5) have had their departure month
    moved = rules.outflow(s, st)
    np.testing.assert_array_equal(moved, [2, 3, 4])
    np.testing.assert_array_equal(s.location, [AA, AA, AA, AA, AA, NOT_LEFT])
    np.testing.assert_array_equal(s.status[2:5], Status.VISA_FREE)
    np.testing.assert_array_equal(s.stay_left[2:5], 3)  # visa_free_months
    np.testing.assert_array_equal(s.cash[2:5], 5000.0 - 100.0)  # travel cost paid
    assert s.left[2:5].all() and not s.left[5]
    assert flow(st, "arrivals", AA, IT) == 3
    assert flow(st, "first_departures", AA, IT) == 3
    assert flow_total(st, "could_not_leave") == 0


def test_outflow_stay_length_visa_free_months_or_three_on_internal_passport():
    # AA grants a 1-month visa-free stay; BB sets no visa-free stay but takes the internal passport: 3 months.
    sc = tiny(**{"hosts.AA.stay.visa_free_months": 1,
                 "hosts.BB.entry.visa_free": False, "hosts.BB.entry.internal_passport_ok": True,
                 "hosts.BB.stay.visa_free_months": 0})
    s = state(4, location=NOT_LEFT, status=Status.NONE, left=False, passport_valid=[True, True, False, False])
    rules.outflow(s, step(sc, n=4))
    np.testing.assert_array_equal(s.status, Status.VISA_FREE)
    np.testing.assert_array_equal(s.location[2:], BB)
    np.testing.assert_array_equal(s.stay_left, np.where(s.location == AA, 1, 3))


def test_outflow_internal_passport_only_reaches_internal_passport_ok_hosts():
    sc = tiny(**{"hosts.BB.entry.internal_passport_ok": True})
    n = 40
    passport = np.arange(n) % 2 == 0
    s = state(n, location=NOT_LEFT, status=Status.NONE, left=False, passport_valid=passport)
    st = step(sc, n=n)
    rules.outflow(s, st)
    # Without a foreign passport only BB (internal passport accepted) is reachable.
    np.testing.assert_array_equal(s.location[~passport], BB)
    # With one, both hosts are reachable and nobody is left behind.
    assert set(s.location[passport].tolist()) <= {AA, BB}
    assert s.left.all()


def test_outflow_internal_passport_only_and_no_internal_passport_host_cannot_leave():
    sc = tiny()
    s = state(3, location=NOT_LEFT, status=Status.NONE, left=False, passport_valid=False, category=DRAFT)
    st = step(sc, n=3)
    moved = rules.outflow(s, st)
    assert len(moved) == 0
    np.testing.assert_array_equal(s.location, NOT_LEFT)
    assert not s.left.any()
    assert flow(st, "could_not_leave", RU, DRAFT) == 3  # counted under RU


def test_outflow_cannot_leave_without_the_travel_cost():
    sc = tiny(**{"hosts.BB.entry.visa_free": False})
    s = state(2, location=NOT_LEFT, status=Status.NONE, left=False, cash=[99.0, 100.0])
    moved = rules.outflow(s, step(sc, n=2))
    np.testing.assert_array_equal(moved, [1])
    np.testing.assert_array_equal(s.location, [NOT_LEFT, AA])


def test_outflow_nobody_enters_an_entry_ban_host_by_visa():
    # AA: visa-free and visas always approved, but banned. BB: closed. Only humanitarian visas pass the ban.
    sc = tiny(**{
        "hosts.AA.entry.entry_ban": True,
        "hosts.AA.entry.visa_approval": 1.0,
        "hosts.AA.entry.humanitarian_visa": True,
        "hosts.AA.entry.humanitarian_approval": 1.0,
        "hosts.BB.entry.visa_free": False,
    })
    engagement = np.array([0.0, 0.0, 1.0, 1.0])
    s = state(4, location=NOT_LEFT, status=Status.NONE, left=False, engagement=engagement)
    st = step(sc, n=4)
    rules.outflow(s, st)
    # Unengaged (humanitarian approval 1 x engagement 0 = 0): cannot leave.
    np.testing.assert_array_equal(s.location[:2], NOT_LEFT)
    # Fully engaged: humanitarian visa to AA, never a visa-free stay or an ordinary visa.
    np.testing.assert_array_equal(s.location[2:], AA)
    np.testing.assert_array_equal(s.status[2:], Status.HUMANITARIAN)
    np.testing.assert_array_equal(s.stay_left[2:], 12)  # permit_months
    assert flow(st, "could_not_leave", RU, IT) == 2


def test_outflow_it_talent_visa_passes_no_entry_ban():
    sc = tiny(**{
        "hosts.AA.entry.entry_ban": True,
        "hosts.AA.entry.it_talent_visa": True,
        "hosts.AA.entry.it_talent_approval": 1.0,
        "hosts.BB.entry.visa_free": False,
    })
    s = state(2, location=NOT_LEFT, status=Status.NONE, left=False)
    rules.outflow(s, step(sc, n=2))
    np.testing.assert_array_equal(s.location, NOT_LEFT)


def test_outflow_visa_when_not_visa_free():
    sc = tiny(**{"hosts.AA.entry.visa_free": False, "hosts.AA.entry.visa_approval": 1.0,
                 "hosts.AA.entry.visa_months": 4, "hosts.BB.entry.visa_free": False})
    s = state(3, location=NOT_LEFT, status=Status.NONE, left=False)
    rules.outflow(s, step(sc, n=3))
    np.testing.assert_array_equal(s.location, AA)
    np.testing.assert_array_equal(s.status, Status.VISA)
    np.testing.assert_array_equal(s.stay_left, 4)


@pytest.mark.parametrize("document", ["internal_passport", "travel_document"])
def test_outflow_entry_ban_bars_every_visa_free_entry(document):
    if document == "internal_passport":
        sc = tiny(**{"hosts.AA.entry.entry_ban": True, "hosts.AA.entry.internal_passport_ok": True,
                     "hosts.BB.entry.visa_free": False})
        s = state(3, location=NOT_LEFT, status=Status.NONE, left=False, passport_valid=False)
    else:
        sc = tiny(**{"hosts.AA.entry.entry_ban": True, "hosts.AA.entry.accepts_travel_document": True,
                     "hosts.BB.entry.visa_free": False})
        s = state(3, location=NOT_LEFT, status=Status.NONE, left=False, passport_valid=False, travel_doc=True)
    rules.outflow(s, step(sc, n=3))
    np.testing.assert_array_equal(s.location, NOT_LEFT)


def test_outflow_work_visa_taken_before_visa_free_and_visas_gives_a_permit_and_the_job():
    # AA: visa-free, short-stay visas and work visas all certain; BB closed. The work visa wins:
    # temporary residence for permit_months (12) and the job on arrival. Row 2 has no passport or
    # travel document: no visa of any kind, and AA does not take the internal passport.
    sc = tiny(**{"hosts.AA.entry.visa_approval": 1.0, "hosts.AA.entry.work_visa": True,
                 "hosts.AA.entry.work_visa_approval": 1.0, "hosts.BB.entry.visa_free": False})
    s = state(3, location=NOT_LEFT, status=Status.NONE, left=False, stay_left=0, passport_valid=[True, True, False])
    st = step(sc, n=3)
    moved = rules.outflow(s, st)
    np.testing.assert_array_equal(moved, [0, 1])
    np.testing.assert_array_equal(s.location, [AA, AA, NOT_LEFT])
    np.testing.assert_array_equal(s.status[:2], Status.TEMPORARY)
    np.testing.assert_array_equal(s.stay_left[:2], 12)
    np.testing.assert_array_equal(s.employed, [True, True, False])
    assert flow(st, "arrivals", AA, IT) == 2
    assert flow_total(st, "permits_granted") == 0  # an entry, not a permit granted from a stay


def test_outflow_work_visa_approved_by_visa_luck_and_category():
    # Work visas only for academics, with probability 0.5: approved where the 'visa_luck' uniform is
    # below 0.5; the others enter AA visa-free, without a job.
    sc = tiny(**{"hosts.AA.entry.work_visa": True,
                 "hosts.AA.entry.work_visa_approval": {"default": 0.0, "academic": 0.5},
                 "hosts.BB.entry.visa_free": False})
    n = 200
    cat = np.where(np.arange(n) % 2 == 0, IT, ACADEMIC).astype(np.int8)
    s = state(n, category=cat, location=NOT_LEFT, status=Status.NONE, left=False, depart=3)
    rules.outflow(s, step(sc, t=3, n=n, seed=4))
    u = Streams(4).uniform("visa_luck", 3, n)
    work = (cat == ACADEMIC) & (u < 0.5)
    assert 0 < work.sum() < (cat == ACADEMIC).sum()
    np.testing.assert_array_equal(s.location, AA)
    np.testing.assert_array_equal(s.status, np.where(work, Status.TEMPORARY, Status.VISA_FREE))
    np.testing.assert_array_equal(s.employed, work)


def test_outflow_work_visa_closed_by_its_switch_and_by_an_entry_ban():
    # Approval 1, but `work_visa: false` in AA: a visa-free entry without a job. BB: work visas
    # offered but an entry ban: nobody gets in, not even on a work visa.
    sc = tiny(**{"hosts.AA.entry.work_visa": False, "hosts.AA.entry.work_visa_approval": 1.0,
                 "hosts.BB.entry.work_visa": True, "hosts.BB.entry.work_visa_approval": 1.0,
                 "hosts.BB.entry.entry_ban": True})
    s = state(2, location=NOT_LEFT, status=Status.NONE, left=False)
    rules.outflow(s, step(sc, n=2))
    np.testing.assert_array_equal(s.location, AA)
    np.testing.assert_array_equal(s.status, Status.VISA_FREE)
    assert not s.employed.any()
    sc = tiny(**{"hosts.AA.entry.work_visa": True, "hosts.AA.entry.work_visa_approval": 1.0,
                 "hosts.AA.entry.entry_ban": True, "hosts.BB.entry.visa_free": False})
    s = state(2, location=NOT_LEFT, status=Status.NONE, left=False)
    assert len(rules.outflow(s, step(sc, n=2))) == 0
    np.testing.assert_array_equal(s.location, NOT_LEFT)


def test_entry_routes_preference_order():
    # AA is visa-free and offers IT-talent visas (0.2), work visas (0.4), humanitarian visas
    # (0.6 x engagement 1) and short-stay visas (0.8); BB only short-stay visas (0.8). With one
    # 'visa luck' uniform per person, the route taken is the first approved in the order
    # IT-talent, work, humanitarian, visa-free, short-stay visa.
    sc = tiny(**{"hosts.AA.entry.it_talent_visa": True, "hosts.AA.entry.it_talent_approval": 0.2,
                 "hosts.AA.entry.work_visa": True, "hosts.AA.entry.work_visa_approval": 0.4,
                 "hosts.AA.entry.humanitarian_visa": True, "hosts.AA.entry.humanitarian_approval": 0.6,
                 "hosts.AA.entry.visa_approval": 0.8,
                 "hosts.BB.entry.visa_free": False, "hosts.BB.entry.visa_approval": 0.8})
    s = state(5, category=[IT, DRAFT, DRAFT, DRAFT, DRAFT], engagement=1.0)
    luck = np.array([0.1, 0.1, 0.5, 0.7, 0.9])
    approved, kind = rules.entry_routes(s, step(sc, n=5), np.arange(5), luck)
    np.testing.assert_array_equal(approved[:, AA], True)
    np.testing.assert_array_equal(
        kind[:, AA], [rules.ROUTE_IT, rules.ROUTE_WORK, rules.ROUTE_HUMANITARIAN, rules.ROUTE_FREE, rules.ROUTE_FREE]
    )
    np.testing.assert_array_equal(approved[:, BB], [True, True, True, True, False])
    np.testing.assert_array_equal(kind[:4, BB], rules.ROUTE_VISA)


# --------------------------------------------------------------------------------------------
# 2. Resources
# --------------------------------------------------------------------------------------------


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
    st = step(sc, n=8)
    income = rules.monthly_income(s, st, np.arange(6))
    # 0: Western pay usable (bank accounts, legal status); 1: no bank accounts in BB; 2: irregular;
    # 3: Russian pay (transfers) + wage + media grant; 4: no transfers in BB; 5: wage only (no grant in BB).
    np.testing.assert_allclose(income, [2000, 0, 0, 1000 + 1500 + 800, 0, 700])
    rules.resources(s, st)
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
    np.testing.assert_array_equal(st.forced, [False, False, False, False, True, False, False, False])
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
    st = step(sc, n=5)
    np.testing.assert_array_equal(rules.can_work(s, st, np.arange(5)), [True, False, True, False, False])
    rules.resources(s, st)
    # Found (chance min(1 * (0.5 + 0.5 * 1), 1) = 1) where allowed; jobs without work rights are lost.
    np.testing.assert_array_equal(s.employed, [True, False, True, False, False])


def test_job_chance_language_and_programme_boosts():
    sc = tiny(**{"hosts.AA.economy.job_finding": 0.1, "hosts.AA.support.university_in_exile": True,
                 "hosts.BB.economy.job_finding": 0.1, "hosts.BB.support.relocation_programme": True})
    s = state(4, category=[ACADEMIC, ACADEMIC, IT, DRAFT], language=[0.0, 1.0, 0.5, 0.5],
              location=[AA, AA, BB, BB])
    st = step(sc, n=4)
    chance = rules.job_chance(s, st, np.arange(4), s.location.astype(np.int64))
    np.testing.assert_allclose(chance, [0.1 * 0.5 * 3, 0.1 * 1.0 * 3, 0.1 * 0.75 * 2, 0.1 * 0.75], rtol=1e-6)


def test_usable_remote_share_rouble_workaround_and_western_pay():
    # AA: bank accounts and Russian transfers; BB: neither. Rouble pay reaches BB only as the
    # workaround share 0.4; Western pay needs bank accounts and legal status; savings need transfers.
    sc = tiny(**{"hosts.AA.economy.russian_transfers": True, "hosts.BB.economy.russian_transfers": False,
                 "hosts.BB.economy.bank_accounts": False, "russia.transfer_workaround_share": 0.4})
    W, R, N = Income.REMOTE_WESTERN, Income.REMOTE_RUSSIAN, Income.NONE
    st = step(sc, n=0)
    source = np.array([W, W, R, R, N, N])
    hosts = np.array([AA, BB, AA, BB, AA, BB])
    np.testing.assert_allclose(rules.usable_remote_share(st, source, hosts), [1, 0, 1, 0.4, 0, 0])
    legal = np.array([False, False, False, False, False, False])
    np.testing.assert_allclose(rules.usable_remote_share(st, source, hosts, legal), [0, 0, 1, 0.4, 0, 0])

    s = state(2, location=[AA, BB], income_source=R, remote_income=1000.0, ru_savings=3000.0, cash=5000.0)
    st = step(sc, n=2)
    np.testing.assert_allclose(rules.monthly_income(s, st, np.arange(2)), [1000, 400])
    # The choice model expects the same shares: V(AA) - V(BB) = beta_income * (1000 - 400) / 1000.
    v = rules.host_utility(s, st, np.arange(2), np.zeros((2, H)))
    np.testing.assert_allclose(v[:, AA] - v[:, BB], 0.6)
    rules.resources(s, st)
    np.testing.assert_allclose(s.cash, [5000 + 3000 + 1000 - 1000, 5000 + 400 - 1000])
    np.testing.assert_allclose(s.ru_savings, [0, 3000])  # the workaround carries income, not savings


def test_russian_income_is_the_better_of_the_wage_and_a_rouble_job():
    # Russian wages: IT 2500, others 900. A rouble remote job counts if it pays more; Western pay never.
    W, R, N = Income.REMOTE_WESTERN, Income.REMOTE_RUSSIAN, Income.NONE
    s = state(5, location=RU, status=Status.NONE, category=[IT, IT, ACADEMIC, ACADEMIC, ACADEMIC],
              income_source=[R, R, R, W, N], remote_income=[1000, 3000, 1200, 2000, 0], cash=0.0)
    st = step(tiny(), n=5)
    np.testing.assert_allclose(rules.russian_income(s, st, np.arange(5)), [2500, 3000, 1200, 900, 900])
    rules.resources(s, st)
    np.testing.assert_allclose(s.cash, [2500 - 700, 3000 - 700, 1200 - 700, 900 - 700, 900 - 700])


# --------------------------------------------------------------------------------------------
# 3. Documents
# --------------------------------------------------------------------------------------------


def test_documents_renewal_probability_one():
    sc = tiny(**{"russia.passport_renewal": 1.0, "russia.renewal_engagement_penalty": 0.0})
    s = state(3, passport_expiry=[5, 4, 6], engagement=1.0)
    st = step(sc, t=5, n=3)
    rules.documents(s, st)
    assert s.passport_valid.all()
    np.testing.assert_array_equal(s.passport_expiry, [5 + 120, 5 + 120, 6])  # renewed from this month; row 2 not due
    assert flow_total(st, "passports_expired") == 0


def test_documents_renewal_probability_zero_abroad_but_certain_in_russia():
    sc = tiny(**{"russia.passport_renewal": 0.0})
    s = state(4, passport_expiry=5, location=[AA, BB, RU, NOT_LEFT], left=[True, True, True, False],
              category=[IT, ACADEMIC, IT, IT])
    st = step(sc, t=5, n=4)
    rules.documents(s, st)
    np.testing.assert_array_equal(s.passport_valid, [False, False, True, True])
    np.testing.assert_array_equal(s.passport_expiry[2:], [125, 5])  # renewed in Russia; not-yet-left untouched
    assert flow(st, "passports_expired", AA, IT) == 1
    assert flow(st, "passports_expired", BB, ACADEMIC) == 1
    assert flow_total(st, "passports_expired") == 2


def test_documents_renewal_probability_falls_with_engagement():
    # p = 0.8 * (1 - 0.5 * engagement); the outcome of each row follows the 'passport' stream.
    sc = tiny()
    n = 200
    engagement = np.linspace(0, 1, n, dtype=np.float32)
    s = state(n, passport_expiry=3, engagement=engagement)
    st = step(sc, t=3, n=n, seed=11)
    rules.documents(s, st)
    u = Streams(11).uniform("passport", 3, n)
    expected = u < 0.8 * (1.0 - 0.5 * engagement)
    np.testing.assert_array_equal(s.passport_valid, expected)
    assert 0 < expected.sum() < n


def test_documents_returnee_without_passport_gets_a_new_one_at_home():
    sc = tiny(**{"russia.passport_renewal": 0.0})
    s = state(3, passport_valid=False, passport_expiry=-1, location=[RU, AA, NOT_LEFT],
              left=[True, True, False], status=[Status.NONE, Status.TEMPORARY, Status.NONE])
    rules.documents(s, step(sc, t=7, n=3))
    np.testing.assert_array_equal(s.passport_valid, [True, False, False])
    assert s.passport_expiry[0] == 7 + 120


def test_documents_travel_document_issued_to_legal_residents_without_passport():
    sc = tiny(**{"hosts.AA.support.travel_document": True})
    s = state(
        5,
        passport_valid=[False, False, False, True, False],
        passport_expiry=-1,
        location=[AA, AA, BB, AA, AA],
        status=[Status.TEMPORARY, Status.VISA_FREE, Status.TEMPORARY, Status.PERMANENT, Status.REFUGEE],
    )
    s.passport_expiry[3] = 600
    rules.documents(s, step(sc, n=5))
    # Residents of AA without a valid passport; not visa-free visitors, not in BB, not passport holders.
    np.testing.assert_array_equal(s.travel_doc, [True, False, False, False, True])


# --------------------------------------------------------------------------------------------
# 4. Legal status
# --------------------------------------------------------------------------------------------


def test_legal_status_visa_free_stay_ends_visa_run_or_irregular():
    sc = tiny(**{"hosts.BB.stay.visa_run_resets": False})
    s = state(
        5,
        location=[AA, AA, BB, AA, AA],
        stay_left=[1, 1, 1, 5, 1],
        cash=[1000, 100, 1000, 1000, 1000],
        passport_valid=[True, True, True, True, False],
    )
    st = step(sc, n=5)
    rules.legal_status(s, st)
    # 0: visa run (affordable, allowed): new 3-month stay, cost paid.
    # 1: can't afford the run (100 < 150); 2: BB does not reset stays; 4: no document to re-enter.
    # 3: stay continues.
    np.testing.assert_array_equal(
        s.status, [Status.VISA_FREE, Status.IRREGULAR, Status.IRREGULAR, Status.VISA_FREE, Status.IRREGULAR]
    )
    np.testing.assert_array_equal(s.stay_left[[0, 3]], [3, 4])
    np.testing.assert_allclose(s.cash, [850, 100, 1000, 1000, 1000])
    assert flow(st, "visa_runs", AA, IT) == 1 and flow_total(st, "visa_runs") == 1
    np.testing.assert_array_equal(st.forced, [False, True, True, False, True])


def test_legal_status_no_visa_run_into_a_banned_or_no_longer_visa_free_host():
    sc = tiny(**{"hosts.AA.entry.entry_ban": True, "hosts.BB.entry.visa_free": False})
    s = state(2, location=[AA, BB], stay_left=1)
    rules.legal_status(s, step(sc, n=2))
    np.testing.assert_array_equal(s.status, Status.IRREGULAR)


def test_legal_status_visa_runs_out():
    s = state(2, status=Status.VISA, stay_left=[1, 2])
    rules.legal_status(s, step(tiny(), n=2))
    np.testing.assert_array_equal(s.status, [Status.IRREGULAR, Status.VISA])


@pytest.mark.parametrize(("renewal", "status_after"), [(1.0, Status.TEMPORARY), (0.0, Status.IRREGULAR)])
def test_legal_status_permit_renewal(renewal, status_after):
    sc = tiny(**{"hosts.AA.stay.renewal_probability": renewal, "hosts.AA.stay.permit_months": 18})
    s = state(3, status=[Status.TEMPORARY, Status.HUMANITARIAN, Status.TEMPORARY], stay_left=[1, 1, 2],
              months_resident=3)
    st = step(sc, n=3)
    rules.legal_status(s, st)
    np.testing.assert_array_equal(s.status[:2], status_after)
    assert s.status[2] == Status.TEMPORARY and s.stay_left[2] == 1  # not expiring
    np.testing.assert_array_equal(s.months_resident, 4)
    if renewal == 1.0:
        np.testing.assert_array_equal(s.stay_left[:2], 18)
        assert flow_total(st, "permits_refused") == 0
        assert not st.forced.any()
    else:
        assert flow(st, "permits_refused", AA, IT) == 2
        np.testing.assert_array_equal(st.forced, [True, True, False])


def test_legal_status_permit_revocation():
    sc = tiny(**{"hosts.AA.stay.revocation_rate": 1.0, "hosts.AA.stay.renewal_probability": 1.0})
    s = state(2, location=[AA, BB], status=Status.TEMPORARY, stay_left=10)
    st = step(sc, n=2)
    rules.legal_status(s, st)
    np.testing.assert_array_equal(s.status, [Status.IRREGULAR, Status.TEMPORARY])
    assert flow(st, "permits_refused", AA, IT) == 1


def test_legal_status_permanent_residence_after_permanent_after_months():
    sc = tiny(**{"hosts.AA.stay.permanent_after_months": 24, "hosts.AA.stay.permanent_approval": 1.0})
    # months_resident is incremented first: 23 -> 24 is eligible, 22 -> 23 is not.
    s = state(3, status=[Status.TEMPORARY, Status.TEMPORARY, Status.HUMANITARIAN], stay_left=10,
              months_resident=[23, 22, 30])
    rules.legal_status(s, step(sc, n=3))
    np.testing.assert_array_equal(s.status, [Status.PERMANENT, Status.TEMPORARY, Status.HUMANITARIAN])
    np.testing.assert_array_equal(s.months_resident, [24, 23, 31])


def test_legal_status_permanent_approval_zero():
    sc = tiny(**{"hosts.AA.stay.permanent_after_months": 1, "hosts.AA.stay.permanent_approval": 0.0})
    s = state(1, status=Status.TEMPORARY, stay_left=10, months_resident=50)
    rules.legal_status(s, step(sc, n=1))
    assert s.status[0] == Status.TEMPORARY


def test_legal_status_asylum_decision():
    sc = tiny(**{"hosts.AA.stay.asylum": {"available": True, "approval": 1.0},
                 "hosts.AA.stay.asylum_min_engagement": 0.5})
    s = state(4, status=Status.ASYLUM_PENDING, stay_left=[1, 1, 1, 3], engagement=[1.0, 0.0, 0.7, 1.0],
              category=JOURNALIST)
    st = step(sc, n=4, seed=3)
    rules.legal_status(s, st)
    # Approval 1 x engagement: granted at 1, refused at 0 (and no second application though asylum is open);
    # at 0.7 per the 'status' stream. Row 3 still waiting.
    u = Streams(3).uniform("status", 0, 4)
    granted_2 = bool(u[2] < np.float32(0.7))
    assert s.status[0] == Status.REFUGEE
    assert s.status[1] == Status.IRREGULAR and s.asylum_refused[1]
    assert s.status[2] == (Status.REFUGEE if granted_2 else Status.IRREGULAR)
    assert s.asylum_refused[2] == (not granted_2)
    assert s.status[3] == Status.ASYLUM_PENDING and s.stay_left[3] == 2
    assert flow(st, "asylum_granted", AA, JOURNALIST) == 1 + granted_2
    assert flow_total(st, "asylum_applications") == 0


def test_legal_status_asylum_application():
    sc = tiny(**{"hosts.AA.stay.asylum": {"available": True, "approval": 0.5},
                 "hosts.AA.stay.asylum_min_engagement": 0.5})
    s = state(
        5,
        location=[AA, AA, AA, BB, AA],
        status=[Status.VISA_FREE, Status.VISA_FREE, Status.IRREGULAR, Status.VISA_FREE, Status.IRREGULAR],
        engagement=[0.8, 0.3, 0.5, 0.9, 0.9],
        asylum_refused=[False, False, False, False, True],
        stay_left=10,
    )
    st = step(sc, n=5)
    rules.legal_status(s, st)
    np.testing.assert_array_equal(
        s.status,
        [Status.ASYLUM_PENDING, Status.VISA_FREE, Status.ASYLUM_PENDING, Status.VISA_FREE, Status.IRREGULAR],
    )
    np.testing.assert_array_equal(s.stay_left[[0, 2]], 6)  # asylum_processing_months
    assert flow(st, "asylum_applications", AA, IT) == 2
    np.testing.assert_array_equal(st.forced, [False, False, False, False, True])


def test_legal_status_permit_applications():
    sc = tiny(**{
        "hosts.AA.stay.work_permit": {"available": True, "approval": 1.0},
        "hosts.BB.stay.company_permit": {"available": True, "approval": 1.0},
        "hosts.BB.stay.company_capital_usd": 2000,
        "hosts.AA.stay.permit_months": 9,
    })
    s = state(
        5,
        location=[AA, AA, BB, BB, AA],
        status=[Status.VISA_FREE, Status.VISA_FREE, Status.VISA, Status.VISA_FREE, Status.IRREGULAR],
        employed=[True, False, False, False, True],
        cash=[0, 0, 2000, 1999, 0],
        stay_left=10,
        months_resident=7,
    )
    st = step(sc, n=5)
    rules.legal_status(s, st)
    # Work permit needs a job; company permit needs the capital; no applications without status.
    np.testing.assert_array_equal(
        s.status, [Status.TEMPORARY, Status.VISA_FREE, Status.TEMPORARY, Status.VISA_FREE, Status.IRREGULAR]
    )
    np.testing.assert_array_equal(s.stay_left[[0, 2]], [9, 12])
    np.testing.assert_array_equal(s.months_resident[[0, 2]], 0)
    assert flow(st, "permits_granted", AA, IT) == 1 and flow(st, "permits_granted", BB, IT) == 1


def test_legal_status_work_permit_for_the_unemployed_needs_a_job_first():
    # Work path approval 1: certain with a job; without one, as likely as finding one this month
    # (job_finding 0.4 x (0.5 + 0.5 x language 1) = 0.4), drawn from the 'permit' stream.
    sc = tiny(**{"hosts.AA.stay.work_permit": {"available": True, "approval": 1.0},
                 "hosts.AA.economy.job_finding": 0.4})
    n = 200
    employed = np.arange(n) < 20
    s = state(n, employed=employed, language=1.0, stay_left=10)
    st = step(sc, t=2, n=n, seed=9)
    rules.legal_status(s, st)
    u = Streams(9).uniform("permit", 2, n)
    expected = employed | (u < 1.0 - (1.0 - 1.0 * 0.4))
    np.testing.assert_array_equal(s.status == Status.TEMPORARY, expected)
    assert 20 < expected.sum() < n


def test_legal_status_permit_application_probability_from_stream():
    # Family path 0.3 and company path 0.25 (doubled to 0.5 for IT by a relocation programme):
    # P(permit) = 1 - (1 - 0.3)(1 - 0.5) = 0.65 for IT, 1 - 0.7 * 0.75 = 0.475 for academics.
    sc = tiny(**{
        "hosts.AA.stay.family_permit": {"available": True, "approval": 0.3},
        "hosts.AA.stay.company_permit": {"available": True, "approval": 0.25},
        "hosts.AA.stay.company_capital_usd": 0,
        "hosts.AA.support.relocation_programme": True,
    })
    n = 300
    cat = np.where(np.arange(n) % 2 == 0, IT, ACADEMIC).astype(np.int8)
    s = state(n, category=cat, stay_left=10)
    st = step(sc, t=4, n=n, seed=5)
    rules.legal_status(s, st)
    u = Streams(5).uniform("permit", 4, n)
    p = np.where(cat == IT, 1 - 0.7 * 0.5, 1 - 0.7 * 0.75)
    np.testing.assert_array_equal(s.status == Status.TEMPORARY, u < p)


def test_legal_status_permit_renewal_needs_a_document_the_host_accepts():
    # Renewal certain. AA accepts travel documents, BB does not. Without a valid passport a permit is
    # renewed only on an accepted travel document; a humanitarian visa likewise.
    sc = tiny(**{"hosts.AA.stay.renewal_probability": 1.0, "hosts.BB.stay.renewal_probability": 1.0,
                 "hosts.AA.entry.accepts_travel_document": True})
    s = state(
        5,
        location=[AA, AA, AA, BB, AA],
        status=[Status.TEMPORARY, Status.TEMPORARY, Status.TEMPORARY, Status.TEMPORARY, Status.HUMANITARIAN],
        passport_valid=[True, False, False, False, False],
        travel_doc=[False, False, True, True, False],
        stay_left=1,
    )
    st = step(sc, n=5)
    rules.legal_status(s, st)
    np.testing.assert_array_equal(
        s.status, [Status.TEMPORARY, Status.IRREGULAR, Status.TEMPORARY, Status.IRREGULAR, Status.IRREGULAR]
    )
    np.testing.assert_array_equal(s.stay_left[[0, 2]], 12)
    assert flow(st, "permits_refused", AA, IT) == 2 and flow(st, "permits_refused", BB, IT) == 1
    np.testing.assert_array_equal(st.forced, [False, True, False, True, True])
    # Where the internal passport suffices, it is the document.
    sc = tiny(**{"hosts.AA.stay.renewal_probability": 1.0, "hosts.AA.entry.internal_passport_ok": True})
    s = state(1, status=Status.TEMPORARY, passport_valid=False, stay_left=1)
    rules.legal_status(s, step(sc, n=1))
    assert s.status[0] == Status.TEMPORARY and s.stay_left[0] == 12


def test_legal_status_new_permit_needs_a_document_the_host_accepts():
    # Family path certain in both hosts; AA accepts travel documents, BB does not. Without a
    # document the application fails and the stay or visa simply continues.
    sc = tiny(**{"hosts.AA.stay.family_permit": {"available": True, "approval": 1.0},
                 "hosts.BB.stay.family_permit": {"available": True, "approval": 1.0},
                 "hosts.AA.entry.accepts_travel_document": True})
    s = state(
        5,
        location=[AA, AA, AA, BB, AA],
        status=[Status.VISA_FREE, Status.VISA_FREE, Status.VISA_FREE, Status.VISA_FREE, Status.VISA],
        passport_valid=[True, False, False, False, False],
        travel_doc=[False, False, True, True, False],
        stay_left=10,
    )
    st = step(sc, n=5)
    rules.legal_status(s, st)
    np.testing.assert_array_equal(
        s.status, [Status.TEMPORARY, Status.VISA_FREE, Status.TEMPORARY, Status.VISA_FREE, Status.VISA]
    )
    np.testing.assert_array_equal(s.stay_left, [12, 9, 12, 9, 9])
    assert flow(st, "permits_granted", AA, IT) == 2 and flow_total(st, "permits_granted") == 2
    assert not st.forced.any()


# --------------------------------------------------------------------------------------------
# 5. Integration
# --------------------------------------------------------------------------------------------


def test_integration_one_step_formula():
    sc = tiny(**{
        "hosts.AA.support.integration_courses": 0.5,
        "hosts.AA.pressure.hostility_base": 0.1,
        "hosts.AA.pressure.enclave_threshold_pct": 1.0,
        "hosts.AA.pressure.hostility_slope": 0.1,
        "hosts.AA.pressure.population_millions": 1.0,
    })
    # Defaults: base_rate 0.03, work_bonus 1, secure_bonus 0.5, courses_bonus 1, enclave_penalty 0.5,
    # enclave_half_pct 1, hostility_penalty 0.5, language_rate 0.02.
    s = state(3, location=[AA, AA, RU], status=[Status.TEMPORARY, Status.IRREGULAR, Status.NONE], employed=True,
              language=0.4, integration=0.2)
    st = step(sc, n=3, stock=(20000.0, 0.0))  # 2 % of AA's population
    rules.integration(s, st)
    # Enclave 2 %: penalty 0.5 * 2 / (2 + 1) = 1/3. Hostility 0.1 + 0.1 * (2 - 1) = 0.2 -> factor 1 - 0.5 * 0.2.
    rate = 0.03 * (1 + 1 + 0.5 + 1 * 0.5) * (0.5 + 0.5 * 0.4) * (1 - 1 / 3) * (1 - 0.5 * 0.2)
    assert rate == pytest.approx(0.0378)
    assert s.integration[0] == pytest.approx(0.2 + 0.0378 * 0.8, rel=1e-6)  # 0.23024
    assert s.integration[1] == pytest.approx(0.2)  # no growth without status
    assert s.integration[2] == pytest.approx(0.2)  # not abroad
    # Language: 0.4 + 0.02 * (1 + 1 * 0.5) * (1 - 0.4) = 0.418, with or without status.
    np.testing.assert_allclose(s.language, [0.418, 0.418, 0.4], rtol=1e-6)


# --------------------------------------------------------------------------------------------
# 6. Pressure
# --------------------------------------------------------------------------------------------


def test_pressure_detention_extradition_and_expulsion():
    sc = tiny(**{"hosts.AA.pressure.security_cooperation": 1.0, "hosts.AA.pressure.extradition_share": 1.0,
                 "hosts.BB.pressure.security_cooperation": 1.0, "hosts.BB.pressure.extradition_share": 0.0})
    s = state(4, location=[AA, AA, BB, BB], engagement=[1.0, 0.0, 1.0, 0.0], category=JOURNALIST,
              cash=1000.0, status=Status.TEMPORARY)
    st = step(sc, n=4)
    rules.pressure(s, st)
    # Row 0: detained and extradited -> back in Russia, persecuted. Row 2: detained, expelled from BB.
    np.testing.assert_array_equal(s.location, [RU, AA, BB, BB])
    np.testing.assert_array_equal(s.persecuted, [True, False, False, False])
    np.testing.assert_array_equal(st.expelled, [False, False, True, False])
    assert s.status[0] == Status.NONE and s.returns[0] == 1 and s.cash[0] == 700.0
    assert flow(st, "detained", AA, JOURNALIST) == 1 and flow(st, "detained", BB, JOURNALIST) == 1
    assert flow(st, "extradited", AA, JOURNALIST) == 1 and flow_total(st, "extradited") == 1
    assert flow(st, "forced_returns", AA, JOURNALIST) == 1 and flow(st, "returns", AA, JOURNALIST) == 1
    assert flow_total(st, "deported") == 0


def test_pressure_irregular_deported():
    sc = tiny(**{"hosts.AA.pressure.deportation_rate": 1.0})
    s = state(3, location=[AA, AA, BB], status=[Status.IRREGULAR, Status.VISA_FREE, Status.IRREGULAR])
    st = step(sc, n=3)
    rules.pressure(s, st)
    np.testing.assert_array_equal(s.location, [RU, AA, BB])
    assert not s.persecuted.any()
    assert flow(st, "deported", AA, IT) == 1 and flow(st, "forced_returns", AA, IT) == 1


def test_pressure_harassment():
    sc = tiny(**{"hosts.AA.pressure.harassment_rate": 1.0, "hosts.AA.pressure.hostility_base": 1.0})
    s = state(3, location=[AA, BB, RU])
    st = step(sc, n=3)
    rules.pressure(s, st)
    np.testing.assert_array_equal(st.harassed, [True, False, False])
    assert flow(st, "harassed", AA, IT) == 1


# --------------------------------------------------------------------------------------------
# 7. Russia
# --------------------------------------------------------------------------------------------


def test_russia_repression_probability_one():
    sc = tiny(**{"russia.repression_base": 1.0})
    s = state(3, location=[RU, RU, AA], status=Status.NONE, persecuted=[False, True, False],
              category=[JOURNALIST, JOURNALIST, IT])
    st = step(sc, n=3)
    rules.russia(s, st)
    np.testing.assert_array_equal(s.persecuted, [True, True, False])
    assert flow(st, "newly_persecuted", RU, JOURNALIST) == 1  # newly persecuted only


def test_russia_repression_grows_with_engagement():
    sc = tiny(**{"russia.repression_base": 0.0, "russia.repression_engagement": 1.0})
    s = state(2, location=RU, status=Status.NONE, engagement=[0.0, 1.0])
    rules.russia(s, step(sc, n=2))
    np.testing.assert_array_equal(s.persecuted, [False, True])


def test_russia_mobilization_calls_up_draft_age_men_only():
    sc = tiny(**{"russia.mobilization": True, "russia.draft_risk": 1.0})
    # Ages this month: age0 + (t - depart) / 12 with t = 12, depart = 0: +1 year.
    s = state(
        5,
        location=RU,
        status=Status.NONE,
        male=[True, False, True, True, True],
        age0=[30.0, 30.0, 49.5, 16.5, 17.0],
        category=DRAFT,
    )
    st = step(sc, t=12, n=5)
    rules.russia(s, st)
    # 31 man: called; 31 woman: no; 50.5: too old; 17.5: too young; 18.0: called.
    np.testing.assert_array_equal(s.mobilized, [True, False, False, False, True])
    assert flow(st, "newly_mobilized", RU, DRAFT) == 2


def test_russia_no_call_up_without_mobilization():
    sc = tiny(**{"russia.mobilization": False, "russia.draft_risk": 1.0})
    s = state(2, location=RU, status=Status.NONE, male=True)
    rules.russia(s, step(sc, n=2))
    assert not s.mobilized.any()


def test_russia_reemigration_rate_one():
    sc = tiny(**{"russia.reemigration_rate": 1.0, "hosts.BB.entry.visa_free": False})
    s = state(4, location=[RU, RU, RU, RU], status=Status.NONE, persecuted=[False, True, False, False],
              mobilized=[False, False, True, False], cash=[1000, 1000, 1000, 50], returns=1)
    st = step(sc, n=4)
    rules.russia(s, st)
    # The persecuted and mobilized can't leave; row 3 can't pay the travel cost.
    np.testing.assert_array_equal(s.location, [AA, RU, RU, RU])
    assert s.status[0] == Status.VISA_FREE and s.cash[0] == 900
    assert flow(st, "reemigrations", AA, IT) == 1 and flow(st, "arrivals", AA, IT) == 1
    assert flow_total(st, "first_departures") == 0 and flow_total(st, "departures") == 0


def test_russia_mobilization_flight_for_draft_age_men():
    sc = tiny(**{"russia.mobilization": True, "russia.draft_risk": 0.0, "russia.mobilization_flight": 1.0,
                 "hosts.BB.entry.visa_free": False})
    s = state(3, location=RU, status=Status.NONE, male=[True, False, True], age0=[25.0, 25.0, 60.0])
    rules.russia(s, step(sc, n=3))
    np.testing.assert_array_equal(s.location, [AA, RU, RU])


# --------------------------------------------------------------------------------------------
# 8. Decision: choose() and decide()
# --------------------------------------------------------------------------------------------


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
    st = step(sc, n=n)
    st.expelled[:10] = True
    rules.decide(s, st, np.arange(n), allow_stay=True, allow_return=True)
    # The expelled must return to Russia (their only feasible option).
    np.testing.assert_array_equal(s.location[:10], RU)
    assert flow(st, "returns", AA, IT) >= 10


def test_decide_expelled_moves_on_when_another_host_is_open():
    sc = tiny()  # BB visa-free
    n = 30
    s = state(n, location=AA, status=Status.PERMANENT, integration=1.0, cash=5000.0)
    st = step(sc, n=n)
    st.expelled[:] = True
    moved = rules.decide(s, st, np.arange(n), allow_stay=True, allow_return=False)
    np.testing.assert_array_equal(s.location, BB)
    np.testing.assert_array_equal(moved, np.arange(n))
    np.testing.assert_array_equal(s.moves, 1)
    np.testing.assert_allclose(s.integration, 0.3)  # carry_over
    assert flow(st, "onward_moves", AA, IT) == n and flow(st, "arrivals", BB, IT) == n


def test_decide_stays_when_staying_is_the_only_option():
    sc = tiny(**{"hosts.BB.entry.visa_free": False})
    s = state(5, location=AA, status=Status.VISA_FREE)
    st = step(sc, n=5)
    st.forced[:] = True
    moved = rules.decide(s, st, np.arange(5), allow_stay=True, allow_return=False)
    assert len(moved) == 0
    np.testing.assert_array_equal(s.location, AA)


def test_decide_never_moves_to_an_unaffordable_host():
    sc = tiny(**{"hosts.BB.entry.travel_cost_usd": 5000})
    s = state(20, location=AA, status=Status.IRREGULAR, cash=4999.0)
    st = step(sc, n=20)
    st.expelled[:] = True
    rules.decide(s, st, np.arange(20), allow_stay=True, allow_return=True)
    np.testing.assert_array_equal(s.location, RU)


def test_decisions_only_the_forced_expelled_and_reconsidering_decide():
    # Nobody reconsiders (rates 0); BB is far more attractive but only the expelled row must choose.
    sc = tiny(**{"behaviour.decision_rate": 0.0, "behaviour.pressure_decision_rate": 0.0,
                 "hosts.BB.attractiveness": 20.0})
    s = state(3, location=AA, status=Status.TEMPORARY, cash=5000.0)
    st = step(sc, n=3)
    st.expelled[2] = True
    rules.decisions(s, st)
    assert s.location[0] == AA and s.location[1] == AA
    assert s.location[2] in (BB, RU)


def test_decisions_reconsider_rate_one_moves_toward_a_dominant_host():
    sc = tiny(**{"behaviour.decision_rate": 1.0, "hosts.BB.attractiveness": 30.0,
                 "behaviour.return_constant": -30.0})
    s = state(10, location=AA, status=Status.VISA_FREE, cash=5000.0)
    st = step(sc, n=10)
    rules.decisions(s, st)
    np.testing.assert_array_equal(s.location, BB)


def test_host_utility_wage_weighted_by_expected_employment():
    # V(h) = beta_income * (wage * employment - cost) / 1000 + beta_savings * ln(1 + cash / cost), with
    # beta_income 1, beta_savings 0.5, wage 1500, cost 1000, cash 1000; attractiveness, risk, hostility,
    # diaspora and peers are 0.
    s = state(3, cash=1000.0)
    employment = np.array([[1.0, 0.0], [0.6, 0.0], [0.0, 0.0]])
    v = rules.host_utility(s, step(tiny(), n=3), np.arange(3), employment)
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
    st = step(sc, n=4)
    rules.decide(s, st, np.arange(4))
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
    st = step(sc, n=3)
    rules.decide(s, st, np.arange(3))
    np.testing.assert_array_equal(s.location, BB if goes else AA)


@pytest.mark.parametrize("beta_legal", [1.0, 7.0])
def test_return_utility_hand_computed_without_legal_security(beta_legal):
    # R = return_constant 0 + beta_income * (income_ru - 700) / 1000 + 0.5 * ln(1 + max(cash, 0) / 700);
    # no repression, draft (women), family ties, lure or peers; beta_legal plays no part.
    sc = tiny(**{"behaviour.beta_legal": beta_legal})
    s = state(2, category=[IT, ACADEMIC], income_source=[Income.REMOTE_RUSSIAN, Income.NONE],
              remote_income=[3000.0, 0.0], cash=[1400.0, -50.0])
    r = rules.return_utility(s, step(sc, n=2), np.arange(2))
    expected = [(3000 - 700) / 1000 + 0.5 * math.log(1 + 1400 / 700), (900 - 700) / 1000 + 0.0]
    np.testing.assert_allclose(r, expected, rtol=1e-6)


# --------------------------------------------------------------------------------------------
# 9. Peer rates
# --------------------------------------------------------------------------------------------


def test_peer_rates_return_and_permit_rates():
    st = step(tiny(), n=0)
    st.flows["returns"].reshape(H + 2, C)[AA, IT] = 3
    st.flows["returns"].reshape(H + 2, C)[RU, IT] = 99  # not a host: ignored
    st.flows["permits_granted"].reshape(H + 2, C)[BB, ACADEMIC] = 2
    stock = np.zeros((H, C))
    stock[AA, IT] = 30
    stock[BB, ACADEMIC] = 0  # empty cell: denominator 1
    _, ret, perm = rules.peer_rates(st, stock, np.zeros((3, H, C)), 0.0)
    assert ret.shape == perm.shape == (H, C)
    expected_ret = np.zeros((H, C))
    expected_ret[AA, IT] = 0.1
    expected_perm = np.zeros((H, C))
    expected_perm[BB, ACADEMIC] = 2.0
    np.testing.assert_allclose(ret, expected_ret)
    np.testing.assert_allclose(perm, expected_perm)


def test_peer_rates_remember_past_months():
    # memory 0.75: counts move a quarter of the way to this month's each month.
    st = step(tiny(), n=0)
    st.flows["returns"].reshape(H + 2, C)[AA, IT] = 2
    stock = np.zeros((H, C))
    stock[AA, IT] = 10
    past = np.zeros((3, H, C))
    past[0, AA, IT], past[2, AA, IT] = 0.0, 20.0  # no returns lately among 20 peers
    counts, ret, _ = rules.peer_rates(st, stock, past, 0.75)
    assert counts[0, AA, IT] == pytest.approx(0.5)  # 0.75 * 0 + 0.25 * 2
    assert counts[2, AA, IT] == pytest.approx(17.5)  # 0.75 * 20 + 0.25 * 10
    assert ret[AA, IT] == pytest.approx(0.5 / 17.5)
    assert ret[BB, IT] == 0.0


def test_peer_rates_small_communities_count_as_min_agents():
    # A floor of 30 agents: 3 returns and 2 permits among 10 peers are read as 3/30 and 2/30;
    # among 60 peers the floor does not bind (6/60).
    st = step(tiny(), n=0)
    st.flows["returns"].reshape(H + 2, C)[AA, IT] = 3
    st.flows["permits_granted"].reshape(H + 2, C)[AA, IT] = 2
    st.flows["returns"].reshape(H + 2, C)[BB, IT] = 6
    agents = np.zeros((H, C))
    agents[AA, IT], agents[BB, IT] = 10, 60
    _, ret, perm = rules.peer_rates(st, agents, np.zeros((3, H, C)), 0.0, 30.0)
    assert ret[AA, IT] == pytest.approx(3 / 30)
    assert perm[AA, IT] == pytest.approx(2 / 30)
    assert ret[BB, IT] == pytest.approx(6 / 60)


def test_model_peer_rates_are_rates_in_consistent_units():
    # Recorder stocks are persons (agents x scale) and step flows are agents: the model must put
    # them in the same unit before dividing, or peer rates shrink with run.scale.
    from diaspora_sim.model.model import DiasporaModel
    from diaspora_sim.scenario.loading import load_scenario, with_run

    baseline = Path(__file__).resolve().parents[1] / "scenarios" / "baseline_2022.yaml"
    sc = with_run(load_scenario(baseline), scale=400, months=8)
    m = DiasporaModel(sc)
    Hm, memory = m.n_hosts, m.config.behaviour.peer_memory
    returns, peers = np.zeros((Hm, C)), np.zeros((Hm, C))  # smoothed, in persons
    checked = 0
    for t in range(8):
        m.step()
        rec = m.recorder.data
        stock = rec["stock"][t - 1, :Hm, :C] if t else np.zeros((Hm, C))
        returns = memory * returns + (1 - memory) * rec["returns"][t, :Hm, :C]
        peers = memory * peers + (1 - memory) * stock
        ok = peers > 0
        floor = max(m.config.behaviour.peer_min_persons, sc.run.scale)  # small communities count as this large
        expected = returns[ok] / np.maximum(peers[ok], floor)  # persons / persons
        np.testing.assert_allclose(m.peer_return[ok], expected, rtol=1e-9)
        checked += int((expected > 0).sum())
    assert checked > 0
