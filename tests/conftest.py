"""Fixtures shared by the test folders (which mirror the package's layers)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory) -> Path:
    """A snapshot of the shipped scenarios (the tests' plans do not change if the files do meanwhile)."""
    folder = tmp_path_factory.mktemp("scenarios")
    for path in (ROOT / "scenarios").glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    return folder
