"""Property-based fuzzing of experiment files (`sweep --dry-run`), calibration parameter files
(`calibrate --dry-run`) and folder arguments (`results`, `compare --results`, `plot`).

For every generated input: exit 0 or 2, a 2 with a message naming the file (or the folder or
option) at fault, no traceback, nothing written outside the output path, bounded memory. The
inputs are mutations of the shipped `experiments/eu_policy_compare.yaml` and
`calibration/baseline_params.yaml` (values replaced by nasty ones, keys deleted or added, plus a
parameter block) and damaged results and run folders; the generator is seeded.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from diaspora_sim.cli import main

from .conftest import MAX_RSS_GIB, ROOT, VALUES, files_in, leaf_paths, max_rss_gib, mutate, run_cli

EXPERIMENT = ROOT / "experiments" / "eu_policy_compare.yaml"
PARAMS = ROOT / "calibration" / "baseline_params.yaml"

EXP_DATA = yaml.safe_load(EXPERIMENT.read_text(encoding="utf-8"))
EXP_DATA["scenarios"] = [str((EXPERIMENT.parent / s).resolve()) for s in EXP_DATA["scenarios"][:1]]  # one: quick
EXP_DATA["parameters"] = [{"name": "eu_renewal", "path": "hosts.@eu.stay.renewal_probability", "values": [0.5, 1.0]}]
EXP_PATHS = leaf_paths(EXP_DATA) + [("design", "method"), ("design", "samples"), ("parameters", 0, "range"),
                                    ("parameters", 0, "name"), ("parameters", 0, "integer")]
PARAM_DATA = yaml.safe_load(PARAMS.read_text(encoding="utf-8"))
PARAM_DATA["parameters"] = PARAM_DATA["parameters"][:3]  # fewer parameters: quicker checks, same kinds of fields
PARAM_PATHS = leaf_paths(PARAM_DATA)
NAMES = st.sampled_from(["run_id", "seed", "scenario", "point", "value", "date", "return_rate", "x", "X", "", "²"])
PATHS = st.sampled_from(["hosts.@eu.stay.renewal_probability", "timeline.².set.x", "timeline.0.set.entry.visa_approval",
                         "timeline.99.set.x", "hosts.XX.attractiveness", "behaviour.decision_rate", "run.months",
                         "hosts.@nope.x", "", "a..b"])

N_EXPERIMENTS = 350
N_CALIBRATIONS = 150
N_FOLDERS = 100


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-exp")


def assert_clean(status: int, err: str, names: list[str]) -> None:
    assert status in (0, 2), f"exit {status}: {err[-2000:]}"
    assert "Traceback" not in err, err[-3000:]
    if status == 2:
        assert any(n in err for n in names), f"the message names none of {names}: {err[-1000:]}"


def mutated(base: dict, paths: list[tuple], mutations: list) -> dict:
    data = copy.deepcopy(base)
    for path, action, value in mutations:
        try:
            mutate(data, path, action, value)
        except (KeyError, IndexError, TypeError, AttributeError):
            continue  # an earlier mutation removed the path, or replaced its container
    return data


MUTATIONS = st.tuples(st.sampled_from(["replace", "replace", "delete", "add"]), st.one_of(VALUES, NAMES, PATHS))


@settings(max_examples=N_EXPERIMENTS)
@given(picks=st.lists(st.tuples(st.sampled_from(EXP_PATHS), MUTATIONS), min_size=1, max_size=3),
       out=st.sampled_from(["out", "", "/proc/x", "x" * 300, "exp.yaml"]))
def test_mutated_experiment_files(workdir: Path, picks, out: str) -> None:
    data = mutated(EXP_DATA, EXP_PATHS, [(p, a, v) for p, (a, v) in picks])
    path = workdir / "exp.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = files_in(workdir)
    args = ["sweep", str(path), "--dry-run"] + (["--out", str(workdir / out) if not out.startswith("/") else out]
                                                 if out else [])
    status, err = run_cli(args)
    assert_clean(status, err, [str(path), "--out", "scenario", "results folder"])
    assert files_in(workdir) == before
    assert max_rss_gib() < MAX_RSS_GIB


@settings(max_examples=N_CALIBRATIONS)
@given(picks=st.lists(st.tuples(st.sampled_from(PARAM_PATHS), MUTATIONS), min_size=1, max_size=3))
def test_mutated_calibration_files(workdir: Path, picks) -> None:
    data = mutated(PARAM_DATA, PARAM_PATHS, [(p, a, v) for p, (a, v) in picks])
    path = workdir / "params.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = files_in(workdir)
    status, err = run_cli(["calibrate", "--params", str(path), "--dry-run", "--out", str(workdir / "cal")])
    assert_clean(status, err, [str(path), "targets", "--"])
    assert files_in(workdir) == before
    assert max_rss_gib() < MAX_RSS_GIB


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """A complete results folder and a run folder, made once."""
    base = tmp_path_factory.mktemp("fuzz-folders")
    exp = base / "exp.yaml"
    exp.write_text(yaml.safe_dump({**EXP_DATA, "scenarios": EXP_DATA["scenarios"][:1], "replications": 1, "months": 2,
                                   "scale": 20000, "outputs": {"metrics": ["return_rate", "integration_rate"],
                                                               "hosts": ["ALL"]}}))
    assert main(["sweep", str(exp), "--out", str(base / "results"), "--executor", "serial", "--quiet"]) == 0
    assert main(["run", str(ROOT / "scenarios" / "baseline_2022.yaml"), "--months", "1", "--scale", "20000",
                 "--no-figures", "--quiet", "--out", str(base / "run")]) == 0
    return {"results": base / "results", "run": base / "run"}


DAMAGE = st.one_of(st.binary(max_size=30), st.sampled_from([b"", b"{", b"[]", b"null", b'{"package": "diaspora_sim"}',
                                                           b'{"package": "diaspora_sim", "kind": "run"}']))


@settings(max_examples=N_FOLDERS)
@given(kind=st.sampled_from(["results", "run"]),
       target=st.sampled_from(["manifest.json", "timeseries.parquet", "summary", "runs", "summary.json", None]),
       damage=DAMAGE, how=st.sampled_from(["replace", "truncate", "delete"]),
       command=st.sampled_from(["results", "compare", "plot"]))
def test_damaged_folders(workdir: Path, folders: dict[str, Path], kind: str, target: str | None, damage: bytes,
                         how: str, command: str) -> None:
    folder = workdir / "folder"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(folders[kind], folder)
    victim = folder / target if target else None
    if victim is not None and victim.is_dir():
        files = sorted(victim.iterdir())
        victim = files[0] if files else None
    if victim is not None and victim.exists():
        if how == "delete":
            victim.unlink()
        elif how == "truncate":
            victim.write_bytes(victim.read_bytes()[: len(damage)])
        else:
            victim.write_bytes(damage)
    report = workdir / "report"
    shutil.rmtree(report, ignore_errors=True)
    before = files_in(workdir)
    args = {"results": ["results", str(folder)],
            "compare": ["compare", "--results", str(folder), "--report", str(report)],
            "plot": ["plot", str(folder), "--out", str(workdir / "fig.png")]}[command]
    status, err = run_cli(args)
    assert_clean(status, err, [str(folder)])
    written = files_in(workdir) - before
    assert all(w.startswith(("report", "fig.png")) for w in written), sorted(written)[:5]
    shutil.rmtree(report, ignore_errors=True)
    (workdir / "fig.png").unlink(missing_ok=True)


def test_the_fuzz_counts_reach_2000() -> None:
    """The fuzz suite tries at least 2,000 generated inputs per run (docs/reliability.md)."""
    from . import test_fuzz_scenarios as scen

    total = scen.N_FILES + scen.N_BYTES + scen.N_ARGS + N_EXPERIMENTS + N_CALIBRATIONS + N_FOLDERS
    assert total >= 2000, total
    assert json.dumps(total)
