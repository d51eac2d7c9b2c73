"""DiasporaModel follows Mesa's conventions: a scenario or a path, rng=, a DataCollector, batch_run."""

from __future__ import annotations

import inspect
import math

import mesa
import numpy as np
import pytest

from diaspora_sim.model.model import DiasporaModel
from diaspora_sim.outputs.run_folder import timeseries_table
from diaspora_sim.scenario.schema import month_name, month_number

from .builders import BASELINE, ROOT

# Mesa 3.3 takes the seeds as a model parameter; Mesa 3.4+ as batch_run(rng=...), and puts that
# value (default None) in place of an `rng` given in `parameters`.
BATCH_RUN_TAKES_RNG = "rng" in inspect.signature(mesa.batch_run).parameters


def _last_rows(rows: list[dict]) -> list[dict]:
    last = max(row["Step"] for row in rows)
    return [row for row in rows if row["Step"] == last]


def test_batch_run_returns_the_reporters(monkeypatch):
    monkeypatch.chdir(ROOT)  # the path as a user in the project folder writes it
    rows = mesa.batch_run(
        DiasporaModel,
        parameters={"scenario": "scenarios/baseline_2022.yaml", "rng": [1, 2]},
        max_steps=12,
        display_progress=False,
    )
    for name in DiasporaModel.REPORTERS:
        assert all(name in row for row in rows), name
    last = _last_rows(rows)
    assert len(last) == 2 and last[0]["Step"] >= 12
    for row in last:
        assert 0.0 < row["return_rate"] < 1.0
        assert row["stock_abroad"] > 0 and row["in_russia"] > 0
        assert row["ever_left"] == pytest.approx(row["stock_abroad"] + row["in_russia"], rel=0.01)
    if not BATCH_RUN_TAKES_RNG:  # Mesa 3.3: the two seeds were run
        assert {row["rng"] for row in last} == {1, 2}
        assert last[0]["stock_abroad"] != last[1]["stock_abroad"]


@pytest.mark.skipif(not BATCH_RUN_TAKES_RNG, reason="batch_run(rng=...) is Mesa 3.4+")
def test_batch_run_seeds_by_rng(monkeypatch):
    monkeypatch.chdir(ROOT)
    rows = mesa.batch_run(DiasporaModel, parameters={"scenario": "scenarios/baseline_2022.yaml"}, rng=[1, 2],
                          max_steps=12, display_progress=False)
    last = _last_rows(rows)
    assert sorted(row["rng"] for row in last) == [1, 2]
    assert last[0]["stock_abroad"] != last[1]["stock_abroad"]


def test_datacollector_rows_are_the_months_simulated(baseline):
    m = DiasporaModel(baseline)
    for _ in range(5):
        m.step()
    df = m.datacollector.get_model_vars_dataframe()
    assert list(df.columns) == list(DiasporaModel.REPORTERS)
    assert len(df) == 6  # before the first step, then after each of 5 steps
    assert math.isnan(df["return_rate"].iloc[0])
    assert df["return_rate"].iloc[-1] == m.return_rate
    stock = m.recorder.data["stock"]
    np.testing.assert_allclose(df["stock_abroad"].iloc[1:], stock[:5, m.n_hosts + 1, -1])
    np.testing.assert_allclose(df["in_russia"].iloc[1:], stock[:5, m.n_hosts, -1])


def test_a_path_is_loaded(baseline):
    a = DiasporaModel(BASELINE, rng=7, months=3).run()
    b = DiasporaModel(str(BASELINE), rng=7, months=3).run()
    assert a.config == b.config and a.seed == b.seed == 7
    np.testing.assert_array_equal(a.recorder.data["stock"], b.recorder.data["stock"])


def test_date_is_the_month_last_simulated(baseline):
    m = DiasporaModel(baseline)
    start = month_number(baseline.run.start)
    assert m.date == month_name(start - 1)  # before the first step: the month before the start
    for n in (1, 4):
        while m.month < n:
            m.step()
        dates = timeseries_table(m).column("date").to_pylist()
        assert m.date == max(dates).strftime("%Y-%m") == month_name(start + n - 1)
