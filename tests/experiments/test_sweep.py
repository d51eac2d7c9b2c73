"""Sweeps: identical results whatever the executor, resume after kill -9, failures, dying workers,
results folders readable by other tools.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from diaspora_sim.cli import main
from diaspora_sim.core.errors import InputError
from diaspora_sim.experiments.folder import prepare_folder
from diaspora_sim.experiments.plan import make_plan
from diaspora_sim.experiments.results import Results
from diaspora_sim.experiments.runner import RunResult, execute_run
from diaspora_sim.experiments.spec import load_experiment
from diaspora_sim.experiments.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[2]

# Two scenarios (a mix-up of their data between workers would show), a grid of two points, small runs.
EXPERIMENT = """
title: Test sweep
scenarios:
  - SCENARIOS/baseline_2022.yaml
  - SCENARIOS/restrictive_eu.yaml
parameters:
  - name: eu_renewal
    path: hosts.@eu.stay.renewal_probability
    values: [0.5, 1.0]
replications: REPS
months: MONTHS
scale: 2000
outputs:
  metrics: [return_rate, integration_rate, stock]
  hosts: [ALL, RU]
"""


def experiment(folder: Path, scenarios: Path, reps: int = 3, months: int = 18, name: str = "exp") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(EXPERIMENT.replace("REPS", str(reps)).replace("MONTHS", str(months)).replace("SCENARIOS", str(scenarios)))
    return path


def plan_of(path: Path):
    return make_plan(load_experiment(path), path)


def files(folder: Path) -> dict[str, bytes]:
    """Every file of a results folder but the log (the only one that records times and workers)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "log.jsonl"}


def cli(*args: str, cwd: Path, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}
    return subprocess.Popen([sys.executable, "-m", "diaspora_sim", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, scenarios: Path) -> tuple[Path, Path]:
    """The test experiment (3 replications) run once, in this process: (experiment file, results folder)."""
    folder = tmp_path_factory.mktemp("reference")
    path = experiment(folder, scenarios)
    report = run_sweep(plan_of(path), folder / "out", executor="serial", progress=False)
    assert report.ok and report.ran == 12
    return path, folder / "out"


# --------------------------------------------------------------------------------------------
# The results folder
# --------------------------------------------------------------------------------------------


def test_results_folder_layout(reference) -> None:
    _, out = reference
    manifest = json.loads((out / "manifest.json").read_text())
    ids = [r["run_id"] for r in manifest["runs"]]
    assert len(ids) == len(set(ids)) == 12
    assert sorted(p.stem for p in (out / "runs").glob("*.parquet")) == sorted(ids)
    assert sorted(p.stem for p in (out / "summary").glob("*.parquet")) == sorted(ids)
    assert not list((out / "failed").iterdir())
    assert {p.name for p in (out / "scenarios").iterdir()} == {"baseline_2022.yaml", "restrictive_eu.yaml"}
    assert not [p for p in out.rglob(".*") if p.name != ".lock"], "temporary files left behind"
    assert (out / ".lock").read_bytes() == b"", "the lock file is emptied when the sweep ends"
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert sorted(e["run_id"] for e in log if e["status"] == "ok") == sorted(ids)


def test_run_files_hold_the_kept_outputs_and_the_run_identity(reference) -> None:
    _, out = reference
    manifest = json.loads((out / "manifest.json").read_text())
    run = manifest["runs"][5]
    table = pq.read_table(out / "runs" / f"{run['run_id']}.parquet")
    assert table.column_names == ["run_id", "scenario", "point", "eu_renewal", "replicate", "seed",
                                  "date", "host", "category", "metric", "value"]
    df = table.to_pandas()
    assert set(df["metric"]) == {"return_rate", "integration_rate", "stock"}
    assert set(df["host"]) == {"ALL", "RU"}
    for key in ("run_id", "scenario", "point", "replicate", "seed"):
        assert set(df[key]) == {run[key]}
    assert set(df["eu_renewal"]) == {manifest["points"][run["point"]]["eu_renewal"]}
    assert df["date"].nunique() == 18
    summary = pq.read_table(out / "summary" / f"{run['run_id']}.parquet").to_pandas()
    assert len(summary) == 1
    last = df[(df.date == df.date.max()) & (df.host == "ALL") & (df.category == "ALL") & (df.metric == "return_rate")]
    assert summary["return_rate"].item() == pytest.approx(last["value"].item(), rel=1e-9)


def test_same_seed_different_arms_are_paired(reference) -> None:
    _, out = reference
    summary = Results.open(out).summary()
    assert set(summary.groupby("replicate")["seed"].nunique()) == {1}
    assert summary.groupby(["scenario", "point"]).size().to_dict() == {
        (s, k): 3 for s in ("baseline_2022", "restrictive_eu") for k in (0, 1)}


def test_readable_by_pandas_polars_and_duckdb_without_this_package(reference) -> None:
    pytest.importorskip("polars")
    pytest.importorskip("duckdb")
    _, out = reference
    code = f"""
import sys, pandas as pd, polars as pl, duckdb
out = {str(out)!r}
s = pd.read_parquet(out + "/summary")
p = pl.read_parquet(out + "/runs/*.parquet")
d = duckdb.sql(f"select scenario, avg(value) as v, count(*) as n from read_parquet('{{out}}/runs/*.parquet') "
               "where metric = 'return_rate' and host = 'ALL' and category = 'ALL' "
               "group by scenario order by scenario").fetchall()
assert "diaspora_sim" not in sys.modules
print(len(s), p.height, d)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    n_summary, n_rows, grouped = proc.stdout.split(" ", 2)
    expected = Results.open(out).timeseries().num_rows
    assert int(n_summary) == 12 and int(n_rows) == expected
    assert "baseline_2022" in grouped and "restrictive_eu" in grouped


def test_results_command(reference, capsys) -> None:
    _, out = reference
    assert main(["results", str(out)]) == 0
    text = capsys.readouterr().out
    assert "12 runs planned: 12 done, 0 failed, 0 not run" in text
    assert "baseline_2022 [eu_renewal=0.5]" in text and "restrictive_eu [eu_renewal=1]" in text


def test_results_command_rejects_other_folders(tmp_path: Path, capsys) -> None:
    assert main(["results", str(tmp_path)]) == 2
    assert "not a results folder" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# Same results whatever the executor; resume
# --------------------------------------------------------------------------------------------


def test_process_pool_gives_identical_files(reference, tmp_path: Path) -> None:
    path, ref_out = reference
    report = run_sweep(plan_of(path), tmp_path / "out", executor="local", workers=2, progress=False)
    assert report.ok and report.ran == 12
    assert files(tmp_path / "out") == files(ref_out)


def test_dask_local_cluster_gives_identical_files(reference, tmp_path: Path, monkeypatch) -> None:
    """... and its scheduler, workers and dashboard listen on the loopback interface only."""
    distributed = pytest.importorskip("distributed")
    seen = []

    class Recorded(distributed.LocalCluster):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            seen.append((self.scheduler_address, self.dashboard_link,
                         [w["host"] for w in self.scheduler_info["workers"].values()]))

    monkeypatch.setattr(distributed, "LocalCluster", Recorded)
    path, ref_out = reference
    report = run_sweep(plan_of(path), tmp_path / "out", executor="dask", workers=2, progress=False)
    assert report.ok and report.ran == 12
    assert files(tmp_path / "out") == files(ref_out)
    [(scheduler, dashboard, hosts)] = seen
    assert scheduler.startswith("tcp://127.0.0.1:")
    assert dashboard.startswith("http://127.0.0.1:")
    assert hosts and set(hosts) == {"127.0.0.1"}


def test_resume_after_kill_9_gives_the_uninterrupted_results(scenarios: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """A real `sweep` process is killed with SIGKILL midway; the same command then completes it."""
    exp = experiment(tmp_path, scenarios, reps=5, months=14, name="long")  # 20 runs
    args = ("sweep", str(exp), "--out", "out", "--workers", "2", "--quiet")
    proc = cli(*args, cwd=tmp_path, start_new_session=True)
    summary_dir = tmp_path / "out" / "summary"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if summary_dir.is_dir() and len(list(summary_dir.glob("*.parquet"))) >= 3:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the sweep ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.3)
    try:  # its worker processes exit on their own when the sweep dies; stop any straggler of this test
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    done_at_kill = {p.stem for p in summary_dir.glob("*.parquet")}
    assert 3 <= len(done_at_kill) < 20
    log_at_kill = (tmp_path / "out" / "log.jsonl").read_text()
    (tmp_path / "out" / "runs" / ".stale.parquet.tmp-1").write_bytes(b"half a file")  # as a crash mid-write leaves

    monkeypatch.chdir(tmp_path)
    assert main(list(args)) == 0  # the same command again
    err = capsys.readouterr().err
    assert f"20 runs planned, {len(done_at_kill)} already done, {20 - len(done_at_kill)} ran" in err

    resumed_log = (tmp_path / "out" / "log.jsonl").read_text()[len(log_at_kill):]
    rerun = {json.loads(line)["run_id"] for line in resumed_log.splitlines()}
    assert not rerun & done_at_kill, "completed runs were run again"

    uninterrupted = tmp_path / "uninterrupted"
    assert run_sweep(plan_of(exp), uninterrupted, executor="serial", progress=False).ok
    assert files(tmp_path / "out") == files(uninterrupted)


def test_adding_replications_runs_only_the_new_ones(reference, scenarios: Path, tmp_path: Path) -> None:
    path, ref_out = reference
    out = tmp_path / "out"
    two = plan_of(experiment(tmp_path, scenarios, reps=2))
    prepare_folder(two, out)  # a folder of the 2-replication experiment ...
    for t in two.tasks:  # ... whose runs are complete (they are the reference's first two replicates)
        for sub in ("runs", "summary"):
            shutil.copy(ref_out / sub / f"{t.run_id}.parquet", out / sub)
    report = run_sweep(plan_of(path), out, executor="serial", progress=False)
    assert (report.already_done, report.ran) == (8, 4)
    assert files(out) == files(ref_out)


def test_a_folder_of_another_experiment_is_refused(reference, scenarios: Path, tmp_path: Path, capsys) -> None:
    path, ref_out = reference
    other = tmp_path / "other.yaml"
    other.write_text(path.read_text().replace("values: [0.5, 1.0]", "values: [0.6]"))
    with pytest.raises(InputError, match="not in this experiment's plan"):
        run_sweep(plan_of(other), ref_out, executor="serial", progress=False)
    assert main(["sweep", str(other), "--out", str(ref_out), "--executor", "serial", "--quiet"]) == 2
    assert "use another --out" in capsys.readouterr().err
    fewer = experiment(tmp_path, scenarios, reps=2)
    with pytest.raises(InputError, match="fewer replications"):
        run_sweep(plan_of(fewer), ref_out, executor="serial", progress=False)


def test_runs_of_other_model_code_are_not_mixed(scenarios: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    plan = plan_of(experiment(tmp_path, scenarios, reps=1))
    assert run_sweep(plan, out, executor="serial", progress=False).ok
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["code_fingerprint"] = "0123456789abcdef"  # as if the model had changed since
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="other model code"):
        run_sweep(plan, out, executor="serial", progress=False)


# --------------------------------------------------------------------------------------------
# Failures and dying workers
# --------------------------------------------------------------------------------------------


def raising_runner(task, data, *, replicate: int) -> RunResult:
    """Fails every run of one replicate (as a model error would), computes the others."""
    if task.replicate == replicate:
        return execute_run(task, {**data, "population": "broken"})  # raises inside: recorded with its traceback
    return execute_run(task, data)


def dying_runner(task, data, *, marks: str, once: str, always: str) -> RunResult:
    """Kills its worker process on run `always` every time, and on run `once` the first time only."""
    mark = Path(marks) / task.run_id
    if task.run_id == always or (task.run_id == once and not mark.exists()):
        mark.touch()
        os._exit(9)
    return execute_run(task, data)


def test_a_failing_run_is_recorded_and_retried_on_resume(reference, tmp_path: Path) -> None:
    path, ref_out = reference
    out = tmp_path / "out"
    plan = plan_of(path)
    report = run_sweep(plan, out, executor="serial", progress=False,
                       runner=functools.partial(raising_runner, replicate=1))
    assert not report.ok and report.ran == 8 and len(report.failed) == 4
    records = sorted((out / "failed").glob("*.json"))
    assert len(records) == 4
    doc = json.loads(records[0].read_text())
    assert doc["replicate"] == 1 and doc["seed"] == 2  # base seed 1 (the default) + replicate 1
    assert doc["error"].startswith("Traceback") and "ValueError" in doc["error"]  # the data guard refused it
    assert Results.open(out).failed() and len(Results.open(out).completed) == 8

    again = run_sweep(plan, out, executor="serial", progress=False)
    assert again.ok and (again.already_done, again.ran) == (8, 4)
    assert not list((out / "failed").iterdir())
    assert files(out) == files(ref_out)


def test_cli_sweep_with_failed_runs_exits_1_with_a_summary(reference, tmp_path: Path, monkeypatch, capsys) -> None:
    import diaspora_sim.experiments.sweep as sweep

    path, _ = reference
    monkeypatch.setattr(sweep, "execute_run", functools.partial(raising_runner, replicate=0))
    status = main(["sweep", str(path), "--out", str(tmp_path / "out"), "--executor", "serial"])
    err = capsys.readouterr().err
    assert status == 1
    assert "12 runs planned, 0 already done, 8 ran" in err and "4 failed" in err
    assert "re-run the same command to retry them" in err


def test_dying_workers_are_retried_and_a_run_that_always_kills_its_worker_fails(reference, scenarios: Path,
                                                                                 tmp_path: Path) -> None:
    path, ref_out = reference
    plan = plan_of(experiment(tmp_path, scenarios, reps=1))  # the first replicate of the reference: 4 runs
    once, always = plan.tasks[0].run_id, plan.tasks[2].run_id
    marks = tmp_path / "marks"
    marks.mkdir()
    runner = functools.partial(dying_runner, marks=str(marks), once=once, always=always)
    out = tmp_path / "out"
    report = run_sweep(plan, out, executor="local", workers=2, max_retries=1, progress=False, runner=runner)
    assert set(report.failed) == {always}, report
    assert "worker process died 2 times" in report.failed[always]
    assert report.ran == 3 and report.retried >= 2
    assert "worker process died" in json.loads((out / "failed" / f"{always}.json").read_text())["error"]
    for t in plan.tasks:
        for sub in ("runs", "summary"):
            mine = out / sub / f"{t.run_id}.parquet"
            if t.run_id == always:
                assert not mine.exists()
            else:
                assert mine.read_bytes() == (ref_out / sub / f"{t.run_id}.parquet").read_bytes()


def test_restricted_timeseries_table_is_the_filtered_full_table(scenarios: Path) -> None:
    import pyarrow.compute as pc

    from diaspora_sim.model.model import DiasporaModel
    from diaspora_sim.outputs.timeseries import timeseries_table
    from diaspora_sim.scenario.loading import load_scenario, with_run

    model = DiasporaModel(with_run(load_scenario(scenarios / "open_eu.yaml"), scale=4000, months=10)).run()
    try:
        full = timeseries_table(model)
        keep = {"metric": ["stock", "return_rate"], "host": ["RU", "ALL", "GE"], "category": ["ALL", "academic"]}
        part = timeseries_table(model, metrics=keep["metric"], hosts=keep["host"], categories=keep["category"])
    finally:
        model.release()
    mask = None
    for column, values in keep.items():
        m = pc.is_in(full[column].cast("string"), value_set=pa.array(values))
        mask = m if mask is None else pc.and_(mask, m)
    expected = full.filter(mask)
    assert part.num_rows == expected.num_rows > 0
    assert part.column_names == expected.column_names
    for column in part.column_names:
        assert part[column].to_pylist() == expected[column].to_pylist(), column
