"""Shared fixtures of the model tests (the builders of hand-built states are in builders.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from diaspora_sim.scenario.loading import load_scenario, with_run
from diaspora_sim.scenario.schema import Scenario

from .builders import BASELINE


@pytest.fixture(scope="session")
def baseline_path() -> Path:
    """The shipped baseline scenario file."""
    return BASELINE


@pytest.fixture(scope="session")
def baseline() -> Scenario:
    """The baseline at scale 400 (about 2,400 agents), 18 months, seed 7: a quick whole-model run."""
    return with_run(load_scenario(BASELINE), scale=400, months=18, seed=7)
