"""`run` shows the agents behind each category's rates, their interval, and warns for small groups."""

from __future__ import annotations

from pathlib import Path

from diaspora_sim.analysis.statistics import wilson_interval
from diaspora_sim.cli import main


def test_run_prints_agents_intervals_and_small_group_warning(scenarios: Path, tmp_path: Path, capsys) -> None:
    assert main(["run", str(scenarios / "baseline_2022.yaml"), "--months", "12", "--scale", "5000", "--no-figures",
                 "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr()
    header = next(line for line in out.out.splitlines() if line.startswith("category"))
    assert "agents" in header and "return rate [95% CI]" in header
    row = next(line for line in out.out.splitlines() if line.startswith("academic"))
    assert "[" in row  # an interval, not a bare "42.4%"
    assert "warning: rates of groups of fewer than 30 agents are mostly noise: " in out.err
    assert "journalist_activist" in out.err and "academic (" in out.err


def test_wilson_interval() -> None:
    low, high = wilson_interval(1.0, 1)
    assert 0.2 < low < 0.21 and high == 1.0
    low, high = wilson_interval(0.5, 10_000)
    assert abs(low - 0.49) < 0.001 and abs(high - 0.51) < 0.001
    assert wilson_interval(0.3, 0) == (0.0, 1.0)
