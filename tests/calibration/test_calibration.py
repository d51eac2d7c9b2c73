"""Calibration: the parameter file and its errors, `.default` paths, the ABC-SMC sampler on a toy
problem, and a tiny calibration of the baseline through the experiments runner (reproducible).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from diaspora_sim.calibration.abc import abc_smc, weighted_quantile
from diaspora_sim.calibration.report import round_sig
from diaspora_sim.calibration.setup import prepare
from diaspora_sim.calibration.simulate import RunOptions, simulate_points
from diaspora_sim.calibration.spec import ABCSettings, CalibrationFile
from diaspora_sim.cli import main
from diaspora_sim.core.errors import InputError
from diaspora_sim.experiments.results import Results
from diaspora_sim.scenario.loading import load_scenario
from diaspora_sim.scenario.reference import undocumented_fields

# --------------------------------------------------------------------------------------------
# The parameter file
# --------------------------------------------------------------------------------------------


def test_every_field_has_a_description() -> None:
    assert undocumented_fields(CalibrationFile) == []


def test_shipped_parameter_file_is_valid_against_the_baseline(shipped_params, baseline_file) -> None:
    setup = prepare(shipped_params, baseline_file)
    assert 6 <= len(setup.names) <= 12
    assert all(lo < b < hi for lo, b, hi in zip(setup.lows, setup.base_values, setup.highs, strict=True))
    assert {t.id for t in setup.holdout} == {"kz_mobilization_exit_share", "rs_residence_permits_feb_2023",
                                             "eu_asylum_applications_2022"}
    gross = {"kz_arrivals_march_2022", "kz_mobilization_entries"}  # excluded by the file (gross border entries)
    assert not {t.id for t in setup.in_sample} & ({t.id for t in setup.holdout} | gross)
    assert len(setup.in_sample) == 29  # every non-contested target with a mapping, 2022-2026
    # --include-target puts an excluded target back; it must be one the file excludes
    assert gross <= {t.id for t in prepare(shipped_params, baseline_file, include=sorted(gross)).in_sample}
    with pytest.raises(InputError, match="is not excluded by the parameter file"):
        prepare(shipped_params, baseline_file, include=["ge_stock_oct_2022"])


def test_unknown_path_is_reported_with_file_line_and_field(params, baseline_file) -> None:
    p = params([{"name": "a", "path": "hosts.GE.attractiveness", "prior": [0, 2]},
                          {"name": "b", "path": "hosts.XX.attractiveness", "prior": [0, 1]}])
    with pytest.raises(InputError) as err:
        prepare(p, baseline_file)
    text = str(err.value)
    assert f"{p}:" in text and "parameters.1.path" in text and "unknown host 'XX'" in text
    assert err.value.problems[0].line == 9  # the line of the second parameter's path


def test_bad_prior_ranges_are_reported(params, baseline_file) -> None:
    p = params([{"name": "a", "path": "hosts.GE.attractiveness", "prior": [2, 1]}])
    with pytest.raises(InputError, match=r"parameters\.0\.prior: the prior range must have low < high"):
        prepare(p, baseline_file)
    p = params([{"name": "a", "path": "behaviour.decision_rate", "prior": [0.5, 1.5]}])
    with pytest.raises(InputError, match=r"parameters\.0\.path: .*behaviour\.decision_rate.*less than or equal"):
        prepare(p, baseline_file)  # the upper end is not a probability


def test_unknown_fields_timeline_paths_and_targets_are_refused(params, baseline_file) -> None:
    p = params([{"name": "a", "path": "hosts.GE.attractiveness", "prior": [0, 2], "prio": 1}])
    with pytest.raises(InputError, match="unknown field; did you mean 'prior'"):
        prepare(p, baseline_file)
    p = params([{"name": "a", "path": "timeline.2.set.entry.visa_approval", "prior": [0, 0.5]}])
    with pytest.raises(InputError, match="`timeline` cannot be calibrated"):
        prepare(p, baseline_file)
    p = params([{"name": "a", "path": "hosts.GE.attractiveness", "prior": [0, 2], "moves": ["ge_stok"]}])
    with pytest.raises(InputError, match="no mapped target 'ge_stok'"):
        prepare(p, baseline_file)


def test_cli_exits_2_and_writes_nothing_on_a_bad_file(tmp_path, capsys, params, baseline_file) -> None:
    p = params([{"name": "a", "path": "hosts.XX.attractiveness", "prior": [0, 1]}])
    out = tmp_path / "out"
    assert main(["calibrate", str(baseline_file), "--params", str(p), "--out", str(out)]) == 2
    assert "invalid calibration parameters" in capsys.readouterr().err
    assert not out.exists()


def test_default_path_sets_the_categories_the_scenario_does_not_list(params, baseline_file) -> None:
    # Germany's work_visa_approval is {default: 0.05, it_specialist: 0.2, academic: 0.1} in the baseline
    p = params([{"name": "d", "path": "hosts.DE.entry.work_visa_approval.default", "prior": [0.01, 0.15]}])
    setup = prepare(p, baseline_file)
    stem = "hosts.DE.entry.work_visa_approval"
    assert setup.concrete == [[f"{stem}.journalist_activist", f"{stem}.businessperson", f"{stem}.draft_evader"]]
    assert setup.written == [[f"{stem}.default"]] and setup.base_values == [0.05]


# --------------------------------------------------------------------------------------------
# The sampler
# --------------------------------------------------------------------------------------------


def test_weighted_quantile_by_hand() -> None:
    x, w = np.array([3.0, 1.0, 2.0]), np.array([1.0, 1.0, 2.0])
    # sorted 1, 2, 3 with masses .25, .5, .25 at midpoints .125, .5, .875
    assert weighted_quantile(x, w, 0.5) == pytest.approx(2.0)
    assert weighted_quantile(x, w, 0.875) == pytest.approx(3.0)


def toy(points: np.ndarray, tag: str) -> pd.DataFrame:
    """Distance of a 2-D point from (0.3, 0.7)."""
    return pd.DataFrame({"distance": np.abs(points - [0.3, 0.7]).sum(axis=1), "x": points[:, 0]})


def test_abc_smc_concentrates_near_the_truth_and_is_reproducible() -> None:
    settings = ABCSettings(particles=200, generations=5, max_simulations=5000, seed=3)
    r = abc_smc(toy, ["a", "b"], np.zeros(2), np.ones(2), settings)
    s = r.summary().set_index("parameter")
    assert s.loc["a", "median"] == pytest.approx(0.3, abs=0.05) and s.loc["b", "median"] == pytest.approx(0.7, abs=0.05)
    assert s.loc["a", "q95"] - s.loc["a", "q05"] < 0.3  # narrower than the prior
    assert np.all((r.particles >= 0) & (r.particles <= 1)) and r.weights.sum() == pytest.approx(1)
    assert [h["epsilon"] for h in r.generations][1:] == sorted([h["epsilon"] for h in r.generations][1:], reverse=True)
    again = abc_smc(toy, ["a", "b"], np.zeros(2), np.ones(2), settings)
    assert np.array_equal(r.particles, again.particles) and np.array_equal(r.weights, again.weights)


def test_abc_smc_stops_when_the_budget_runs_out() -> None:
    settings = ABCSettings(particles=50, generations=10, max_simulations=120, seed=1)
    r = abc_smc(toy, ["a", "b"], np.zeros(2), np.ones(2), settings)
    assert "budget" in r.stop_reason and r.simulations <= 120 and len(r.particles) == 50


# --------------------------------------------------------------------------------------------
# A tiny calibration of the baseline (scale 2000, 12 months) through the experiments runner
# --------------------------------------------------------------------------------------------


def test_tiny_calibration_runs_is_reproducible_and_writes_a_calibrated_scenario(tmp_path, params, baseline_file) -> None:
    p = params([{"name": "ge", "path": "hosts.GE.attractiveness", "prior": [0.0, 2.5]},
                          {"name": "rate", "path": "behaviour.decision_rate", "prior": [0.02, 0.2]}])
    runs = []
    for k in (1, 2):
        out = tmp_path / f"out{k}"
        scen = tmp_path / "scenarios" / f"calibrated{k}.yaml"
        assert main(["calibrate", str(baseline_file), "--params", str(p), "--out", str(out), "--scenario-out", str(scen),
                     "--executor", "serial", "--quiet"]) == 0
        runs.append((out, scen))
    (out1, scen1), (out2, scen2) = runs
    post = pd.read_parquet(out1 / "posterior" / "particles.parquet")
    assert len(post) == 6 and post["weight"].sum() == pytest.approx(1)
    assert post["ge"].between(0.0, 2.5).all() and post["rate"].between(0.02, 0.2).all()
    assert "ge_stock_oct_2022" in post.columns  # target values of every particle, holdouts too
    assert "kz_exiles_sep_2023" not in post.columns  # after the 12 months simulated: left out
    assert post.equals(pd.read_parquet(out2 / "posterior" / "particles.parquet"))  # same seed, same posterior
    summary = pd.read_csv(out1 / "posterior" / "summary.csv").set_index("parameter")
    assert (summary["q05"] <= summary["median"]).all() and (summary["median"] <= summary["q95"]).all()
    # the calibrated scenario extends the baseline and holds the medians (4 significant digits)
    text = scen1.read_text()
    assert text.startswith("# Calibrated: baseline_2022.yaml") and "Produced by: python -m diaspora_sim calibrate" in text
    doc = yaml.safe_load(text)
    assert (scen1.parent / doc["extends"]).resolve() == baseline_file.resolve()
    sc = load_scenario(scen1)
    assert sc.hosts["GE"].attractiveness == pytest.approx(round_sig(summary.loc["ge", "median"]))
    assert sc.behaviour.decision_rate == pytest.approx(round_sig(summary.loc["rate", "median"]))
    assert load_scenario(out1 / "posterior" / "calibrated_scenario.yaml").hosts["GE"].attractiveness == \
        sc.hosts["GE"].attractiveness
    assert not list(out1.glob(".posterior*"))
    assert math.isfinite(pd.read_csv(out1 / "posterior" / "generations.csv")["acceptance_rate"].iloc[-1])


def test_points_are_run_through_the_experiments_planner(tmp_path, params, baseline_file) -> None:
    setup = prepare(params([{"name": "ge", "path": "hosts.GE.attractiveness", "prior": [0.0, 2.5]}], months=3),
                    baseline_file)
    points = np.array([[0.5], [1.5], [0.5]])  # a repeated vector is run once and reported twice
    frame = simulate_points(setup, points, "t", tmp_path / "t", RunOptions(executor="serial", progress=False))
    assert len(frame) == 3 and frame.iloc[0].equals(frame.iloc[2]) and not frame.iloc[0].equals(frame.iloc[1])
    runs = Results.open(tmp_path / "t").runs
    assert len(runs) == 2 and runs["done"].all()
    # the run ids are the planner's: the same vectors in another folder and order get the same ids
    simulate_points(setup, points[::-1], "u", tmp_path / "u", RunOptions(executor="serial", progress=False))
    assert set(Results.open(tmp_path / "u").runs["run_id"]) == set(runs["run_id"])
