"""Citizenship on arrival (a law of return, Israel's), its early departures, and the border route to
asylum (the US southern border): routes, the consequences of arriving, the early-departure decision.
docs/model.md sections 8 and 12."""

from __future__ import annotations

import numpy as np

from diaspora_sim.model import rules
from diaspora_sim.model.rules.choice import route_into
from diaspora_sim.model.rules.codes import ABSORPTION_MONTHS, EARLY_DEPARTURE_MONTHS
from diaspora_sim.model.state import Status
from diaspora_sim.model.streams import Streams

from ..builders import AA, BB, DRAFT, IT, NOT_LEFT, context, flow, state, tiny


def test_route_precedence_by_hand():
    # (free, can_apply, open, is_it, luck, citizen, visa, humanitarian, work, it, border)
    assert route_into(True, True, True, True, 0.0, True, 1, 1, 1, 1, 1) == rules.ROUTE_CITIZEN
    assert route_into(True, False, True, False, 0.0, True, 1, 1, 1, 1, 1) == rules.ROUTE_FREE  # no document to fly on
    # an entry ban does not bar citizens
    assert route_into(True, True, False, False, 0.0, True, 0, 0, 0, 0, 1) == rules.ROUTE_CITIZEN
    # the border crossing is more secure than a visa-free stay (a pending claim), less than a humanitarian visa
    assert route_into(True, True, True, False, 0.3, False, 1, 0.5, 0, 0, 0.4) == rules.ROUTE_HUMANITARIAN
    assert route_into(True, True, True, False, 0.45, False, 1, 0.5, 0, 0, 0.5) == rules.ROUTE_HUMANITARIAN
    assert route_into(True, True, True, False, 0.45, False, 1, 0.4, 0, 0, 0.5) == rules.ROUTE_BORDER
    assert route_into(False, True, True, False, 0.6, False, 1, 0, 0, 0, 0.5) == rules.ROUTE_VISA
    assert route_into(False, True, False, False, 0.1, False, 1, 0, 0, 0, 0.5) == -1  # entry ban closes the border too
    assert route_into(False, False, True, False, 0.1, False, 1, 0, 0, 0, 0.5) == -1  # no passport


def test_eligibility_is_the_fixed_ancestry_uniform_below_the_category_share():
    # BB: visa needed (never approved) and a law of return for 30% of IT specialists, 0% of draft evaders.
    sc = tiny(**{"hosts.BB.entry.visa_free": False, "hosts.BB.entry.law_of_return": {"default": 0.0, "it_specialist": 0.3}})
    n = 400
    s = state(n, category=[IT] * 200 + [DRAFT] * 200)
    rows = np.arange(n)
    ancestry = Streams(0).draws("ancestry", -1, rows)
    for t in (0, 7):  # the same persons are eligible in every month
        _, kind = rules.entry_routes(s, context(sc, t=t, n=n), rows, np.full(n, 0.99))
        expected = np.where((np.arange(n) < 200) & (ancestry < 0.3), rules.ROUTE_CITIZEN, -1)
        np.testing.assert_array_equal(kind[:, BB], expected)
    assert 40 < np.count_nonzero(kind[:, BB] == rules.ROUTE_CITIZEN) < 80  # about 30% of 200


def test_arriving_as_a_citizen_by_hand():
    # Rows 0-1 arrive in BB as citizens; BB pays a basket of 500 a month and every new citizen there
    # (early departure share 1) must leave after EARLY_DEPARTURE_MONTHS; AA's citizens stay.
    sc = tiny(**{"hosts.BB.support.absorption_basket_usd": 500.0, "hosts.BB.stay.citizen_early_departure": 1.0})
    s = state(3, location=[NOT_LEFT, AA, NOT_LEFT], status=Status.NONE, cash=1000.0, stay_left=0)
    ctx = context(sc, n=3)
    rules.move_to_host(s, ctx, np.array([0, 1, 2]), np.array([BB, BB, AA]),
                       np.array([rules.ROUTE_CITIZEN, rules.ROUTE_CITIZEN, rules.ROUTE_CITIZEN], np.int8))
    np.testing.assert_array_equal(s.status, Status.PERMANENT)
    # flight paid, six months of the basket at once: 1000 + 6 x 500 in BB, 1000 in AA (no basket)
    np.testing.assert_array_equal(s.cash, [1000 + ABSORPTION_MONTHS * 500, 1000 + ABSORPTION_MONTHS * 500, 1000])
    np.testing.assert_array_equal(s.stay_left, [EARLY_DEPARTURE_MONTHS, EARLY_DEPARTURE_MONTHS, -1])
    assert flow(ctx, "citizenship_arrivals", BB, IT) == 2 and flow(ctx, "citizenship_arrivals", AA, IT) == 1
    assert flow(ctx, "arrivals", BB, IT) == 2 and flow(ctx, "onward_moves", AA, IT) == 1


def test_crossing_the_border_by_hand():
    sc = tiny(**{"hosts.BB.stay.asylum_processing_months": 9})
    s = state(1, location=NOT_LEFT, status=Status.NONE, cash=1000.0)
    ctx = context(sc, n=1)
    rules.move_to_host(s, ctx, np.array([0]), np.array([BB]), np.array([rules.ROUTE_BORDER], np.int8))
    assert s.status[0] == Status.ASYLUM_PENDING and s.stay_left[0] == 9
    assert s.cash[0] == 1000 - 100  # travel cost of BB
    assert not s.employed[0]
    for name in ("border_arrivals", "asylum_applications", "arrivals", "first_departures"):
        assert flow(ctx, name, BB, IT) == 1, name


def test_a_new_citizen_who_came_for_the_passport_must_leave_when_the_countdown_ends():
    # Row 0: countdown 1 -> 0 this month: must leave (expelled). Row 1: countdown 2 -> 1: not yet.
    # Row 2: a citizen with no term (-1): never. Row 3: permanent through residence, stays -1.
    sc = tiny()
    s = state(4, status=Status.PERMANENT, stay_left=[1, 2, -1, -1])
    ctx = context(sc, n=4)
    rules.legal_status(s, ctx)
    np.testing.assert_array_equal(ctx.expelled, [True, False, False, False])
    np.testing.assert_array_equal(ctx.forced, False)
    np.testing.assert_array_equal(s.stay_left, [0, 1, -1, -1])
    np.testing.assert_array_equal(s.status, Status.PERMANENT)


def test_temporary_residents_becoming_permanent_get_no_term():
    sc = tiny(**{"hosts.AA.stay.permanent_after_months": 1, "hosts.AA.stay.permanent_approval": 1.0})
    s = state(1, status=Status.TEMPORARY, stay_left=5, months_resident=3)
    ctx = context(sc, n=1)
    rules.legal_status(s, ctx)
    assert s.status[0] == Status.PERMANENT and s.stay_left[0] == -1 and not ctx.forced[0]


def test_a_new_citizens_planned_departure_to_russia_is_a_voluntary_return():
    # Row 0: a citizen at the end of the countdown (planned); row 1: a permanent resident expelled
    # after a detention (status); both go back to Russia by choice.
    sc = tiny()
    s = state(2, status=Status.PERMANENT, stay_left=[0, -1])
    ctx = context(sc, n=2)
    ctx.expelled[:] = True
    rules.move_to_russia(s, ctx, np.arange(2), forced=False)
    assert flow(ctx, "returns_voluntary", AA, IT) == 1 and flow(ctx, "returns_status", AA, IT) == 1
