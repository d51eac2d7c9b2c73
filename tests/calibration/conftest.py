"""Fixtures of the calibration tests: the baseline, the shipped parameter file, small parameter files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def baseline_file() -> Path:
    return ROOT / "scenarios" / "baseline_2022.yaml"


@pytest.fixture(scope="session")
def shipped_params() -> Path:
    return ROOT / "calibration" / "baseline_params.yaml"


@pytest.fixture
def params(tmp_path: Path) -> Callable[..., Path]:
    """A writer of small parameter files: params(parameters, **abc) -> path (6 particles, 2
    generations, 1 replicate, scale 2000, 12 months unless `abc` says otherwise).
    """

    def write(parameters: list[dict], **abc) -> Path:
        doc = {"title": "test", "parameters": parameters,
               "abc": {"particles": 6, "generations": 2, "max_simulations": 30, "replicates": 1, "scale": 2000,
                       "months": 12, **abc}}
        path = tmp_path / "params.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return path

    return write
