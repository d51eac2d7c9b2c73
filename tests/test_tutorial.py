"""docs/tutorial.md works as written: its Python blocks run in order, in a scratch folder."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"


@pytest.mark.slow
def test_tutorial_code_blocks_run_in_order(tmp_path: Path, monkeypatch, capsys) -> None:
    blocks = re.findall(r"```python\n(.*?)```", TUTORIAL.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 5
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for k, block in enumerate(blocks):
        exec(compile(block, f"docs/tutorial.md block {k + 1}", "exec"), namespace)  # noqa: S102 - our own docs
    out = capsys.readouterr().out
    assert "return rate" in out
    assert (tmp_path / "runs" / "tutorial-restrictive" / "manifest.json").exists()
    assert (tmp_path / "results" / "tutorial" / "report" / "report.md").exists()
