"""Shared pieces of the fuzz suite: nasty values, mutation of YAML data, and the checks every input must pass."""

from __future__ import annotations

import io
import resource
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from diaspora_sim.cli import main

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline_2022.yaml"

# Deterministic (a fixed seed of the generator: the same inputs in every CI run), no example database.
settings.register_profile("fuzz", derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile("fuzz")

MAX_RSS_GIB = 4.0
"""No input may make the process hold more memory than this."""

SCALARS = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 0.5, 1e12, 1e308, -1e-9, "", "2022-13", "0000-01", "٢٠٢٢-03", "2023-03-01",
                     "²", "DE", "ALL", "RU", "eu", "none", "yes", "NaN", ".inf"]),
    st.text(max_size=12),
    st.dates(),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=6)


def leaf_paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value (mapping keys and list indices) in nested data, containers included."""
    paths = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, v in data.items():
            paths += leaf_paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            paths += leaf_paths(v, (*prefix, i))
    return paths


def mutate(data: Any, path: tuple, action: str, value: Any) -> None:
    """Replace, delete or add beside the value at `path` (in place)."""
    node = data
    for part in path[:-1]:
        node = node[part]
    last = path[-1]
    if action == "replace":
        node[last] = value
    elif action == "delete":
        del node[last]
    elif isinstance(node, dict):
        node[f"{last}_x"] = value  # an unknown key beside a known one
    else:
        node.append(value)


def run_cli(args: list[str]) -> tuple[int, str]:
    """`python -m diaspora_sim ARGS` in this process: its exit status and standard error. An exception
    (a traceback a user would see) fails the test that calls it.
    """
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        try:
            status = main(args)
        except SystemExit as exc:  # argparse's own usage errors exit 2
            status = exc.code if isinstance(exc.code, int) else 2
    return status, err.getvalue()


def files_in(folder: Path) -> set[str]:
    """Every file and folder below `folder` (relative paths)."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def max_rss_gib() -> float:
    """Peak memory of this process so far, GiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
