"""PRIM: a planted box is recovered; the trajectory matches the EMA workbench's on the same data."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diaspora_sim.analysis.discovery import parse_condition, prim
from diaspora_sim.core.errors import InputError


def _planted(n: int = 1500, seed: int = 2) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"a": rng.uniform(0, 1, n), "b": rng.uniform(-1, 1, n), "c": rng.uniform(0, 10, n)})
    inside = (x["a"] > 0.6) & (x["b"] < 0.0)
    noise = rng.uniform(0, 1, n) < 0.03
    return x, (inside ^ noise).to_numpy()


def test_prim_recovers_a_planted_box() -> None:
    x, y = _planted()
    res = prim(x, y, threshold=0.9)
    box = res.box(x, y).set_index("parameter")
    assert box.loc["a", "low"] == pytest.approx(0.6, abs=0.05) and box.loc["a", "high"] == pytest.approx(1, abs=0.01)
    assert box.loc["b", "high"] == pytest.approx(0.0, abs=0.1) and box.loc["b", "low"] == pytest.approx(-1, abs=0.01)
    assert not box.loc["c", "restricted"] and box.loc[["a", "b"], "restricted"].all()
    assert box.loc["a", "quasi_p_low"] < 1e-6 and box.loc["b", "quasi_p_high"] < 1e-6
    chosen = res.trajectory.loc[res.chosen]
    assert chosen["density"] >= 0.9 and chosen["coverage"] > 0.8
    traj = res.trajectory
    assert traj["coverage"].iloc[0] == 1 and (np.diff(traj["mass"]) < 0).all()


def test_prim_matches_the_ema_workbench() -> None:
    ema_prim = pytest.importorskip("ema_workbench.analysis.prim")
    x, y = _planted(n=800, seed=5)
    ours = prim(x, y, threshold=0.8)
    alg = ema_prim.Prim(x, y, threshold=0.8, peel_alpha=0.05, mass_min=0.05)
    box = alg.find_box()
    theirs = box.peeling_trajectory
    k = len(ours.trajectory)
    assert len(theirs) >= k  # theirs adds the pasting steps after the peeling
    for col in ("coverage", "density", "mass"):
        np.testing.assert_allclose(ours.trajectory[col], theirs[col].iloc[:k], rtol=1e-12)
    np.testing.assert_allclose(ours.trajectory["restricted"], theirs["res_dim"].iloc[:k])
    last = box.box_lims[k - 1]
    np.testing.assert_allclose(ours.limits[-1][list(x.columns)].to_numpy(float), last[list(x.columns)].to_numpy(float))
    qp = box.inspect(k - 1, style="data")[0][1]  # their quasi-p-values of the same box: low, high limit
    ours_qp = ours.box(x, y, k - 1).set_index("parameter")
    for name in qp.index:
        np.testing.assert_allclose(ours_qp.loc[name, ["quasi_p_low", "quasi_p_high"]].to_numpy(float),
                                   qp.loc[name].iloc[2:4].to_numpy(float), rtol=1e-6)


def test_conditions() -> None:
    assert parse_condition("> 0.02") == (">", 0.02) and parse_condition("<=-1") == ("<=", -1.0)
    with pytest.raises(InputError, match="expected a comparison"):
        parse_condition("about 2")


def test_discover_command_writes_tables_and_figures(scenarios: Path, tmp_path: Path) -> None:
    import contextlib
    import io

    from diaspora_sim.cli import main
    from diaspora_sim.experiments.plan import make_plan
    from diaspora_sim.experiments.spec import Experiment
    from diaspora_sim.experiments.sweep import run_sweep

    exp = Experiment.model_validate({
        "scenarios": [str(scenarios / "baseline_2022.yaml")],
        "parameters": [{"name": "decision_rate", "paths": ["behaviour.decision_rate"], "range": [0.02, 0.2]},
                       {"name": "ru_wage", "paths": ["russia.wage_usd"], "range": [300, 3000]}],
        "design": {"method": "lhs", "samples": 40}, "replications": 1, "months": 8, "scale": 6000,
    })
    assert run_sweep(make_plan(exp), tmp_path / "out", executor="serial", progress=False).ok
    args = ["discover", str(tmp_path / "out"), "--output", "ever_left", "--where", "> 0", "--at", "2022-08"]
    if importlib.util.find_spec("sklearn") is not None:
        args.append("--cart")
    with contextlib.redirect_stdout(io.StringIO()) as buf:
        assert main(args) == 0
    assert "when is ever_left of baseline_2022 > 0 (2022-08)?" in buf.getvalue()
    folder = tmp_path / "out" / "discovery" / "ever_left"
    for f in ("trajectory.parquet", "trajectory.csv", "box.csv", "cases.parquet", "peeling_trajectory.png", "box.png",
              "discovery.md", "discovery.html"):
        assert (folder / f).is_file(), f
    assert ("--cart" in args) == (folder / "cart_leaves.csv").is_file()
    assert main(["discover", str(tmp_path / "out"), "--where", "about 3"]) == 2


def test_cart_finds_the_planted_box() -> None:
    pytest.importorskip("sklearn")
    from diaspora_sim.analysis.discovery import cart

    x, y = _planted()
    text, leaves = cart(x, y, max_depth=2)
    best = leaves.iloc[0]
    assert "a <=" in text and best["density"] > 0.9 and best["coverage"] > 0.85
    assert best["a_low"] == pytest.approx(0.6, abs=0.03) and best["b_high"] == pytest.approx(0.0, abs=0.05)
