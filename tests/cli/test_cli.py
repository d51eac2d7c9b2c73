"""The command line end to end: run folders, determinism, exit status 2 on bad input, schema, plot, check."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import diaspora_sim
from diaspora_sim.cli import main
from diaspora_sim.scenario.loading import load_scenario
from diaspora_sim.scenario.reference import undocumented_fields
from diaspora_sim.scenario.schema import CATEGORIES

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline_2022.yaml"
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
RUN_ARGS = ("run", str(BASELINE), "--months", "14", "--scale", "400")
COLUMNS = ["date", "host", "category", "metric", "value"]
FIGURES = ("rates_by_category.png", "stock_by_host.png")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "diaspora_sim", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300
    )


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# --------------------------------------------------------------------------------------------
# Run folders, made once per module
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[Path, subprocess.CompletedProcess]]:
    """The same command twice (from two working folders, `--out run`) and once with another seed."""
    result = {}
    for name, extra in (("first", ()), ("again", ()), ("seed2", ("--seed", "2", "--no-figures"))):
        cwd = tmp_path_factory.mktemp(name)
        proc = cli(*RUN_ARGS, "--out", "run", *extra, cwd=cwd)
        assert proc.returncode == 0, proc.stderr
        result[name] = (cwd / "run", proc)
    return result


@pytest.fixture(scope="module")
def run_dir(runs) -> Path:
    return runs["first"][0]


@pytest.fixture(scope="module")
def table(run_dir: Path):
    return pq.read_table(run_dir / "timeseries.parquet")


def test_run_writes_the_run_folder(run_dir: Path) -> None:
    names = {p.name for p in run_dir.iterdir()}
    assert {"manifest.json", "scenario.resolved.yaml", "timeseries.parquet", "summary.json", *FIGURES} <= names
    assert not [n for n in names if n.startswith(".")], "temporary files left in the run folder"
    siblings = [p.name for p in run_dir.parent.iterdir()]
    assert siblings == ["run"], f"temporary folders left beside the run folder: {siblings}"


def test_run_prints_headline_table(runs) -> None:
    out = runs["first"][1].stdout
    assert "Baseline 2022" in out and "seed 1" in out and "scale 400" in out
    header = next(line for line in out.splitlines() if line.startswith("category"))
    assert "ever left" in header and "return rate" in header and "integration" in header
    rows = {line.split()[0]: line for line in out.splitlines() if line.split()}
    for cat in (*CATEGORIES, "ALL"):
        assert cat in rows, f"no headline row for {cat}"
        assert "%" in rows[cat]
    assert "wrote run" in out


def test_manifest(run_dir: Path) -> None:
    doc = json.loads((run_dir / "manifest.json").read_text())
    assert doc["version"] == diaspora_sim.__version__
    assert doc["seed"] == 1  # the baseline file's run.seed
    params = doc["parameters"]
    # --months 14 stops early: the scenario keeps its 60-month span, the manifest says 14 were simulated
    assert doc["months"] == 14 and doc["scenario_months"] == 60
    assert params["run"]["months"] == 60 and params["run"]["scale"] == 400 and params["run"]["seed"] == 1
    assert set(params["hosts"]) == set(load_scenario(BASELINE).hosts)
    assert isinstance(doc["timings_s"], dict) and doc["timings_s"]
    assert all(isinstance(v, int | float) and v >= 0 for v in doc["timings_s"].values())


def test_resolved_scenario_of_short_run_passes_check(run_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["check", str(run_dir / "scenario.resolved.yaml")]) == 0, capsys.readouterr().err


def test_resolved_scenario_passes_check(tmp_path: Path, monkeypatch, capsys) -> None:
    # A full-length run (the file's 60 months) in-process, without figures.
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(BASELINE), "--scale", "400", "--no-figures", "--quiet", "--out", "full"]) == 0
    assert capsys.readouterr().out == ""  # --quiet
    resolved = tmp_path / "full" / "scenario.resolved.yaml"
    assert main(["check", str(resolved)]) == 0, capsys.readouterr().err
    assert "ok" in capsys.readouterr().out
    sc = load_scenario(resolved)
    assert sc.model_dump() == load_scenario(BASELINE, ["run.scale=400"]).model_dump()


def test_timeseries_columns_and_keys(table, run_dir: Path) -> None:
    assert table.column_names == COLUMNS
    df = pd.read_parquet(run_dir / "timeseries.parquet")
    assert list(df.columns) == COLUMNS
    assert len(df) == table.num_rows > 0
    hosts = set(df["host"].astype(str))
    assert {"ALL", "RU"} <= hosts
    assert hosts <= {*load_scenario(BASELINE).hosts, "ALL", "RU"}
    cats = set(df["category"].astype(str))
    assert "ALL" in cats and cats <= {*CATEGORIES, "ALL"}
    assert {"return_rate", "integration_rate", "stock"} <= set(df["metric"].astype(str))
    dates = sorted(pd.to_datetime(df["date"]).unique())
    assert len(dates) == 14
    assert (str(dates[0].date()), str(dates[-1].date())) == ("2022-02-01", "2023-03-01")
    assert df["value"].notna().all()


def test_summary(run_dir: Path, table) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    for key in ("return_rate", "integration_rate"):
        assert 0.0 <= summary[key] <= 1.0
    assert set(summary["by_category"]) == set(CATEGORIES)
    for row in summary["by_category"].values():
        assert {"return_rate", "integration_rate"} <= set(row)
    # The headline rate is the time series' last value for all hosts and categories.
    df = table.to_pandas()
    last = df[(df["date"] == df["date"].max()) & (df["host"] == "ALL") & (df["category"] == "ALL")]
    value = last.loc[last["metric"] == "return_rate", "value"].item()
    assert math.isclose(summary["return_rate"], value, rel_tol=1e-9)


def test_figures_are_png(run_dir: Path) -> None:
    for name in FIGURES:
        data = (run_dir / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000


def test_same_command_twice_gives_identical_files(runs) -> None:
    first, again = runs["first"][0], runs["again"][0]
    for name in ("timeseries.parquet", "summary.json", "scenario.resolved.yaml", *FIGURES):
        assert (first / name).read_bytes() == (again / name).read_bytes(), f"{name} differs between identical runs"
    m1, m2 = (json.loads((d / "manifest.json").read_text()) for d in (first, again))
    m1.pop("timings_s")
    m2.pop("timings_s")
    assert m1 == m2


def test_other_seed_changes_time_series(runs, table) -> None:
    other_dir = runs["seed2"][0]
    other = pq.read_table(other_dir / "timeseries.parquet")
    assert not other.equals(table)
    assert json.loads((other_dir / "manifest.json").read_text())["seed"] == 2
    assert not list(other_dir.glob("*.png"))  # --no-figures


# --------------------------------------------------------------------------------------------
# Bad input: exit status 2, nothing written
# --------------------------------------------------------------------------------------------


def test_run_bad_scenario_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {json.dumps(str(BASELINE))}\nhosts:\n  DE:\n    entry: {{visa_fre: true}}\n")
    before = files_under(tmp_path)
    proc = cli("run", str(bad), "--months", "14", "--scale", "400", "--out", "out", cwd=tmp_path)
    assert proc.returncode == 2
    assert f"{bad}:4: hosts.DE.entry.visa_fre" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert files_under(tmp_path) == before  # no out/, no runs/, no temporary folder


@pytest.mark.parametrize(
    "extra",
    [("--months", "0"), ("--scale", "0.5"), ("--seed", "-1"), ("--set", "hosts.DE.entry.visa_free=maybe"),
     ("--set", "nonsense")],
    ids=["months0", "scale_below_1", "negative_seed", "set_bad_value", "set_no_equals"],
)
def test_run_bad_options_exit_2_and_write_nothing(extra: tuple[str, ...], tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    status = main(["run", str(BASELINE), "--months", "3", "--scale", "400", *extra])  # default out: runs/...
    err = capsys.readouterr().err
    assert status == 2
    assert "invalid scenario" in err
    assert list(tmp_path.iterdir()) == []


def test_plot_rejects_non_run_folder(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert main(["plot", "empty", "--out", "f.png"]) == 2
    assert "not a run folder" in capsys.readouterr().err
    assert not (tmp_path / "f.png").exists()


# --------------------------------------------------------------------------------------------
# schema, plot, check
# --------------------------------------------------------------------------------------------


def test_schema_prints_json_schema(tmp_path: Path) -> None:
    proc = cli("schema", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    assert {"hosts", "timeline", "population", "russia", "run"} <= set(schema["properties"])
    assert list(tmp_path.iterdir()) == []


def test_schema_markdown(capsys) -> None:
    assert main(["schema", "--markdown"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# Parameter reference")
    assert "## Scenario" in text and "## Host" in text and "visa_free" in text
    docs = ROOT / "docs" / "parameters.md"
    if not docs.exists():
        pytest.skip("docs/parameters.md does not exist yet")
    assert text.rstrip("\n") == docs.read_text(encoding="utf-8").rstrip("\n"), (
        "docs/parameters.md is stale: regenerate with `python -m diaspora_sim schema --markdown`"
    )


def test_plot_compares_runs(runs, tmp_path: Path) -> None:
    proc = cli("plot", str(runs["first"][0]), str(runs["seed2"][0]), "--out", "f.png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = (tmp_path / "f.png").read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 1000


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_check_shipped_scenario(path: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["check", str(path)]) == 0, capsys.readouterr().err
    assert f"{path}: ok" in capsys.readouterr().out


def test_scenarios_exist() -> None:
    assert BASELINE in SCENARIOS


def test_every_schema_field_has_a_description() -> None:
    assert undocumented_fields() == []


# --------------------------------------------------------------------------------------------
# --out never destroys what the tool did not write
# --------------------------------------------------------------------------------------------

SHORT_RUN = ("run", str(BASELINE), "--months", "3", "--scale", "2000", "--no-figures", "--quiet")


def test_run_out_refuses_a_users_folder_and_keeps_its_files(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "thesis.txt").write_text("x")
    assert main([*SHORT_RUN, "--out", "k"]) == 2
    assert "k" in capsys.readouterr().err
    assert (tmp_path / "k" / "thesis.txt").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k"]
    assert main([*SHORT_RUN, "--out", "k", "--overwrite"]) == 2  # not a run folder: never replaced
    assert (tmp_path / "k" / "thesis.txt").read_text() == "x"


def test_run_out_refuses_an_existing_file_and_a_link(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("keep")
    (tmp_path / "link").symlink_to(tmp_path / "notes.txt")
    for out in ("notes.txt", "link", "notes.txt/sub"):
        assert main([*SHORT_RUN, "--out", out, "--overwrite"]) == 2
        assert "not a folder" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "notes.txt"]


def test_run_out_replaces_its_own_run_folder_only_with_overwrite(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert main([*SHORT_RUN, "--out", "empty"]) == 0  # an empty folder is fine
    assert (tmp_path / "empty" / "manifest.json").exists()
    assert main([*SHORT_RUN, "--out", "empty", "--seed", "2"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert json.loads((tmp_path / "empty" / "summary.json").read_text())["seed"] == 1
    assert main([*SHORT_RUN, "--out", "empty", "--seed", "2", "--overwrite"]) == 0
    assert json.loads((tmp_path / "empty" / "summary.json").read_text())["seed"] == 2
    (tmp_path / "empty" / "my_notes.md").write_text("mine")
    assert main([*SHORT_RUN, "--out", "empty", "--overwrite"]) == 2
    assert "my_notes.md" in capsys.readouterr().err
    assert (tmp_path / "empty" / "my_notes.md").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]
