"""Social influence: the peers' return and permit rates (rules.peers).

Hand-computed expectations on tiny hand-built states (see tests/model/builders.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from diaspora_sim.model import rules

from ..builders import (
    AA,
    ACADEMIC,
    BASELINE,
    BB,
    IT,
    RU,
    C,
    H,
    context,
    tiny,
)


def test_peer_rates_return_and_permit_rates():
    ctx = context(tiny(), n=0)
    ctx.flows["returns"].reshape(H + 2, C)[AA, IT] = 3
    ctx.flows["returns"].reshape(H + 2, C)[RU, IT] = 99  # not a host: ignored
    ctx.flows["permits_granted"].reshape(H + 2, C)[BB, ACADEMIC] = 2
    stock = np.zeros((H, C))
    stock[AA, IT] = 30
    stock[BB, ACADEMIC] = 0  # empty cell: denominator 1
    _, ret, perm = rules.peer_rates(ctx, stock, np.zeros((3, H, C)), 0.0)
    assert ret.shape == perm.shape == (H, C)
    expected_ret = np.zeros((H, C))
    expected_ret[AA, IT] = 0.1
    expected_perm = np.zeros((H, C))
    expected_perm[BB, ACADEMIC] = 2.0
    np.testing.assert_allclose(ret, expected_ret)
    np.testing.assert_allclose(perm, expected_perm)


def test_peer_rates_remember_past_months():
    # memory 0.75: counts move a quarter of the way to this month's each month.
    ctx = context(tiny(), n=0)
    ctx.flows["returns"].reshape(H + 2, C)[AA, IT] = 2
    stock = np.zeros((H, C))
    stock[AA, IT] = 10
    past = np.zeros((3, H, C))
    past[0, AA, IT], past[2, AA, IT] = 0.0, 20.0  # no returns lately among 20 peers
    counts, ret, _ = rules.peer_rates(ctx, stock, past, 0.75)
    assert counts[0, AA, IT] == pytest.approx(0.5)  # 0.75 * 0 + 0.25 * 2
    assert counts[2, AA, IT] == pytest.approx(17.5)  # 0.75 * 20 + 0.25 * 10
    assert ret[AA, IT] == pytest.approx(0.5 / 17.5)
    assert ret[BB, IT] == 0.0


def test_peer_rates_small_communities_count_as_min_agents():
    # A floor of 30 agents: 3 returns and 2 permits among 10 peers are read as 3/30 and 2/30;
    # among 60 peers the floor does not bind (6/60).
    ctx = context(tiny(), n=0)
    ctx.flows["returns"].reshape(H + 2, C)[AA, IT] = 3
    ctx.flows["permits_granted"].reshape(H + 2, C)[AA, IT] = 2
    ctx.flows["returns"].reshape(H + 2, C)[BB, IT] = 6
    agents = np.zeros((H, C))
    agents[AA, IT], agents[BB, IT] = 10, 60
    _, ret, perm = rules.peer_rates(ctx, agents, np.zeros((3, H, C)), 0.0, 30.0)
    assert ret[AA, IT] == pytest.approx(3 / 30)
    assert perm[AA, IT] == pytest.approx(2 / 30)
    assert ret[BB, IT] == pytest.approx(6 / 60)


def test_model_peer_rates_are_rates_in_consistent_units():
    # Recorder stocks are persons (agents x scale) and step flows are agents: the model must put
    # them in the same unit before dividing, or peer rates shrink with run.scale.
    from diaspora_sim.model.model import DiasporaModel
    from diaspora_sim.scenario.loading import load_scenario, with_run

    sc = with_run(load_scenario(BASELINE), scale=400, months=8)
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
