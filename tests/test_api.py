"""The public API plans experiments as `sweep` does, posterior included."""

from __future__ import annotations

from pathlib import Path

import diaspora_sim as ds

ROOT = Path(__file__).resolve().parents[1]


def test_run_experiment_plans_over_the_posterior_as_sweep_does(tmp_path: Path) -> None:
    exp = ds.Experiment.model_validate({
        "scenarios": [str(ROOT / "scenarios" / "baseline_2022.yaml")], "replications": 4, "months": 2, "scale": 8000,
        "posterior": {"dir": str(ROOT / "calibration" / "baseline_2022" / "posterior"), "seeds_per_draw": 2},
    })
    res = ds.run_experiment(exp, tmp_path / "out", executor="serial")
    summary = res.summary()
    assert len(summary) == 4 and set(res.parameters) <= set(summary.columns) and res.parameters
    assert summary[res.parameters].drop_duplicates().shape[0] == 2  # two draws, two seeds each
