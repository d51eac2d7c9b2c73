"""Russia: returnees' persecution, draft and re-emigration (rules.russia).

Hand-computed expectations on tiny hand-built states (see tests/model/builders.py).
"""

from __future__ import annotations

import numpy as np

from diaspora_sim.model import rules
from diaspora_sim.model.state import Status

from ..builders import (
    AA,
    DRAFT,
    IT,
    JOURNALIST,
    RU,
    context,
    flow,
    flow_total,
    state,
    tiny,
)


def test_russia_repression_probability_one():
    sc = tiny(**{"russia.repression_base": 1.0})
    s = state(3, location=[RU, RU, AA], status=Status.NONE, persecuted=[False, True, False],
              category=[JOURNALIST, JOURNALIST, IT])
    ctx = context(sc, n=3)
    rules.russia(s, ctx)
    np.testing.assert_array_equal(s.persecuted, [True, True, False])
    assert flow(ctx, "newly_persecuted", RU, JOURNALIST) == 1  # newly persecuted only


def test_russia_repression_grows_with_engagement():
    sc = tiny(**{"russia.repression_base": 0.0, "russia.repression_engagement": 1.0})
    s = state(2, location=RU, status=Status.NONE, engagement=[0.0, 1.0])
    rules.russia(s, context(sc, n=2))
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
    ctx = context(sc, t=12, n=5)
    rules.russia(s, ctx)
    # 31 man: called; 31 woman: no; 50.5: too old; 17.5: too young; 18.0: called.
    np.testing.assert_array_equal(s.mobilized, [True, False, False, False, True])
    assert flow(ctx, "newly_mobilized", RU, DRAFT) == 2


def test_russia_no_call_up_without_mobilization():
    sc = tiny(**{"russia.mobilization": False, "russia.draft_risk": 1.0})
    s = state(2, location=RU, status=Status.NONE, male=True)
    rules.russia(s, context(sc, n=2))
    assert not s.mobilized.any()


def test_russia_reemigration_rate_one():
    sc = tiny(**{"russia.reemigration_rate": 1.0, "hosts.BB.entry.visa_free": False})
    s = state(4, location=[RU, RU, RU, RU], status=Status.NONE, persecuted=[False, True, False, False],
              mobilized=[False, False, True, False], cash=[1000, 1000, 1000, 50], returns=1)
    ctx = context(sc, n=4)
    rules.russia(s, ctx)
    # The persecuted and mobilized can't leave; row 3 can't pay the travel cost.
    np.testing.assert_array_equal(s.location, [AA, RU, RU, RU])
    assert s.status[0] == Status.VISA_FREE and s.cash[0] == 900
    assert flow(ctx, "reemigrations", AA, IT) == 1 and flow(ctx, "arrivals", AA, IT) == 1
    assert flow_total(ctx, "first_departures") == 0 and flow_total(ctx, "departures") == 0


def test_russia_mobilization_flight_for_draft_age_men():
    sc = tiny(**{"russia.mobilization": True, "russia.draft_risk": 0.0, "russia.mobilization_flight": 1.0,
                 "hosts.BB.entry.visa_free": False})
    s = state(3, location=RU, status=Status.NONE, male=[True, False, True], age0=[25.0, 25.0, 60.0])
    rules.russia(s, context(sc, n=3))
    np.testing.assert_array_equal(s.location, [AA, RU, RU])


# --------------------------------------------------------------------------------------------
