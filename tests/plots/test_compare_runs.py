"""The `plot` comparison figure for 1, 2 and 8 run folders (dated axes, differences, bands over seeds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from diaspora_sim.cli import main
from diaspora_sim.plots.run import _run_groups, compare_runs

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SCENARIOS = ("baseline_2022", "restrictive_eu", "open_eu", "nansen_passport")


@pytest.fixture(scope="module")
def run_folders(scenarios: Path, tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("runs")
    out = []
    for name in SCENARIOS:
        for seed in (1, 2):
            run = folder / f"{name}-seed{seed}"
            assert main(["run", str(scenarios / f"{name}.yaml"), "--seed", str(seed), "--months", "8", "--scale", "8000",
                         "--out", str(run), "--no-figures", "--quiet"]) == 0
            out.append(run)
    return out


@pytest.mark.parametrize("n", [1, 2, 8])
def test_figures_for_1_2_and_8_runs(run_folders: list[Path], tmp_path: Path, n: int) -> None:
    runs = run_folders[:n]
    path = compare_runs(runs, tmp_path / "f.png")
    assert path.read_bytes()[:8] == PNG_MAGIC
    groups = _run_groups(runs)
    assert sum(len(v) for v in groups.values()) == n
    if n == 8:  # two seeds of each of four scenarios: four groups, each with a band
        assert list(groups) == list(SCENARIOS) and all(len(v) == 2 for v in groups.values())
    assert main(["plot", *map(str, runs), "--out", str(tmp_path / "cli.png")]) == 0
