"""Property-based fuzzing of scenario files and of the `check` and `run` command lines.

For every generated input: the exit status is 0 or 2, a 2 comes with a message that names the
file (or the option) at fault, nothing is printed as a traceback, nothing is written outside
the output path, and memory stays bounded. The inputs are mutations of the shipped baseline
(values replaced by nasty ones, keys deleted or added), raw byte damage, and command-line
arguments; the generator is seeded, so every CI run tries the same inputs.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from .conftest import BASELINE, MAX_RSS_GIB, VALUES, files_in, leaf_paths, max_rss_gib, mutate, run_cli

BASE_DATA = yaml.safe_load(BASELINE.read_text(encoding="utf-8"))
BASE_TEXT = BASELINE.read_bytes()
PATHS = leaf_paths(BASE_DATA)
SET_PATHS = [".".join(map(str, p)) for p in PATHS] + ["timeline.²", "hosts.XX.attractiveness", "run", "", ".", "a..b"]

N_FILES = 900
N_BYTES = 400
N_ARGS = 450


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def assert_clean(status: int, err: str, names: list[str]) -> None:
    assert status in (0, 2), f"exit {status}: {err[-2000:]}"
    assert "Traceback" not in err, err[-3000:]
    if status == 2:
        assert any(n in err for n in names), f"the message names none of {names}: {err[-1000:]}"


@settings(max_examples=N_FILES)
@given(mutations=st.lists(st.tuples(st.sampled_from(PATHS), st.sampled_from(["replace", "replace", "delete", "add"]),
                                    VALUES), min_size=1, max_size=3))
def test_mutated_scenario_files(workdir: Path, mutations) -> None:
    data = copy.deepcopy(BASE_DATA)
    for path, action, value in mutations:
        try:
            mutate(data, path, action, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the path
    scenario = workdir / "mutated.yaml"
    scenario.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = files_in(workdir)
    status, err = run_cli(["check", str(scenario)])
    assert_clean(status, err, [str(scenario)])
    assert files_in(workdir) == before
    assert max_rss_gib() < MAX_RSS_GIB


@settings(max_examples=N_BYTES)
@given(cut=st.integers(0, len(BASE_TEXT)), junk=st.binary(max_size=40), where=st.integers(0, len(BASE_TEXT)))
def test_damaged_bytes(workdir: Path, cut: int, junk: bytes, where: int) -> None:
    raw = BASE_TEXT[:cut] if cut < where else BASE_TEXT[:where] + junk + BASE_TEXT[where:]
    scenario = workdir / "damaged.yaml"
    scenario.write_bytes(raw)
    status, err = run_cli(["check", str(scenario)])
    assert_clean(status, err, [str(scenario)])


OPTION_VALUES = st.one_of(st.integers(-5, 10**20).map(str), st.floats().map(repr), st.text(max_size=8),
                          st.sampled_from(["0", "1", "3", "-1", "inf", "nan", "1e9", "２", "0x10"]))


def _small(months: str, scale: str) -> tuple[str, str]:
    """Valid months and scales made small (at most 4 months, at least 2,000 persons per agent), so
    that the runs this test makes stay quick; invalid ones are kept as they are.
    """
    try:
        if 0 < int(months) <= 600:
            months = str(min(int(months), 4))
    except ValueError:
        pass
    try:
        if 1 <= float(scale) < 2000:
            scale = "2000"
    except ValueError:
        pass
    return months, scale


@settings(max_examples=N_ARGS)
@given(months=st.one_of(st.sampled_from(["1", "2", "3"]), OPTION_VALUES),
       scale=st.one_of(st.sampled_from(["2000", "5000"]), OPTION_VALUES),
       seed=st.one_of(st.integers(0, 99).map(str), OPTION_VALUES),
       sets=st.one_of(st.just([]), st.lists(st.tuples(st.sampled_from(SET_PATHS), VALUES), max_size=2)),
       out=st.sampled_from(["out", "out/deeper", "", ".", "..", "/dev/null", "/proc/x", "x" * 300]))
def test_run_arguments(workdir: Path, months: str, scale: str, seed: str, sets, out: str) -> None:
    case = workdir / "args"
    case.mkdir(exist_ok=True)
    before = files_in(workdir)
    months, scale = _small(months, scale)
    args = ["run", str(BASELINE), "--months", months, "--scale", scale, "--seed", seed, "--no-figures", "--quiet",
            "--out", str(case / out) if out and not out.startswith("/") else out]
    for path, value in sets:
        text = yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
        args += ["--set", f"{path}={text}"]
    status, err = run_cli(args)
    event(f"exit {status}")
    assert_clean(status, err, ["--", "usage:", str(BASELINE), "argument"])
    written = files_in(workdir) - before
    assert all(w.startswith("args") for w in written), sorted(written)[:5]
    assert max_rss_gib() < MAX_RSS_GIB
