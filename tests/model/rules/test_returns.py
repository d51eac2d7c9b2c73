"""Return reasons (flows returns_voluntary / returns_status / returns_money) and the 12-month cohort
metrics (cohort_returned_12m / cohort_moved_on_12m): docs/metrics.md."""

from __future__ import annotations

import numpy as np

from diaspora_sim.model import rules
from diaspora_sim.model.metrics import Recorder
from diaspora_sim.model.rules.moves import return_reason
from diaspora_sim.model.state import Status

from ..builders import AA, BB, DRAFT, IT, RU, context, flow, state, tiny


def test_return_reason_codes():
    irregular = np.array([True, False, False, False, True])
    expelled = np.array([False, True, False, False, False])
    broke = np.array([False, False, True, False, True])
    # status first (irregular or expelled), then money, else voluntary
    np.testing.assert_array_equal(return_reason(irregular, expelled, broke), [1, 1, 2, 0, 1])


def test_chosen_returns_are_split_by_reason_and_sum_to_returns():
    # Only Russia is open (BB closed, staying barred by expulsion for rows 0-1); 6 rows return.
    sc = tiny(**{"hosts.BB.entry.visa_free": False})
    status = [Status.IRREGULAR, Status.VISA_FREE, Status.VISA_FREE, Status.VISA_FREE, Status.VISA_FREE,
              Status.IRREGULAR]
    s = state(6, location=AA, status=status, category=IT)
    ctx = context(sc, n=6)
    ctx.expelled[:2] = True
    ctx.broke[2] = True
    rows = np.arange(6)
    rules.move_to_russia(s, ctx, rows, forced=False)
    assert flow(ctx, "returns", AA, IT) == 6
    assert flow(ctx, "returns_status", AA, IT) == 3  # rows 0, 1 (expelled), 5 (irregular)
    assert flow(ctx, "returns_money", AA, IT) == 1  # row 2
    assert flow(ctx, "returns_voluntary", AA, IT) == 2  # rows 3, 4
    assert flow(ctx, "forced_returns", AA, IT) == 0


def test_deportations_count_as_forced_returns_not_as_chosen():
    sc = tiny()
    s = state(2, location=AA, status=Status.IRREGULAR)
    ctx = context(sc, n=2)
    rules.move_to_russia(s, ctx, np.arange(2), forced=True)
    assert flow(ctx, "forced_returns", AA, IT) == 2
    assert sum(flow(ctx, f, AA, IT) for f in ("returns_voluntary", "returns_status", "returns_money")) == 0


def test_money_running_out_marks_broke_and_forced():
    sc = tiny()
    s = state(2, location=AA, cash=[100.0, 50000.0])  # cost 1000, no income
    ctx = context(sc, n=2)
    rules.resources(s, ctx)
    np.testing.assert_array_equal(ctx.broke, [True, False])
    np.testing.assert_array_equal(ctx.forced, [True, False])


def test_cohort_metrics_by_hand():
    # Month 0 is the cohort month; 12 months later: row 0 in Russia, row 1 in another host,
    # row 2 in the same host, row 3 was not abroad in month 0 (not in the cohort).
    rec = Recorder(13, 2, 10.0, 0.5, cohort=0)
    s = state(4, location=[AA, AA, BB, RU], category=[IT, IT, IT, DRAFT])
    flows = {name: np.zeros(4 * 5, np.int64) for name in rules.FLOWS}
    rec.record(0, s, 4, flows)
    np.testing.assert_array_equal(s.cohort_host, [AA, AA, BB, -1])
    s.location[:] = [RU, BB, BB, AA]
    for month in range(1, 13):
        rec.record(month, s, 4, flows)
    all_ = 2 + 1  # location ALL
    ret, moved = rec.data["cohort_returned_12m"], rec.data["cohort_moved_on_12m"]
    assert np.isnan(ret[11, all_, -1]) and np.isnan(ret[0, all_, -1])
    assert ret[12, all_, -1] == 1 / 3 and moved[12, all_, -1] == 1 / 3
    assert ret[12, all_, IT] == 1 / 3
    assert np.isnan(ret[12, all_, DRAFT])  # no draft evader in the cohort
