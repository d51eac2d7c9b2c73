"""Pressure: harassment, detention, extradition, deportation (rules.pressure).

Hand-computed expectations on tiny hand-built states (see tests/model/builders.py).
"""

from __future__ import annotations

import numpy as np

from diaspora_sim.model import rules
from diaspora_sim.model.state import Status

from ..builders import (
    AA,
    BB,
    IT,
    JOURNALIST,
    RU,
    context,
    flow,
    flow_total,
    state,
    tiny,
)


def test_pressure_detention_extradition_and_expulsion():
    sc = tiny(**{"hosts.AA.pressure.security_cooperation": 1.0, "hosts.AA.pressure.extradition_share": 1.0,
                 "hosts.BB.pressure.security_cooperation": 1.0, "hosts.BB.pressure.extradition_share": 0.0})
    s = state(4, location=[AA, AA, BB, BB], engagement=[1.0, 0.0, 1.0, 0.0], category=JOURNALIST,
              cash=1000.0, status=Status.TEMPORARY)
    ctx = context(sc, n=4)
    rules.pressure(s, ctx)
    # Row 0: detained and extradited -> back in Russia, persecuted. Row 2: detained, expelled from BB.
    np.testing.assert_array_equal(s.location, [RU, AA, BB, BB])
    np.testing.assert_array_equal(s.persecuted, [True, False, False, False])
    np.testing.assert_array_equal(ctx.expelled, [False, False, True, False])
    assert s.status[0] == Status.NONE and s.returns[0] == 1 and s.cash[0] == 700.0
    assert flow(ctx, "detained", AA, JOURNALIST) == 1 and flow(ctx, "detained", BB, JOURNALIST) == 1
    assert flow(ctx, "extradited", AA, JOURNALIST) == 1 and flow_total(ctx, "extradited") == 1
    assert flow(ctx, "forced_returns", AA, JOURNALIST) == 1 and flow(ctx, "returns", AA, JOURNALIST) == 1
    assert flow_total(ctx, "deported") == 0


def test_pressure_irregular_deported():
    sc = tiny(**{"hosts.AA.pressure.deportation_rate": 1.0})
    s = state(3, location=[AA, AA, BB], status=[Status.IRREGULAR, Status.VISA_FREE, Status.IRREGULAR])
    ctx = context(sc, n=3)
    rules.pressure(s, ctx)
    np.testing.assert_array_equal(s.location, [RU, AA, BB])
    assert not s.persecuted.any()
    assert flow(ctx, "deported", AA, IT) == 1 and flow(ctx, "forced_returns", AA, IT) == 1


def test_pressure_harassment():
    sc = tiny(**{"hosts.AA.pressure.harassment_rate": 1.0, "hosts.AA.pressure.hostility_base": 1.0})
    s = state(3, location=[AA, BB, RU])
    ctx = context(sc, n=3)
    rules.pressure(s, ctx)
    np.testing.assert_array_equal(ctx.harassed, [True, False, False])
    assert flow(ctx, "harassed", AA, IT) == 1


# --------------------------------------------------------------------------------------------
