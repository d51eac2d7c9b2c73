"""Reproducibility, common random numbers, and the Mesa side of DiasporaModel."""

from __future__ import annotations

from dataclasses import fields

import mesa
import numpy as np
import pytest

from diaspora_sim.model.model import DiasporaModel, Emigrant
from diaspora_sim.scenario.loading import load_scenario, with_run
from diaspora_sim.scenario.schema import CATEGORIES

from .builders import BASELINE


def assert_recorders_equal(a: DiasporaModel, b: DiasporaModel) -> None:
    assert a.recorder.data.keys() == b.recorder.data.keys()
    for name in a.recorder.data:
        np.testing.assert_array_equal(a.recorder.data[name], b.recorder.data[name], err_msg=name)  # NaN == NaN


def test_same_scenario_and_seed_give_identical_runs(baseline):
    a = DiasporaModel(baseline).run()
    b = DiasporaModel(baseline).run()
    assert_recorders_equal(a, b)
    for f in fields(a.state):
        np.testing.assert_array_equal(getattr(a.state, f.name), getattr(b.state, f.name), err_msg=f.name)


def test_rng_argument_overrides_the_scenario_seed(baseline):
    a = DiasporaModel(baseline, rng=3).run()
    b = DiasporaModel(with_run(baseline, seed=3)).run()
    assert a.seed == b.seed == 3
    assert_recorders_equal(a, b)


def test_different_seeds_give_different_runs(baseline):
    a = DiasporaModel(baseline).run()
    b = DiasporaModel(with_run(baseline, seed=8)).run()
    differing = [
        name for name in a.recorder.data
        if not np.array_equal(a.recorder.data[name], b.recorder.data[name], equal_nan=True)
    ]
    assert "stock" in differing and "arrivals" in differing
    assert not np.array_equal(a.state.cash, b.state.cash)
    # The departure schedule is deterministic (largest remainder), whatever the seed.
    np.testing.assert_array_equal(a.state.depart, b.state.depart)
    np.testing.assert_array_equal(a.state.category, b.state.category)


def test_common_random_numbers_far_away_policy_keeps_population_draws(baseline):
    # Two scenarios differing only in a far-away host's policy (US IT-talent visas).
    other = with_run(
        load_scenario(BASELINE, ["hosts.US.entry.it_talent_visa=true", "hosts.US.entry.it_talent_approval=0.9"]),
        scale=400, months=18, seed=7,
    )
    assert other.hosts["US"].entry.it_talent_approval == 0.9 != baseline.hosts["US"].entry.it_talent_approval
    a, b = DiasporaModel(baseline), DiasporaModel(other)
    for name in ("category", "age0", "cash"):
        np.testing.assert_array_equal(getattr(a.state, name), getattr(b.state, name), err_msg=name)
    for f in fields(a.state):  # every column, in fact
        np.testing.assert_array_equal(getattr(a.state, f.name), getattr(b.state, f.name), err_msg=f.name)
    # And the uniforms every rule draws are the same numbers for the same rows.
    np.testing.assert_array_equal(a.streams.uniform("choice", 5, 100), b.streams.uniform("choice", 5, 100))


def test_model_is_a_mesa_model_with_emigrant_agents(baseline):
    m = DiasporaModel(baseline)
    assert isinstance(m, mesa.Model)
    for _ in range(4):
        m.step()
    agents = list(m.agents)
    assert agents, "departures from month 1 should have created agents"
    assert all(isinstance(a, Emigrant) and isinstance(a, mesa.Agent) for a in agents)
    # One agent per emigrant who has left Russia.
    assert len(agents) == int(m.state.left.sum())
    locations = {*m.host_codes, "RU"}
    for agent in agents[:50]:
        row = agent.row
        assert agent.cash == pytest.approx(float(m.state.cash[row]))
        assert agent.category == CATEGORIES[m.state.category[row]]
        assert agent.location in locations
        assert agent.location == m.location_names[m.state.location[row]]
        assert isinstance(agent.status, str)
        assert agent.integration == pytest.approx(float(m.state.integration[row]))
        assert agent.age == pytest.approx(float(m.state.age0[row]) + (m.month - m.state.depart[row]) / 12.0)
    with pytest.raises(AttributeError):
        _ = agents[0].no_such_attribute


def test_mesa_datacollector(baseline):
    m = DiasporaModel(baseline)
    dc = mesa.DataCollector(model_reporters={"return_rate": "return_rate"}, agent_reporters={"cash": "cash"})
    for _ in range(5):
        m.step()
        dc.collect(m)
    model_vars = dc.get_model_vars_dataframe()
    assert len(model_vars) == 5
    assert model_vars["return_rate"].iloc[-1] == pytest.approx(m.return_rate)
    assert 0.0 <= m.return_rate <= 1.0
    agent_vars = dc.get_agent_vars_dataframe()
    assert "cash" in agent_vars.columns and len(agent_vars) > 0
    last_step = agent_vars.index.get_level_values(0).max()
    last = agent_vars.xs(last_step, level=0)["cash"]
    assert len(last) == len(m.agents)
    cash_by_id = {a.unique_id: a.cash for a in m.agents}
    for uid, value in last.items():
        assert value == pytest.approx(cash_by_id[uid])


def test_run_stops_at_the_end_and_release_frees_agents(baseline):
    m = DiasporaModel(with_run(baseline, months=6)).run()
    assert m.month == 6 and not m.running
    m.step()  # past the end: nothing happens
    assert m.month == 6
    assert len(m.agents) > 0
    m.release()
    assert len(m.agents) == 0
    ids = getattr(mesa.Agent, "_ids", None)
    if ids is not None:
        assert m not in ids
    # The model's own results survive the release.
    assert np.isfinite(m.return_rate)
