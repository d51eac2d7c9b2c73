"""Effects over a posterior: variance shares, both intervals, P(sign), and `compare --posterior`."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diaspora_sim.analysis.posterior import effect_uncertainty
from diaspora_sim.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_variance_shares_recover_known_components() -> None:
    rng = np.random.default_rng(1)
    draws, k = 400, 4
    theta = rng.normal(0.01, 0.02, draws)  # parameter sd 0.02
    d = np.repeat(theta, k) + rng.normal(0, 0.01, draws * k)  # seed sd 0.01
    out = effect_uncertainty(d, np.repeat(np.arange(draws), k))
    assert out["sd_parameter"] == pytest.approx(0.02, rel=0.1)
    assert out["sd_seed"] == pytest.approx(0.01, rel=0.1)
    assert out["share_parameter"] == pytest.approx(0.8, abs=0.05)
    assert out["share_parameter"] + out["share_seed"] == pytest.approx(1)
    # the seed-only CI is far narrower than the posterior interval, which covers ~95% of the effects
    assert out["seed_high"] - out["seed_low"] < 0.1 * (out["posterior_high"] - out["posterior_low"])
    assert np.mean((d >= out["posterior_low"]) & (d <= out["posterior_high"])) == pytest.approx(0.95, abs=0.01)
    assert out["sign"] == "+" and out["p_sign"] == pytest.approx(np.mean(theta > 0), abs=0.05)


def test_compare_over_the_posterior_reports_both_intervals(scenarios: Path, tmp_path: Path) -> None:
    args = ["compare", str(scenarios / "baseline_2022.yaml"), str(scenarios / "restrictive_eu.yaml"),
            "--posterior", str(ROOT / "calibration" / "baseline_2022" / "posterior"), "--reps", "6",
            "--scale", "5000", "--months", "14", "--out", str(tmp_path / "out"), "--executor", "serial", "--quiet"]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(args) == 0
    assert "over the calibration posterior" in buf.getvalue() and "P(restrictive_eu" in buf.getvalue()
    report = (tmp_path / "out" / "report" / "report.md").read_text()
    assert "seed-only 95% CI" in report and "posterior 95% interval" in report
    assert "Agents behind the rates of each category" in report and "journalist_activist rest on fewer than" in report
    page = (tmp_path / "out" / "report" / "report.html").read_text()
    assert "<table>" in page and "data:image/png;base64," in page and 'src="rates' not in page  # self-contained
    assert (tmp_path / "out" / "report" / "envelopes.png").is_file()
    effects = pd.read_csv(tmp_path / "out" / "report" / "posterior_effects.csv")
    assert set(effects["arm"]) == {"restrictive_eu"} and (effects["draws"] == 3).all()
