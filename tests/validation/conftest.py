"""Fixtures of the validation tests: the repository's targets file, the baseline scenario, a small run."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from diaspora_sim.model.model import DiasporaModel
from diaspora_sim.outputs.run_folder import timeseries_table
from diaspora_sim.scenario.loading import load_scenario, with_run
from diaspora_sim.scenario.schema import Scenario
from diaspora_sim.validation.targets import TargetsFile, load_targets

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def targets_file() -> Path:
    return ROOT / "data" / "targets.yaml"


@pytest.fixture(scope="session")
def baseline_file() -> Path:
    return ROOT / "scenarios" / "baseline_2022.yaml"


@pytest.fixture(scope="session")
def tf(targets_file) -> TargetsFile:
    return load_targets(targets_file)


@pytest.fixture(scope="session")
def baseline(baseline_file) -> Scenario:
    return load_scenario(baseline_file)


def small_run(scenario: Scenario, seed: int | None = None, months: int | None = None) -> pa.Table:
    """The tidy time series of a run at 2,000 persons per agent."""
    m = DiasporaModel(with_run(scenario, scale=2000, seed=seed), months=months).run()
    try:
        return timeseries_table(m)
    finally:
        m.release()


@pytest.fixture(scope="session")
def table(baseline) -> pa.Table:
    """The tidy time series of a small real run of the baseline (2,000 persons per agent)."""
    return small_run(baseline)


@pytest.fixture(scope="session")
def run_tables(baseline) -> dict[str, pa.Table]:
    """Two 20-month runs of the baseline (seeds 1 and 2) at 2,000 persons per agent."""
    return {f"s{seed}": small_run(baseline, seed=seed, months=20) for seed in (1, 2)}
