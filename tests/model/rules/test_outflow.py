"""Outflow: who leaves, to which host, by which route (rules.outflow, rules.choice.entry_routes).

Hand-computed expectations on tiny hand-built states (see tests/model/builders.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from diaspora_sim.model import rules
from diaspora_sim.model.state import Status
from diaspora_sim.model.streams import Streams

from ..builders import (
    AA,
    ACADEMIC,
    BB,
    DRAFT,
    IT,
    NOT_LEFT,
    RU,
    context,
    flow,
    flow_total,
    state,
    tiny,
)


def test_outflow_departure_month_rows_leave_to_the_only_reachable_host():
    # BB closed (no visa-free entry, visas never approved): everyone leaving in month 1 goes to AA.
    sc = tiny(**{"hosts.BB.entry.visa_free": False})
    s = state(6, depart=[0, 0, 1, 1, 1, 2], location=NOT_LEFT, status=Status.NONE, stay_left=0,
              left=False, cash=5000.0)
    s.location[:2] = AA  # left in month 0
    s.left[:2] = True
    ctx = context(sc, t=1, n=5)  # rows [0, 5) have had their departure month
    moved = rules.outflow(s, ctx)
    np.testing.assert_array_equal(moved, [2, 3, 4])
    np.testing.assert_array_equal(s.location, [AA, AA, AA, AA, AA, NOT_LEFT])
    np.testing.assert_array_equal(s.status[2:5], Status.VISA_FREE)
    np.testing.assert_array_equal(s.stay_left[2:5], 3)  # visa_free_months
    np.testing.assert_array_equal(s.cash[2:5], 5000.0 - 100.0)  # travel cost paid
    assert s.left[2:5].all() and not s.left[5]
    assert flow(ctx, "arrivals", AA, IT) == 3
    assert flow(ctx, "first_departures", AA, IT) == 3
    assert flow_total(ctx, "could_not_leave") == 0


def test_outflow_stay_length_visa_free_months_or_three_on_internal_passport():
    # AA grants a 1-month visa-free stay; BB sets no visa-free stay but takes the internal passport: 3 months.
    sc = tiny(**{"hosts.AA.stay.visa_free_months": 1,
                 "hosts.BB.entry.visa_free": False, "hosts.BB.entry.internal_passport_ok": True,
                 "hosts.BB.stay.visa_free_months": 0})
    s = state(4, location=NOT_LEFT, status=Status.NONE, left=False, passport_valid=[True, True, False, False])
    rules.outflow(s, context(sc, n=4))
    np.testing.assert_array_equal(s.status, Status.VISA_FREE)
    np.testing.assert_array_equal(s.location[2:], BB)
    np.testing.assert_array_equal(s.stay_left, np.where(s.location == AA, 1, 3))


def test_outflow_internal_passport_only_reaches_internal_passport_ok_hosts():
    sc = tiny(**{"hosts.BB.entry.internal_passport_ok": True})
    n = 40
    passport = np.arange(n) % 2 == 0
    s = state(n, location=NOT_LEFT, status=Status.NONE, left=False, passport_valid=passport)
    ctx = context(sc, n=n)
    rules.outflow(s, ctx)
    # Without a foreign passport only BB (internal passport accepted) is reachable.
    np.testing.assert_array_equal(s.location[~passport], BB)
    # With one, both hosts are reachable and nobody is left behind.
    assert set(s.location[passport].tolist()) <= {AA, BB}
    assert s.left.all()


def test_outflow_internal_passport_only_and_no_internal_passport_host_cannot_leave():
    sc = tiny()
    s = state(3, location=NOT_LEFT, status=Status.NONE, left=False, passport_valid=False, category=DRAFT)
    ctx = context(sc, n=3)
    moved = rules.outflow(s, ctx)
    assert len(moved) == 0
    np.testing.assert_array_equal(s.location, NOT_LEFT)
    assert not s.left.any()
    assert flow(ctx, "could_not_leave", RU, DRAFT) == 3  # counted under RU


def test_outflow_cannot_leave_without_the_travel_cost():
    sc = tiny(**{"hosts.BB.entry.visa_free": False})
    s = state(2, location=NOT_LEFT, status=Status.NONE, left=False, cash=[99.0, 100.0])
    moved = rules.outflow(s, context(sc, n=2))
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
    ctx = context(sc, n=4)
    rules.outflow(s, ctx)
    # Unengaged (humanitarian approval 1 x engagement 0 = 0): cannot leave.
    np.testing.assert_array_equal(s.location[:2], NOT_LEFT)
    # Fully engaged: humanitarian visa to AA, never a visa-free stay or an ordinary visa.
    np.testing.assert_array_equal(s.location[2:], AA)
    np.testing.assert_array_equal(s.status[2:], Status.HUMANITARIAN)
    np.testing.assert_array_equal(s.stay_left[2:], 12)  # permit_months
    assert flow(ctx, "could_not_leave", RU, IT) == 2


def test_outflow_it_talent_visa_passes_no_entry_ban():
    sc = tiny(**{
        "hosts.AA.entry.entry_ban": True,
        "hosts.AA.entry.it_talent_visa": True,
        "hosts.AA.entry.it_talent_approval": 1.0,
        "hosts.BB.entry.visa_free": False,
    })
    s = state(2, location=NOT_LEFT, status=Status.NONE, left=False)
    rules.outflow(s, context(sc, n=2))
    np.testing.assert_array_equal(s.location, NOT_LEFT)


def test_outflow_visa_when_not_visa_free():
    sc = tiny(**{"hosts.AA.entry.visa_free": False, "hosts.AA.entry.visa_approval": 1.0,
                 "hosts.AA.entry.visa_months": 4, "hosts.BB.entry.visa_free": False})
    s = state(3, location=NOT_LEFT, status=Status.NONE, left=False)
    rules.outflow(s, context(sc, n=3))
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
    rules.outflow(s, context(sc, n=3))
    np.testing.assert_array_equal(s.location, NOT_LEFT)


def test_outflow_work_visa_taken_before_visa_free_and_visas_gives_a_permit_and_the_job():
    # AA: visa-free, short-stay visas and work visas all certain; BB closed. The work visa wins:
    # temporary residence for permit_months (12) and the job on arrival. Row 2 has no passport or
    # travel document: no visa of any kind, and AA does not take the internal passport.
    sc = tiny(**{"hosts.AA.entry.visa_approval": 1.0, "hosts.AA.entry.work_visa": True,
                 "hosts.AA.entry.work_visa_approval": 1.0, "hosts.BB.entry.visa_free": False})
    s = state(3, location=NOT_LEFT, status=Status.NONE, left=False, stay_left=0, passport_valid=[True, True, False])
    ctx = context(sc, n=3)
    moved = rules.outflow(s, ctx)
    np.testing.assert_array_equal(moved, [0, 1])
    np.testing.assert_array_equal(s.location, [AA, AA, NOT_LEFT])
    np.testing.assert_array_equal(s.status[:2], Status.TEMPORARY)
    np.testing.assert_array_equal(s.stay_left[:2], 12)
    np.testing.assert_array_equal(s.employed, [True, True, False])
    assert flow(ctx, "arrivals", AA, IT) == 2
    assert flow_total(ctx, "permits_granted") == 0  # an entry, not a permit granted from a stay


def test_outflow_work_visa_approved_by_visa_luck_and_category():
    # Work visas only for academics, with probability 0.5: approved where the 'visa_luck' uniform is
    # below 0.5; the others enter AA visa-free, without a job.
    sc = tiny(**{"hosts.AA.entry.work_visa": True,
                 "hosts.AA.entry.work_visa_approval": {"default": 0.0, "academic": 0.5},
                 "hosts.BB.entry.visa_free": False})
    n = 200
    cat = np.where(np.arange(n) % 2 == 0, IT, ACADEMIC).astype(np.int8)
    s = state(n, category=cat, location=NOT_LEFT, status=Status.NONE, left=False, depart=3)
    rules.outflow(s, context(sc, t=3, n=n, seed=4))
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
    rules.outflow(s, context(sc, n=2))
    np.testing.assert_array_equal(s.location, AA)
    np.testing.assert_array_equal(s.status, Status.VISA_FREE)
    assert not s.employed.any()
    sc = tiny(**{"hosts.AA.entry.work_visa": True, "hosts.AA.entry.work_visa_approval": 1.0,
                 "hosts.AA.entry.entry_ban": True, "hosts.BB.entry.visa_free": False})
    s = state(2, location=NOT_LEFT, status=Status.NONE, left=False)
    assert len(rules.outflow(s, context(sc, n=2))) == 0
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
    approved, kind = rules.entry_routes(s, context(sc, n=5), np.arange(5), luck)
    np.testing.assert_array_equal(approved[:, AA], True)
    np.testing.assert_array_equal(
        kind[:, AA], [rules.ROUTE_IT, rules.ROUTE_WORK, rules.ROUTE_HUMANITARIAN, rules.ROUTE_FREE, rules.ROUTE_FREE]
    )
    np.testing.assert_array_equal(approved[:, BB], [True, True, True, True, False])
    np.testing.assert_array_equal(kind[:4, BB], rules.ROUTE_VISA)


# --------------------------------------------------------------------------------------------
