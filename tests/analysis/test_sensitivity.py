"""Sensitivity indices: Ishigami through the code path of results folders, Morris with repeated points,
reproducible intervals, effects over time, the `sensitivity` command and its files."""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from SALib.sample import sobol as sobol_sample

from diaspora_sim.analysis.sensitivity import needed_samples, point_indices, sensitivity_of
from diaspora_sim.cli import main
from diaspora_sim.experiments.plan import make_plan
from diaspora_sim.experiments.results import Results
from diaspora_sim.experiments.spec import Experiment
from diaspora_sim.experiments.sweep import run_sweep

ISHIGAMI = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-math.pi, math.pi]] * 3}
ISHIGAMI_S1 = [0.3139, 0.4424, 0.0]
ISHIGAMI_ST = [0.5576, 0.4424, 0.2437]


def _ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def _values(y: np.ndarray, reps: int = 1, noise: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({"point": np.repeat(np.arange(len(y)), reps), "replicate": np.tile(np.arange(reps), len(y)),
                         "value": np.repeat(y, reps) + rng.normal(0, noise, len(y) * reps)})


def test_ishigami_indices_match_within_their_intervals() -> None:
    matrix = sobol_sample.sample(ISHIGAMI, 1024, calc_second_order=False, seed=1)
    table, noise = point_indices("sobol", ISHIGAMI, matrix, list(range(len(matrix))), _values(_ishigami(matrix)),
                                 seed=0)
    for i in range(3):
        assert abs(table["S1"][i] - ISHIGAMI_S1[i]) <= table["S1_conf"][i] + 0.01
        assert abs(table["ST"][i] - ISHIGAMI_ST[i]) <= table["ST_conf"][i] + 0.01
    assert math.isnan(noise["noise_share"])  # one replication: no noise estimate
    again, _ = point_indices("sobol", ISHIGAMI, matrix, list(range(len(matrix))), _values(_ishigami(matrix)), seed=0)
    pd.testing.assert_frame_equal(table, again)  # seed 0 is a seed: the bootstrap intervals are reproducible


def test_replication_noise_is_averaged_and_reported() -> None:
    matrix = sobol_sample.sample(ISHIGAMI, 256, calc_second_order=False, seed=1)
    y = _ishigami(matrix)
    table, noise = point_indices("sobol", ISHIGAMI, matrix, list(range(len(matrix))), _values(y, reps=4, noise=1.0),
                                 seed=0)
    assert noise["replications"] == 4
    assert noise["noise_variance"] == pytest.approx(1.0 / 4, rel=0.15)
    assert noise["noise_share"] == pytest.approx(0.25 / np.var(y), rel=0.25)
    assert abs(table["ST"][1] - ISHIGAMI_ST[1]) < 0.1


def test_needed_samples_names_a_larger_power_of_two() -> None:
    wide = pd.DataFrame({"S1_conf": [0.3, 0.1], "ST_conf": [0.2, 0.05]})
    assert needed_samples("sobol", wide, 16) == 256  # 16 * (0.3 / 0.1)^2 = 144 -> 256
    assert needed_samples("sobol", wide.assign(S1_conf=0.05, ST_conf=0.05), 16) is None
    assert needed_samples("morris", pd.DataFrame({"mu_star": [1.0, 0.1], "mu_star_conf": [0.5, 0.1]}), 4) == 16


def _sweep(scenarios: Path, out: Path, design: dict, names: tuple[str, ...] = ("baseline_2022",),
           months: int = 6, scale: float = 8000) -> Results:
    exp = Experiment.model_validate({
        "scenarios": [str(scenarios / f"{n}.yaml") for n in names],
        "parameters": [
            {"name": "ru_wage", "paths": ["russia.wage_usd"], "range": [300, 3000]},
            {"name": "eu_renewal", "paths": ["hosts.@eu.stay.renewal_probability"], "range": [0.2, 1.0]},
            {"name": "decision_rate", "paths": ["behaviour.decision_rate"], "range": [0.02, 0.2]},
        ],
        "design": design, "replications": 1, "months": months, "scale": scale,
    })
    plan = make_plan(exp)
    assert run_sweep(plan, out, executor="serial", progress=False).ok
    return Results.open(out)


def test_morris_with_repeated_points_shares_runs(scenarios: Path, tmp_path: Path) -> None:
    design = {"method": "morris", "samples": 4, "levels": 4, "seed": 0}  # this sample repeats points
    exp = Experiment.model_validate({"scenarios": [str(scenarios / "baseline_2022.yaml")], "design": design,
                                     "parameters": [{"name": f"p{i}", "paths": ["behaviour.decision_rate"],
                                                     "range": [0.02, 0.2]} for i in range(3)]})
    plan = make_plan(exp)
    assert len(plan.design_rows) == 4 * 4 and len(plan.points) < 16  # SALib repeated points; they share runs
    assert any("repeats points" in w for w in plan.warnings)
    results = _sweep(scenarios, tmp_path / "out", design)
    sens = sensitivity_of(results)
    assert list(sens.indices["parameter"]) == ["ru_wage", "eu_renewal", "decision_rate"]
    assert sens.indices["mu_star"].notna().all()


def test_sensitivity_command_effect_over_time(scenarios: Path, tmp_path: Path, capsys) -> None:
    results = _sweep(scenarios, tmp_path / "out", {"method": "sobol", "samples": 4},
                     names=("baseline_2022", "restrictive_eu"), months=24, scale=2000)
    args = ["sensitivity", str(results.path), "--effect", "restrictive_eu-baseline_2022", "--at", "2022-09,2024-01"]
    with contextlib.redirect_stdout(io.StringIO()) as buf:
        assert main(args) == 0
    text = buf.getvalue()
    assert "sobol indices of return_rate, effect restrictive_eu-baseline_2022" in text
    assert "2022-09: the output is the same at every point" in text  # restrictive EU begins in 2023
    assert "2024-01: the intervals of the indices are too wide" in text and "are needed" in text  # N = 4 is too small
    folder = results.path / "sensitivity" / "return_rate-restrictive_eu-baseline_2022"
    for f in ("indices.parquet", "indices.csv", "noise.csv", "indices.png", "indices_over_time.png", "sensitivity.md",
              "sensitivity.html"):
        assert (folder / f).is_file(), f
    table = pd.read_parquet(folder / "indices.parquet")
    assert set(table["target"]) == {"restrictive_eu-baseline_2022"} and table["date"].nunique() == 2
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(args) == 0  # reproducible: same indices and intervals
    pd.testing.assert_frame_equal(table, pd.read_parquet(folder / "indices.parquet"))
    assert main(["sensitivity", str(results.path), "--effect", "nope-baseline_2022"]) == 2
    assert "expected A-B" in capsys.readouterr().err
