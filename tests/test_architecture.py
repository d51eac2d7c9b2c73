"""The package's shape, as docs/architecture.md describes it: layers that import downward only,
a fast `import diaspora_sim` and `--help`, and functions of a readable size.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "diaspora_sim"
HEAVY = ("numba", "mesa", "pandas", "matplotlib", "pyarrow", "scipy", "SALib", "pydantic")


def test_import_contract_holds() -> None:
    """import-linter checks the contracts of pyproject.toml ([tool.importlinter])."""
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert lint, "import-linter is not installed (pip install -e '.[test]')"
    proc = subprocess.run([lint, str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def _loaded_after(code: str) -> set[str]:
    probe = f"import sys; {code}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return {m.split(".")[0] for m in out.stdout.split()}


def test_import_diaspora_sim_loads_no_heavy_library() -> None:
    assert not _loaded_after("import diaspora_sim") & set(HEAVY)


def test_help_loads_no_heavy_library() -> None:
    code = ("import sys, runpy; sys.argv = ['diaspora_sim', '--help']\n"
            "try:\n runpy.run_module('diaspora_sim', run_name='__main__')\nexcept SystemExit: pass")
    loaded = _loaded_after(f"exec({code!r})")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_help_is_fast_next_to_a_bare_python() -> None:
    """`--help` within 0.3 s of a bare Python start (best of five, so a busy machine does not fail it)."""

    def best(args: list[str]) -> float:
        times = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run([sys.executable, *args], capture_output=True, check=False, timeout=60)
            times.append(time.perf_counter() - t)
        return min(times)

    bare = best(["-c", "pass"])
    helped = best(["-m", "diaspora_sim", "--help"])
    assert helped - bare < 0.3, f"--help {helped:.2f} s, bare Python {bare:.2f} s"


def _functions() -> list[tuple[str, int, int]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                a = node.args
                params = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs)
                params -= 1 if a.args and a.args[0].arg in ("self", "cls") else 0
                found.append((f"{path.relative_to(SRC)}:{node.lineno} {node.name}", node.end_lineno - node.lineno + 1,
                              params))
    return found


@pytest.mark.parametrize(("limit", "index", "what"), [(80, 1, "lines"), (12, 2, "parameters")])
def test_no_function_is_too_long_or_takes_too_many_parameters(limit: int, index: int, what: str) -> None:
    over = [f"{f[0]} ({f[index]} {what})" for f in _functions() if f[index] > limit]
    assert over == [], f"functions over {limit} {what}: {over}"
