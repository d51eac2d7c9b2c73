"""Experiments over a calibration posterior: common draws and common seeds across arms."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from diaspora_sim.core.errors import InputError
from diaspora_sim.experiments.posterior import load_posterior, plan_experiment
from diaspora_sim.experiments.spec import Experiment

ROOT = Path(__file__).resolve().parents[2]
POSTERIOR = ROOT / "calibration" / "baseline_2022" / "posterior"


def _experiment(scenarios: Path, reps: int = 6, k: int = 2, posterior: Path = POSTERIOR) -> Experiment:
    return Experiment.model_validate({
        "scenarios": [str(scenarios / "baseline_2022.yaml"), str(scenarios / "restrictive_eu.yaml")],
        "replications": reps, "seed": 5, "months": 6, "scale": 5000,
        "posterior": {"dir": str(posterior), "seeds_per_draw": k},
    })


def test_posterior_draws_are_paired_across_arms(scenarios: Path) -> None:
    plan = plan_experiment(_experiment(scenarios))
    params, particles = load_posterior(POSTERIOR)
    assert [p.name for p in plan.experiment.parameters] == [p.name for p in params]
    assert len(plan.points) == 3 and len(plan.tasks) == 2 * 6
    by_rep: dict[int, list] = {}
    for t in plan.tasks:
        assert t.point == t.replicate // 2 and t.seed == 5 + t.replicate
        by_rep.setdefault(t.replicate, []).append(t)
    for tasks in by_rep.values():
        assert {t.scenario for t in tasks} == {"baseline_2022", "restrictive_eu"}
        assert len({json.dumps(t.values, sort_keys=True) for t in tasks}) == 1  # same draw in every arm
        assert len({t.seed for t in tasks}) == 1  # same seed in every arm
    info = plan.describe()["posterior"]
    assert info["draws"] == 3 and info["seeds_per_draw"] == 2 and len(set(info["particles"])) == 3
    for pid, point in zip(info["particles"], plan.points, strict=True):
        row = particles[particles["particle"] == pid].iloc[0]
        assert all(point[p.name] == pytest.approx(row[p.name]) for p in params)
    assert plan_experiment(_experiment(scenarios)).points == plan.points  # reproducible


def test_posterior_problems(scenarios: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="multiple of seeds_per_draw"):
        plan_experiment(_experiment(scenarios, reps=5))
    with pytest.raises(InputError, match="not a calibration output folder"):
        plan_experiment(_experiment(scenarios, posterior=tmp_path))
    with pytest.raises(InputError, match="posterior has 80 particles"):
        plan_experiment(_experiment(scenarios, reps=202, k=1))


def test_posterior_draws_follow_the_weights(scenarios: Path, tmp_path: Path) -> None:
    summary = json.loads((POSTERIOR / "summary.json").read_text())
    particles = pd.read_parquet(POSTERIOR / "particles.parquet")
    particles["weight"] = 0.0
    particles.loc[particles.index[:4], "weight"] = 1.0
    particles.to_parquet(tmp_path / "particles.parquet")
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    plan = plan_experiment(_experiment(scenarios, reps=8, k=2, posterior=tmp_path))
    assert sorted(plan.describe()["posterior"]["particles"]) == sorted(particles["particle"].iloc[:4].tolist())
