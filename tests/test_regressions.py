"""One named regression test for every defect of the hardening issue that is not tested elsewhere
(docs/reliability.md lists each promise with the tests that hold it).

Every case either works or exits with status 2 and a message that says what is wrong and where,
writes nothing outside its output path and prints no traceback.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from diaspora_sim.cli import build_parser, main
from diaspora_sim.core.errors import InputError
from diaspora_sim.experiments import sweep as sweep_module
from diaspora_sim.experiments.folder import folder_lock
from diaspora_sim.experiments.plan import make_plan
from diaspora_sim.experiments.spec import MAX_RUNS, Experiment, load_experiment
from diaspora_sim.outputs.columns import RESERVED_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline_2022.yaml"
PARAMS = ROOT / "calibration" / "baseline_params.yaml"
TOO_LONG = "x" * 300

SMALL = f"""
scenarios: [{json.dumps(str(BASELINE))}]
parameters:
  - name: de_renewal
    path: hosts.DE.stay.renewal_probability
    values: [0.5, 0.9]
replications: 1
months: 2
scale: 20000
outputs: {{metrics: [return_rate, stock], hosts: [ALL]}}
"""


def exp_file(folder: Path, text: str = SMALL, name: str = "small.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def cli(args: list[str], capsys) -> tuple[int, str]:
    """Exit status and standard error of `python -m diaspora_sim ARGS`, run in this process."""
    try:
        status = main(args)
    except SystemExit as exc:  # argparse's usage errors
        status = exc.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return status, err


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory) -> Path:
    """A complete results folder of the small experiment (2 runs)."""
    folder = tmp_path_factory.mktemp("results")
    assert main(["sweep", str(exp_file(folder)), "--out", str(folder / "out"), "--executor", "serial", "--quiet"]) == 0
    return folder / "out"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A run folder (one month, coarse)."""
    folder = tmp_path_factory.mktemp("run") / "run"
    assert main(["run", str(BASELINE), "--months", "1", "--scale", "20000", "--no-figures", "--quiet",
                 "--out", str(folder)]) == 0
    return folder


# --------------------------------------------------------------------------------------------
# 2. Inputs that exhaust memory or time
# --------------------------------------------------------------------------------------------


def test_grid_of_10_8_points_is_refused_before_it_is_enumerated(tmp_path: Path, capsys) -> None:
    values = "[" + ", ".join(["0.5"] * 100) + "]"
    body = "\n".join(f"  - {{name: p{i}, path: behaviour.decision_rate, values: {values}}}" for i in range(4))
    path = exp_file(tmp_path, f"scenarios: [{json.dumps(str(BASELINE))}]\nparameters:\n{body}\n")
    started = time.perf_counter()
    status, err = cli(["sweep", str(path), "--dry-run"], capsys)
    assert status == 2 and time.perf_counter() - started < 10
    assert f"{path}:" in err and "100,000,000 points (design grid: 100 x 100 x 100 x 100 values)" in err
    assert f"at most {MAX_RUNS:,} runs" in err


def test_sampled_design_over_the_run_limit_is_refused(tmp_path: Path) -> None:
    exp = Experiment(scenarios=[str(BASELINE)], replications=100,
                     parameters=[{"name": "a", "path": "behaviour.inertia", "range": [0, 1]}],
                     design={"method": "sobol", "samples": 8192})
    with pytest.raises(InputError, match="design sobol: 8192 x 3 points"):
        make_plan(exp)


# --------------------------------------------------------------------------------------------
# 3. Parameters named like a results column
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["run_id", "seed", "scenario", "point", "replicate", "date", "value", "metric",
                                  "return_rate", "ever_left_academic"])
def test_parameter_named_like_a_results_column_is_refused(name: str, tmp_path: Path, capsys) -> None:
    assert name in RESERVED_COLUMNS
    path = exp_file(tmp_path, SMALL.replace("name: de_renewal", f"name: {name}"))
    status, err = cli(["sweep", str(path), "--dry-run"], capsys)
    assert status == 2
    assert f"{path}:4: parameters.0.name: '{name}' is the name of a column of the results tables" in err


# --------------------------------------------------------------------------------------------
# 4. Tracebacks instead of messages
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["timeline.².set.x", "timeline.٣.set.x"])
def test_experiment_timeline_path_with_non_ascii_digits(path: str, tmp_path: Path, capsys) -> None:
    exp = exp_file(tmp_path, SMALL.replace("hosts.DE.stay.renewal_probability", path))
    status, err = cli(["sweep", str(exp), "--dry-run"], capsys)
    assert status == 2 and "parameters.0.paths.0" in err and "Traceback" not in err
    assert "no such event" in err or "events:" in err or "no event" in err


def test_results_on_a_run_folder_says_what_it_is(run_dir: Path, capsys) -> None:
    status, err = cli(["results", str(run_dir)], capsys)
    assert status == 2 and "is a run folder (written by `run`), not a results folder" in err


@pytest.mark.parametrize("manifest", ["{", "[]", '{"format": 1}', '{"package": "diaspora_sim", "kind": "results"}',
                                      '{"package": "diaspora_sim", "kind": "results", "runs": [1], "name": "x", '
                                      '"scenarios": {}, "parameters": {}}'])
def test_results_and_compare_on_a_damaged_manifest(manifest: str, results_dir: Path, tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(results_dir, broken)
    (broken / "manifest.json").write_text(manifest)
    for args in (["results", str(broken)], ["compare", "--results", str(broken)]):
        status, err = cli(args, capsys)
        assert status == 2 and str(broken) in err and "results folder" in err
    assert not (broken / "report").exists()


def test_plot_out_with_an_unknown_suffix(run_dir: Path, tmp_path: Path, capsys) -> None:
    status, err = cli(["plot", str(run_dir), "--out", str(tmp_path / "x.xyz")], capsys)
    assert status == 2 and "cannot tell the figure's format" in err and ".png" in err
    assert list(tmp_path.iterdir()) == []


def test_plot_other_formats_and_existing_figures(run_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "fig.svg"
    assert cli(["plot", str(run_dir), "--out", str(out)], capsys)[0] == 0 and out.stat().st_size > 0
    status, err = cli(["plot", str(run_dir), "--out", str(out)], capsys)
    assert status == 2 and "pass --overwrite" in err
    assert cli(["plot", str(run_dir), "--out", str(out), "--overwrite"], capsys)[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.svg"]


def test_plot_on_a_damaged_parquet_file(run_dir: Path, tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken)
    (broken / "timeseries.parquet").write_bytes(b"PAR1 not really")
    status, err = cli(["plot", str(broken), "--out", str(tmp_path / "f.png")], capsys)
    assert status == 2 and "timeseries.parquet is damaged" in err
    assert not (tmp_path / "f.png").exists()


def test_plot_on_a_results_folder_says_what_it_is(results_dir: Path, tmp_path: Path, capsys) -> None:
    status, err = cli(["plot", str(results_dir), "--out", str(tmp_path / "f.png")], capsys)
    assert status == 2 and "is a results folder" in err and "`plot` expects run folders" in err


@pytest.mark.parametrize("out", ["/proc/x/out", TOO_LONG])
@pytest.mark.parametrize("command", ["sweep", "validate", "calibrate"])
def test_out_under_proc_or_too_long(command: str, out: str, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    args = {"sweep": ["sweep", str(exp_file(tmp_path)), "--executor", "serial", "--quiet"],
            "validate": ["validate", "--reps", "2", "--scale", "20000", "--executor", "serial", "--quiet"],
            "calibrate": ["calibrate", "--params", str(PARAMS), "--max-simulations", "1", "--quiet"]}[command]
    status, err = cli([*args, "--out", out], capsys)
    assert status == 2 and "--out" in err or out in err, err
    assert status == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml"]


def test_full_disk_during_a_sweep_gives_a_message_and_the_folder_resumes(tmp_path: Path, monkeypatch, capsys) -> None:
    path, out = exp_file(tmp_path), tmp_path / "out"
    real, calls = sweep_module.write_atomic, []

    def full_after_two(target: Path, data: bytes) -> None:
        calls.append(target)
        if len(calls) > 2:  # the first run's two files are written, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        real(target, data)

    monkeypatch.setattr(sweep_module, "write_atomic", full_after_two)
    status, err = cli(["sweep", str(path), "--out", str(out), "--executor", "serial", "--quiet"], capsys)
    assert status == 2 and "the disk is full" in err and "re-run the same command to resume" in err
    assert len(list((out / "summary").glob("*.parquet"))) == 1
    assert not [p for p in out.rglob(".*tmp*")]
    monkeypatch.setattr(sweep_module, "write_atomic", real)
    assert cli(["sweep", str(path), "--out", str(out), "--executor", "serial", "--quiet"], capsys)[0] == 0
    assert len(list((out / "summary").glob("*.parquet"))) == 2


# --------------------------------------------------------------------------------------------
# Never destroy what the tool did not write; results folders know their kind
# --------------------------------------------------------------------------------------------


def test_results_manifest_names_package_and_kind(results_dir: Path) -> None:
    doc = json.loads((results_dir / "manifest.json").read_text())
    assert (doc["package"], doc["kind"]) == ("diaspora_sim", "results")


@pytest.mark.parametrize("what", ["run", "report", "user"])
def test_sweep_out_refuses_a_run_folder_a_report_or_a_users_folder(what: str, run_dir: Path, results_dir: Path,
                                                                   tmp_path: Path, capsys) -> None:
    if what == "run":
        target, needle = run_dir, "is a run folder (written by `run`)"
    elif what == "report":
        target, needle = tmp_path / "report", "is a comparison report"
        assert cli(["compare", "--results", str(results_dir), "--report", str(target)], capsys)[0] == 0
    else:
        target, needle = tmp_path / "mine", "is a folder this tool did not write"
        target.mkdir()
        (target / "notes.txt").write_text("keep me")
    before = tree(target)
    status, err = cli(["sweep", str(exp_file(tmp_path)), "--out", str(target), "--executor", "serial", "--quiet"],
                      capsys)
    assert status == 2 and needle in err
    assert tree(target) == before


def test_a_results_folder_without_kind_still_resumes(results_dir: Path, tmp_path: Path, capsys) -> None:
    old = tmp_path / "old"
    shutil.copytree(results_dir, old)
    doc = json.loads((old / "manifest.json").read_text())
    del doc["package"], doc["kind"]
    (old / "manifest.json").write_text(json.dumps(doc))
    assert main(["sweep", str(exp_file(tmp_path)), "--out", str(old), "--executor", "serial", "--quiet"]) == 0
    assert json.loads((old / "manifest.json").read_text())["kind"] == "results"


def test_explicit_report_folder_is_replaced_only_with_overwrite(results_dir: Path, tmp_path: Path, capsys) -> None:
    report = tmp_path / "report"
    assert cli(["compare", "--results", str(results_dir), "--report", str(report)], capsys)[0] == 0
    status, err = cli(["compare", "--results", str(results_dir), "--report", str(report)], capsys)
    assert status == 2 and "--report" in err and "--overwrite" in err
    assert cli(["compare", "--results", str(results_dir), "--report", str(report), "--overwrite"], capsys)[0] == 0
    # the default report inside the results folder belongs to the results: replaced silently
    assert cli(["compare", "--results", str(results_dir)], capsys)[0] == 0
    assert cli(["compare", "--results", str(results_dir)], capsys)[0] == 0


# --------------------------------------------------------------------------------------------
# 6. Faults: lock, orphaned workers
# --------------------------------------------------------------------------------------------


def test_a_second_sweep_on_a_locked_folder_is_refused_at_once(results_dir: Path, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "busy"
    shutil.copytree(results_dir, folder)
    (folder / "runs" / ".x.parquet.tmp-1").write_bytes(b"the other sweep's temporary file")
    with folder_lock(folder):
        started = time.perf_counter()
        status, err = cli(["sweep", str(exp_file(tmp_path)), "--out", str(folder), "--executor", "serial"], capsys)
        assert status == 2 and time.perf_counter() - started < 10
        assert f"another sweep is writing to {folder} (pid {os.getpid()}); wait for it or use another --out" in err
        assert (folder / "runs" / ".x.parquet.tmp-1").exists()  # the other sweep's files are left alone
    assert (folder / ".lock").read_bytes() == b""


def _session_members(sid: int) -> list[int]:
    """The processes of the session `sid` (field 6 of /proc/PID/stat), zombies left out."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_workers_exit_when_the_sweep_is_killed_with_kill_9(tmp_path: Path) -> None:
    path = exp_file(tmp_path, SMALL.replace("months: 2", "months: 24").replace("scale: 20000", "scale: 500")
                    .replace("replications: 1", "replications: 4"))
    env = {**os.environ, "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}
    proc = subprocess.Popen([sys.executable, "-m", "diaspora_sim", "sweep", str(path), "--out", str(tmp_path / "out"),
                             "--workers", "2", "--quiet"], cwd=tmp_path, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_session_members(proc.pid)) < 4:  # sweep, fork server, 2 workers
            time.sleep(0.05)
        assert len(_session_members(proc.pid)) >= 4, "the workers did not start"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _session_members(proc.pid):
            time.sleep(0.1)
        assert _session_members(proc.pid) == [], "worker processes outlived the sweep"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# --------------------------------------------------------------------------------------------
# 5 and 7. Accepted, then failing; friction
# --------------------------------------------------------------------------------------------


def test_one_default_seed_everywhere() -> None:
    from diaspora_sim.calibration.spec import ABCSettings
    from diaspora_sim.scenario.schema import Run

    parser = build_parser()
    assert parser.parse_args(["compare", "a.yaml"]).seed == 1
    assert parser.parse_args(["validate"]).seed == 1
    assert Run().seed == 1 and ABCSettings().seed == 1
    assert load_experiment(exp_file(Path(os.environ.get("TMPDIR", "/tmp")), SMALL, f"seed-{os.getpid()}.yaml")).seed == 1
    shipped = yaml.safe_load(PARAMS.read_text())["abc"]
    assert shipped["base_seed"] >= 1000  # the calibration's runs are far from validate's seeds 1-20


def test_calibration_file_seeds_that_do_not_fit_64_bits(tmp_path: Path, capsys) -> None:
    doc = yaml.safe_load(PARAMS.read_text())
    doc["abc"]["base_seed"] = 2**63
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(doc))
    status, err = cli(["calibrate", "--params", str(path), "--dry-run"], capsys)
    assert status == 2 and str(path) in err and "abc.base_seed" in err


def test_calibrate_dry_run_checks_and_prints_the_plan_and_writes_nothing(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["calibrate", "--params", str(PARAMS), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "11 parameters" in out and "seeds 1001, 1002" in out and "at most 2,400 runs" in out
    assert list(tmp_path.iterdir()) == []


def test_readme_set_example_changes_an_outcome() -> None:
    from diaspora_sim import api

    readme = (ROOT / "README.md").read_text()
    assert "--set hosts.DE.stay.renewal_probability=0.5" in readme
    assert "--set hosts.DE.entry.humanitarian_visa=true --out" not in readme
    stocks = []
    for sets in ([], ["hosts.DE.stay.renewal_probability=0.5"]):
        done = api.run(api.load_scenario(BASELINE, sets), months=30, scale=2000, progress=False)
        try:
            table = done.timeseries
        finally:
            done.release()
        rows = table[(table["metric"] == "stock") & (table["host"] == "DE") & (table["category"] == "ALL")]
        stocks.append(float(rows["value"].iloc[-1]))
    assert stocks[1] < 0.9 * stocks[0]  # measured at this scale: 40,000 -> 34,000


@pytest.mark.parametrize("damage", ["garbage", "missing"])
def test_results_and_compare_on_a_damaged_run_file(damage: str, results_dir: Path, tmp_path: Path,
                                                   capsys) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(results_dir, broken)
    sub = "runs"
    victim = sorted((broken / sub).glob("*.parquet"))[0]
    if damage == "missing":
        victim.unlink()
    else:
        victim.write_bytes(b"PAR1 damaged")
    for args in [["compare", "--results", str(broken), "--report", str(tmp_path / "r")]]:
        status, err = cli(args, capsys)
        assert status == 2 and f"{broken}: a file of its {sub}/ cannot be read" in err
