"""Bad scenario input: every kind gives a InputError and `check` exits 2 with a precise message.

Most cases are small child files in tmp_path that `extend` the shipped baseline by absolute path
and break one thing. The line a problem is expected on is marked in the YAML with ``# <-``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from diaspora_sim.cli import main
from diaspora_sim.core.errors import InputError
from diaspora_sim.scenario.loading import load_scenario
from diaspora_sim.scenario.schema import CATEGORIES

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline_2022.yaml"
MARK = "# <-"
MIX = "{it_specialist: 0.5, journalist_activist: 0.1, academic: 0.1, businessperson: 0.1, draft_evader: 0.2}"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def child(tmp_path: Path, body: str, name: str = "child.yaml") -> Path:
    """A scenario that extends the baseline (absolute path) and adds `body`."""
    return write(tmp_path / name, f"extends: {json.dumps(str(BASELINE))}\n" + textwrap.dedent(body).lstrip("\n"))


def marked_line(path: Path) -> int | None:
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if MARK in line:
            return i
    return None


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def load_error(path: Path, overrides: tuple[str, ...] = ()) -> InputError:
    with pytest.raises(InputError) as info:
        load_scenario(path, overrides)
    assert info.value.problems, "a InputError must carry at least one problem"
    return info.value


def problem_at(exc: InputError, path: str):
    found = [p for p in exc.problems if p.path == path]
    assert found, f"no problem at field path {path!r}; problems:\n{exc}"
    return found[0]


def run_check(args: list[str], tmp_path: Path, monkeypatch, capsys) -> tuple[int, str, str]:
    """`check` in-process with cwd = tmp_path; asserts it writes nothing."""
    monkeypatch.chdir(tmp_path)
    before = files_under(tmp_path)
    status = main(["check", *args])
    out, err = capsys.readouterr()
    assert files_under(tmp_path) == before, "check must not write files"
    return status, out, err


def run_module(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "diaspora_sim", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120
    )


# --------------------------------------------------------------------------------------------
# Schema and cross-field errors, one per kind
# --------------------------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    body: str
    path: str
    fragments: tuple[str, ...]  # what was expected and what was found


CASES = [
    Case(
        "wrong_type_wave_size",
        f"""
        population:
          waves:
            - name: w
              start: 2022-03
              end: 2022-04
              size: many  {MARK}
              category_mix: {MIX}
        """,
        "population.waves.0.size",
        ("valid number", "'many'"),
    ),
    Case(
        "wrong_type_bool",
        f"""
        hosts:
          DE:
            entry:
              visa_free: perhaps  {MARK}
        """,
        "hosts.DE.entry.visa_free",
        ("valid boolean", "'perhaps'"),
    ),
    Case(
        "wrong_type_int",
        f"""
        run:
          months: 12.5  {MARK}
        """,
        "run.months",
        ("integer", "12.5"),
    ),
    Case(
        "negative_wave_size",
        f"""
        population:
          waves:
            - name: w
              start: 2022-03
              end: 2022-04
              size: -5  {MARK}
              category_mix: {MIX}
        """,
        "population.waves.0.size",
        ("greater than or equal to 0", "-5"),
    ),
    Case(
        "probability_above_one",
        f"""
        hosts:
          KZ:
            pressure:
              harassment_rate: 1.5  {MARK}
        """,
        "hosts.KZ.pressure.harassment_rate",
        ("less than or equal to 1", "1.5"),
    ),
    Case(
        "per_category_probability_above_one",
        f"""
        hosts:
          DE:
            economy:
              job_finding: {{default: 0.02, academic: 1.5}}  {MARK}
        """,
        "hosts.DE.economy.job_finding.academic",
        ("less than or equal to 1", "1.5"),
    ),
    Case(
        "negative_probability",
        f"""
        russia:
          draft_risk: -0.1  {MARK}
        """,
        "russia.draft_risk",
        ("greater than or equal to 0", "-0.1"),
    ),
    Case(
        "category_mix_not_summing_to_one",
        f"""
        population:
          waves:
            - name: w
              start: 2022-03
              end: 2022-04
              size: 5
              category_mix: {{it_specialist: 0.5, journalist_activist: 0.1, academic: 0.1, businessperson: 0.1, draft_evader: 0.3}}  {MARK}
        """,  # noqa: E501
        "population.waves.0.category_mix",
        ("sum to 1", "1.1"),
    ),
    Case(
        "income_source_not_summing_to_one",
        f"""
        population:
          profiles:
            academic:
              income_source: {{remote_western: 0.5, remote_russian: 0.45, none: 0.2}}  {MARK}
        """,
        "population.profiles.academic.income_source",
        ("sum to 1", "1.15"),
    ),
    Case(
        "unknown_top_level_key",
        f"""
        titel: A typo  {MARK}
        """,
        "titel",
        ("unknown field",),
    ),
    Case(
        "unknown_nested_key",
        f"""
        hosts:
          DE:
            entry:
              visa_fre: true  {MARK}
        """,
        "hosts.DE.entry.visa_fre",
        ("unknown field",),
    ),
    Case(
        "unknown_category_in_per_category_value",
        f"""
        hosts:
          DE:
            economy:
              job_finding: {{default: 0.02, plumber: 0.3}}  {MARK}
        """,
        "hosts.DE.economy.job_finding.plumber",
        ("unknown field",),
    ),
    Case(
        "unknown_profile_category",
        f"""
        population:
          profiles:  {MARK}
            plumber:
              age: {{mean: 40, sd: 10, min: 20, max: 70}}
              male_share: 0.9
              foreign_passport_share: 0.5
              passport_years_left: {{low: 0.3, high: 10}}
              cash_usd: {{median: 1500, sigma: 0.9}}
              russian_savings_usd: {{median: 1500, sigma: 1.0}}
              remote_income_usd: {{median: 1200, sigma: 0.6}}
              income_source: {{remote_western: 0.05, remote_russian: 0.45, none: 0.5}}
              engagement: {{a: 1, b: 6}}
              family_ties: {{a: 4, b: 2}}
              language: {{a: 2, b: 4}}
        """,
        "population.profiles",
        ("unknown categories", "plumber"),
    ),
    Case(
        "missing_required_field",
        f"""
        hosts:
          XY:  {MARK}
            name: Nowhere
            entry: {{visa_free: true}}
            stay: {{}}
            pressure: {{population_millions: 1}}
        """,
        "hosts.XY.economy",
        ("required",),
    ),
    Case(
        "missing_required_wave_field",
        """
        population:
          waves:
            - name: w  # <-
              start: 2022-03
              end: 2022-04
              size: 5
        """,
        "population.waves.0.category_mix",
        ("required",),
    ),
    Case(
        "per_category_mapping_without_default",
        f"""
        hosts:
          XY:
            name: Nowhere
            entry: {{visa_free: true}}
            stay: {{}}
            economy: {{cost_of_living_usd: 100, local_wage_usd: {{academic: 100}}, job_finding: 0.1}}  {MARK}
            pressure: {{population_millions: 1}}
        """,
        "hosts.XY.economy.local_wage_usd",
        ("default", "it_specialist"),
    ),
    Case(
        "bad_host_code",
        f"""
        hosts:  {MARK}
          RU:
            name: Russia as a host
            entry: {{visa_free: true}}
            stay: {{}}
            economy: {{cost_of_living_usd: 100, local_wage_usd: 100, job_finding: 0.1}}
            pressure: {{population_millions: 1}}
        """,
        "hosts",
        ("'RU'",),
    ),
    Case(
        "bad_month_format",
        f"""
        timeline:
          - date: 2022-13  {MARK}
            name: thirteenth month
            hosts: [DE]
            set: {{entry.visa_free: true}}
        """,
        "timeline.0.date",
        ("expected a month 'YYYY-MM'", "'2022-13'"),
    ),
    Case(
        "wave_end_before_start",
        f"""
        population:
          waves:
            - name: w  {MARK}
              start: 2022-06
              end: 2022-04
              size: 5
              category_mix: {MIX}
        """,
        "population.waves.0",
        ("before start", "2022-04"),
    ),
    Case(
        "monthly_weights_wrong_length",
        f"""
        population:
          waves:
            - name: w  {MARK}
              start: 2022-03
              end: 2022-05
              size: 5
              monthly_weights: [1, 2]
              category_mix: {MIX}
        """,
        "population.waves.0",
        ("monthly_weights has 2 values", "3 months"),
    ),
    Case(
        "unknown_host_in_event",
        f"""
        timeline:
          - date: 2022-05
            name: bad host
            hosts: [XX]  {MARK}
            set: {{entry.visa_free: true}}
        """,
        "timeline.0.hosts.0",
        ("unknown host 'XX'", "DE"),
    ),
    Case(
        "unknown_group_in_event",
        f"""
        timeline:
          - date: 2022-05
            name: bad group
            groups: [nato]  {MARK}
            set: {{entry.visa_free: true}}
        """,
        "timeline.0.groups.0",
        ("'nato'", "schengen"),
    ),
    Case(
        "event_set_path_does_not_exist",
        f"""
        timeline:
          - date: 2022-05
            name: bad path
            hosts: [DE]
            set: {{entry.visa_freee: true}}  {MARK}
        """,
        "timeline.0.set",
        ("bad path", "visa_freee", "unknown field"),
    ),
    Case(
        "event_set_root_path_does_not_exist",
        f"""
        timeline:
          - date: 2022-05
            name: bad root path
            set: {{russia.mobilisation: true}}  {MARK}
        """,
        "timeline.0.set",
        ("bad root path", "russia.mobilisation", "unknown field"),
    ),
    Case(
        "event_set_through_a_value",
        f"""
        timeline:
          - date: 2022-05
            name: through a value
            hosts: [DE]
            set: {{name.first: Deutschland}}  {MARK}
        """,
        "timeline.0.set",
        ("through a value", "name"),
    ),
    Case(
        "event_set_forbidden_section",
        f"""
        timeline:
          - date: 2022-05
            name: shorten the run
            set: {{run.months: 3}}  {MARK}
        """,
        "timeline.0.set",
        ("shorten the run", "run.months"),
    ),
    Case(
        "event_set_wrong_type",
        f"""
        timeline:
          - date: 2022-05
            name: wrong type
            hosts: [DE]
            set: {{entry.visa_free: maybe}}  {MARK}
        """,
        "timeline.0.set",
        ("wrong type", "hosts.DE.entry.visa_free", "valid boolean", "'maybe'"),
    ),
    Case(
        "event_set_out_of_range",
        f"""
        timeline:
          - date: 2022-05
            name: too likely
            groups: [eu]
            set: {{entry.visa_approval: 2.5}}  {MARK}
        """,
        "timeline.0.set",
        ("too likely", "visa_approval", "less than or equal to 1", "2.5"),
    ),
    Case(
        "event_set_not_a_mapping",
        f"""
        timeline:
          - date: 2022-05
            name: no mapping
            hosts: [DE]
            set: entry.visa_free  {MARK}
        """,
        "timeline.0.set",
        ("valid dictionary", "'entry.visa_free'"),
    ),
    Case(
        "wave_start_before_run",
        f"""
        population:
          waves:
            - name: w
              start: 2021-03  {MARK}
              end: 2022-04
              size: 5
              category_mix: {MIX}
        """,
        "population.waves.0.start",
        ("outside the run", "2021-03", "2022-02"),
    ),
    Case(
        "wave_end_after_run",
        f"""
        population:
          waves:
            - name: w
              start: 2022-03
              end: 2030-01  {MARK}
              size: 5
              category_mix: {MIX}
        """,
        "population.waves.0.end",
        ("outside the run", "2030-01", "2027-01"),
    ),
    Case(
        "event_date_after_run",
        f"""
        timeline:
          - date: 2030-05  {MARK}
            name: late
            hosts: [DE]
            set: {{entry.visa_free: true}}
        """,
        "timeline.0.date",
        ("outside the run", "2030-05", "2027-01"),
    ),
    Case(
        "event_date_before_run",
        f"""
        timeline:
          - date: 2021-05  {MARK}
            name: early
            hosts: [DE]
            set: {{entry.visa_free: true}}
        """,
        "timeline.0.date",
        ("outside the run", "2021-05", "2022-02"),
    ),
]


def reported_line(err: str, path: str) -> str:
    """The stderr line of `check` that reports field `path`."""
    lines = [ln.strip() for ln in err.splitlines() if f": {path}: " in ln]
    assert lines, f"no problem reported at field path {path!r}:\n{err}"
    return lines[0]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_check_reports_bad_value_and_exits_2(case: Case, tmp_path: Path, monkeypatch, capsys) -> None:
    # main() returns 2 only for a InputError; any other exception would propagate and fail the test.
    path = child(tmp_path, case.body)
    status, out, err = run_check([str(path)], tmp_path, monkeypatch, capsys)
    assert status == 2
    assert out == ""
    line = reported_line(err, case.path)
    assert line.startswith(f"{path.resolve()}:{marked_line(path)}: {case.path}: "), line  # file, line, path
    for fragment in case.fragments:  # what was expected and what was found
        assert fragment in line, f"{fragment!r} not in {line!r}"


STRUCTURED = ["wrong_type_wave_size", "unknown_nested_key", "unknown_host_in_event", "event_set_wrong_type",
              "event_date_after_run"]


@pytest.mark.parametrize("case", [c for c in CASES if c.id in STRUCTURED], ids=STRUCTURED)
def test_load_scenario_raises_scenario_error_with_problem(case: Case, tmp_path: Path) -> None:
    path = child(tmp_path, case.body)
    exc = load_error(path)
    p = problem_at(exc, case.path)
    assert Path(p.file).resolve() == path.resolve(), f"problem attributed to {p.file}, not {path}"
    assert p.line == marked_line(path), f"line {p.line}, expected {marked_line(path)}: {p}"
    for fragment in case.fragments:
        assert fragment in p.message, f"{fragment!r} not in {p.message!r}"
    assert str(p) in str(exc)


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    path = child(
        tmp_path,
        """
        titel: typo
        hosts:
          DE:
            entry: {visa_fre: true}
            economy: {job_finding: 3}
        """,
    )
    exc = load_error(path)
    paths = {p.path for p in exc.problems}
    assert {"titel", "hosts.DE.entry.visa_fre", "hosts.DE.economy.job_finding.default"} <= paths
    assert "3 problems" in str(exc)


def test_problem_in_base_file_points_at_base_file(tmp_path: Path) -> None:
    # The child shortens the run; the baseline's later waves and events fall outside it.
    path = child(tmp_path, "run: {months: 12}\n")
    exc = load_error(path)
    p = problem_at(exc, "population.waves.3.start")
    assert Path(p.file) == BASELINE
    text = BASELINE.read_text(encoding="utf-8").splitlines()
    assert "start: 2023-07" in text[p.line - 1]


def test_problem_in_base_file_points_at_base_file_when_child_shares_a_prefix(tmp_path: Path) -> None:
    path = child(tmp_path, "run: {months: 12}\npopulation:\n  profiles:\n    academic: {male_share: 0.5}\n")
    p = problem_at(load_error(path), "population.waves.3.start")
    assert Path(p.file) == BASELINE
    assert "start: 2023-07" in BASELINE.read_text(encoding="utf-8").splitlines()[p.line - 1]


def test_timeline_append_adds_events_after_the_inherited_timeline(tmp_path: Path) -> None:
    base = load_scenario(BASELINE)
    path = child(tmp_path, """
        timeline_append:
          - {date: 2022-09, name: added, hosts: [DE], set: {entry.visa_approval: 0.5}}
        """)
    sc = load_scenario(path)
    assert [e.name for e in sc.timeline] == [*(e.name for e in base.timeline), "added"]


def test_timeline_append_problem_points_at_the_child_line(tmp_path: Path) -> None:
    path = child(tmp_path, """
        timeline_append:
          - date: 2022-09
            name: bad host
            hosts: [XX]  # <-
            set: {entry.visa_approval: 0.5}
        """)
    # named as the user wrote it: the first event this file appends, not timeline.9 of the merged timeline
    p = problem_at(load_error(path), "timeline_append.0.hosts.0")
    assert (Path(p.file), p.line) == (path, marked_line(path))
    assert "unknown host 'XX'" in p.message


def test_timeline_append_must_be_a_list(tmp_path: Path) -> None:
    path = child(tmp_path, "timeline_append: {date: 2022-09}\n")
    p = problem_at(load_error(path), "timeline_append")
    assert "expected a list of events, found dict" in p.message
    assert (Path(p.file), p.line) == (path, 2)


# --------------------------------------------------------------------------------------------
# Malformed files
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("title: t\ndescription: d\ntitle: a: b\n", 3),
        ("title: t\nrun:\n\tseed: 1\n", 3),
        ("title: t\ndescription: d\nrun: {months: 3\ntitle: x\n", 4),
    ],
    ids=["colon_in_plain_scalar", "tab_indent", "unclosed_flow_mapping"],
)
def test_malformed_yaml_reports_line(text: str, line: int, tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    exc = load_error(path)
    (p,) = exc.problems
    assert "malformed YAML" in p.message
    assert p.line == line
    status, _, err = run_check([str(path)], tmp_path, monkeypatch, capsys)
    assert status == 2
    assert f"broken.yaml:{line}:" in err
    assert "malformed YAML" in err


@pytest.mark.parametrize(
    ("text", "found"),
    [("- a\n- b\n", "list"), ("just some text\n", "str"), ("42\n", "int")],
    ids=["list", "string", "number"],
)
def test_non_mapping_top_level(text: str, found: str, tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "notamap.yaml"
    path.write_text(text, encoding="utf-8")
    exc = load_error(path)
    (p,) = exc.problems
    assert "expected a mapping" in p.message and found in p.message
    assert p.line == 1
    status, _, err = run_check([str(path)], tmp_path, monkeypatch, capsys)
    assert status == 2
    assert "notamap.yaml:1:" in err and "expected a mapping" in err


def test_non_mapping_base_file_is_named(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", "- not\n- a mapping\n")
    path = write(tmp_path / "leaf.yaml", "extends: base.yaml\ntitle: leaf\n")
    exc = load_error(path)
    assert exc.problems[0].file.endswith("base.yaml")


def test_empty_file_reports_missing_sections(tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    exc = load_error(path)
    missing = {p.path for p in exc.problems if "required" in p.message}
    assert {"population", "hosts", "russia"} <= missing
    status, _, err = run_check([str(path)], tmp_path, monkeypatch, capsys)
    assert status == 2 and "empty.yaml" in err and "russia" in err


def test_missing_file(tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "nowhere.yaml"
    exc = load_error(path)
    assert "cannot read" in exc.problems[0].message
    status, _, err = run_check([str(path)], tmp_path, monkeypatch, capsys)
    assert status == 2 and "nowhere.yaml" in err


def test_check_of_several_files_reports_each_and_exits_2(tmp_path: Path, monkeypatch, capsys) -> None:
    bad = child(tmp_path, "titel: typo\n", name="bad.yaml")
    status, out, err = run_check([str(BASELINE), str(bad)], tmp_path, monkeypatch, capsys)
    assert status == 2
    assert "baseline_2022.yaml: ok" in out
    assert "bad.yaml" in err and "titel" in err


# --------------------------------------------------------------------------------------------
# extends
# --------------------------------------------------------------------------------------------


def test_extends_cycle_between_two_files(tmp_path: Path, monkeypatch, capsys) -> None:
    write(tmp_path / "a.yaml", "extends: b.yaml\ntitle: a\n")
    write(tmp_path / "b.yaml", "extends: a.yaml\ntitle: b\n")
    exc = load_error(tmp_path / "a.yaml")
    (p,) = exc.problems
    assert p.path == "extends"
    assert "cycle" in p.message and "a.yaml" in p.message and "b.yaml" in p.message
    status, _, err = run_check([str(tmp_path / "a.yaml")], tmp_path, monkeypatch, capsys)
    assert status == 2 and "cycle" in err


def test_extends_cycle_with_itself(tmp_path: Path) -> None:
    write(tmp_path / "self.yaml", "title: me\nextends: self.yaml\n")
    exc = load_error(tmp_path / "self.yaml")
    assert "cycle" in exc.problems[0].message


def test_extends_cycle_names_the_line_of_extends(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "title: a\nextends: b.yaml\n")
    write(tmp_path / "b.yaml", "title: b\nextends: a.yaml\n")
    exc = load_error(tmp_path / "a.yaml")
    (p,) = exc.problems
    assert p.file.endswith("b.yaml")
    assert p.line == 2


def test_extends_missing_base(tmp_path: Path, monkeypatch, capsys) -> None:
    path = write(tmp_path / "leaf.yaml", "title: leaf\nextends: nowhere.yaml\n")
    exc = load_error(path)
    (p,) = exc.problems
    assert p.path == "extends" and p.line == 2
    assert "nowhere.yaml" in p.message and "does not exist" in p.message
    status, _, err = run_check([str(path)], tmp_path, monkeypatch, capsys)
    assert status == 2 and "leaf.yaml:2:" in err and "nowhere.yaml" in err


def test_extends_not_a_file_name(tmp_path: Path) -> None:
    path = write(tmp_path / "leaf.yaml", "extends: [a.yaml, b.yaml]\n")
    (p,) = load_error(path).problems
    assert p.path == "extends" and p.line == 1 and "expected a file name" in p.message


def test_extends_merges_child_over_base(tmp_path: Path) -> None:
    base = load_scenario(BASELINE)
    assert base.hosts["DE"].entry.visa_approval.academic == pytest.approx(0.1)
    path = child(
        tmp_path,
        """
        hosts:
          DE:
            entry:
              visa_approval: {academic: 0.5}
        """,
    )
    sc = load_scenario(path)
    assert sc.hosts["DE"].entry.visa_approval.academic == 0.5
    # Everything else is inherited: the same dump with that one value changed.
    expected = base.model_dump()
    expected["hosts"]["DE"]["entry"]["visa_approval"]["academic"] = 0.5
    assert sc.model_dump() == expected
    assert sc.hosts["DE"].entry.visa_approval.it_specialist == pytest.approx(0.15)
    assert sc.hosts["DE"].entry.humanitarian_visa is True
    assert list(sc.hosts) == list(base.hosts)


def test_extends_chain_with_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    child(tmp_path / "sub", "title: middle\nrun: {seed: 5}\ndescription: from the middle\n", name="mid.yaml")
    leaf = write(tmp_path / "leaf.yaml", "extends: sub/mid.yaml\ntitle: leaf\n")
    sc = load_scenario(leaf)
    assert sc.title == "leaf"  # leaf over middle
    assert sc.description == "from the middle"  # middle over baseline
    assert sc.run.seed == 5 and sc.run.months == 60  # nested merge: seed from middle, months from baseline


def test_extends_replaces_lists(tmp_path: Path) -> None:
    path = child(
        tmp_path,
        f"""
        timeline: []
        population:
          waves:
            - {{name: only, start: 2022-03, end: 2022-04, size: 100, category_mix: {MIX}}}
        """,
    )
    sc = load_scenario(path)
    assert sc.timeline == []
    assert [w.name for w in sc.population.waves] == ["only"]
    assert set(sc.population.profiles) == set(CATEGORIES)  # sibling key inherited


# --------------------------------------------------------------------------------------------
# Per-category values
# --------------------------------------------------------------------------------------------


def test_per_category_scalar_and_mapping_with_default() -> None:
    sc = load_scenario(BASELINE)
    assert sc.hosts["GE"].economy.job_finding.values() == [0.05] * len(CATEGORIES)  # scalar
    de = sc.hosts["DE"].economy.job_finding  # {default: 0.02, it_specialist: 0.04}
    assert de.it_specialist == 0.04
    assert [getattr(de, c) for c in CATEGORIES if c != "it_specialist"] == [0.02] * 4


def test_child_mapping_over_base_scalar(tmp_path: Path) -> None:
    path = child(tmp_path, "hosts:\n  GE:\n    economy:\n      job_finding: {academic: 0.3}\n")
    jf = load_scenario(path).hosts["GE"].economy.job_finding
    assert jf.academic == 0.3
    assert [getattr(jf, c) for c in CATEGORIES if c != "academic"] == [0.05] * 4


def test_child_scalar_over_base_mapping(tmp_path: Path) -> None:
    path = child(tmp_path, "hosts:\n  DE:\n    economy:\n      job_finding: 0.1\n")
    assert load_scenario(path).hosts["DE"].economy.job_finding.values() == [0.1] * len(CATEGORIES)


# --------------------------------------------------------------------------------------------
# --set overrides
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["DE", "CZ"])
def test_set_humanitarian_visa(host: str) -> None:
    sc = load_scenario(BASELINE, [f"hosts.{host}.entry.humanitarian_visa=true"])
    assert sc.hosts[host].entry.humanitarian_visa is True
    if host == "CZ":
        assert load_scenario(BASELINE).hosts["CZ"].entry.humanitarian_visa is False


def test_set_one_category_of_a_scalar_per_category_field() -> None:
    sc = load_scenario(BASELINE, ["hosts.GE.economy.job_finding.academic=0.3"])
    jf = sc.hosts["GE"].economy.job_finding
    assert jf.academic == 0.3
    assert [getattr(jf, c) for c in CATEGORIES if c != "academic"] == [0.05] * 4


def test_set_one_category_of_a_mapping_per_category_field() -> None:
    sc = load_scenario(BASELINE, ["hosts.DE.economy.job_finding.academic=0.3"])
    jf = sc.hosts["DE"].economy.job_finding
    assert (jf.academic, jf.it_specialist, jf.draft_evader) == (0.3, 0.04, 0.02)


def test_set_list_item_and_yaml_values(tmp_path: Path) -> None:
    path = child(tmp_path, "title: kid\n")
    sc = load_scenario(path, ["population.waves.0.size=1000", "run.seed=7", "hosts.DE.groups=[eu, west]", "title=x=y"])
    assert sc.population.waves[0].size == 1000
    assert sc.run.seed == 7 and isinstance(sc.run.seed, int)
    assert sc.hosts["DE"].groups == ["eu", "west"]
    assert sc.title == "x=y"  # split at the first '='


def test_check_accepts_set(tmp_path: Path, monkeypatch, capsys) -> None:
    status, out, _ = run_check(
        [str(BASELINE), "--set", "hosts.DE.entry.humanitarian_visa=true"], tmp_path, monkeypatch, capsys
    )
    assert status == 0 and "ok" in out


BAD_SETS = [
    ("noequals", "--set", ("PATH=VALUE", "'noequals'")),
    ("=3", "--set", ("empty path",)),
    ("population.waves.9.size=3", "population.waves.9.size", ("no list item", "'9'")),
    ("population.waves.x.size=3", "population.waves.x.size", ("no list item", "'x'")),
    ("title.x=1", "title.x", ("title is a value",)),
    ("hosts.DE.entry.visa_fre=true", "hosts.DE.entry.visa_fre", ("unknown field",)),
    ("hosts.DE.entry.visa_free=maybe", "hosts.DE.entry.visa_free", ("valid boolean", "'maybe'")),
    ("run.months=abc", "run.months", ("valid integer", "'abc'")),
    ("hosts.GE.economy.job_finding.academic=2", "hosts.GE.economy.job_finding.academic", ("less than or equal to 1",
                                                                                         "2")),
    ("hosts.XX.entry.visa_free=true", "hosts.XX.name", ("required",)),
]


@pytest.mark.parametrize(("assignment", "path", "fragments"), BAD_SETS, ids=[b[0] for b in BAD_SETS])
def test_bad_set(assignment: str, path: str, fragments: tuple[str, ...], tmp_path, monkeypatch, capsys) -> None:
    status, out, err = run_check([str(BASELINE), "--set", assignment], tmp_path, monkeypatch, capsys)
    assert status == 2 and out == ""
    line = reported_line(err, path) if path != "--set" else err
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"


def test_bad_set_raises_scenario_error() -> None:
    p = problem_at(load_error(BASELINE, ("population.waves.9.size=3",)), "population.waves.9.size")
    assert p.file == "--set" and "no list item" in p.message


@pytest.mark.parametrize(
    "assignment",
    ["run.months=abc", "hosts.DE.entry.visa_fre=true", "hosts.GE.economy.job_finding.academic=2"],
)
def test_bad_set_value_is_attributed_to_set(assignment: str) -> None:
    exc = load_error(BASELINE, (assignment,))
    for p in exc.problems:
        assert "--set" in str(p), str(p)


# --------------------------------------------------------------------------------------------
# YAML safety
# --------------------------------------------------------------------------------------------


PWN_TAGS = [
    '!!python/object/apply:os.system ["touch {marker}"]',
    '!!python/object/apply:subprocess.call [["touch", "{marker}"]]',
    '!!python/object/new:subprocess.Popen [["touch", "{marker}"]]',
    "!!python/name:os.system",
]


@pytest.mark.parametrize("tag", PWN_TAGS, ids=["os.system", "subprocess.call", "Popen", "name"])
@pytest.mark.parametrize("where", ["top_level", "nested_value"])
def test_python_tags_are_rejected_and_execute_nothing(tag: str, where: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    value = tag.format(marker=marker)
    if where == "top_level":
        path = write(tmp_path / "evil.yaml", value + "\n")
    else:
        path = child(tmp_path, f"title: {value}  {MARK}\n", name="evil.yaml")
    exc = load_error(path)
    assert not marker.exists(), "loading a scenario executed code"
    p = exc.problems[0]
    assert Path(p.file).resolve() == path.resolve()
    assert p.line == (1 if where == "top_level" else marked_line(path))


def test_python_tag_in_set_value_executes_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    try:
        sc = load_scenario(BASELINE, [f'title=!!python/object/apply:os.system ["touch {marker}"]'])
    except InputError:
        pass
    else:
        assert isinstance(sc.title, str)
    assert not marker.exists()


# --------------------------------------------------------------------------------------------
# End to end: `python -m diaspora_sim check` in a subprocess
# --------------------------------------------------------------------------------------------


def test_check_subprocess_reports_each_bad_file_and_exits_2(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    typo = child(tmp_path, f"hosts:\n  DE:\n    entry:\n      visa_fre: true  {MARK}\n", name="typo.yaml")
    broken = write(tmp_path / "broken.yaml", "title: t\nrun: {months: 3\ntitle: x\n")
    evil = child(tmp_path, f'title: !!python/object/apply:os.system ["touch {marker}"]\n', name="evil.yaml")
    before = files_under(tmp_path)
    proc = run_module("check", str(typo), str(BASELINE), str(broken), str(evil), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout.startswith(f"{BASELINE}: ok (")  # good files are still checked and reported
    assert f"{typo}:{marked_line(typo)}: hosts.DE.entry.visa_fre: unknown field" in proc.stderr
    assert f"{broken}:3: (top level): malformed YAML" in proc.stderr
    assert f"{evil}:2: (top level): malformed YAML" in proc.stderr and "python/object/apply" in proc.stderr
    assert not marker.exists(), "checking a scenario executed code"
    assert files_under(tmp_path) == before, "check must not write files"


# --------------------------------------------------------------------------------------------
# Known gaps (bugs): these should be errors but are not
# --------------------------------------------------------------------------------------------


def test_unknown_key_message_says_what_was_expected(tmp_path: Path) -> None:
    path = child(tmp_path, "hosts:\n  DE:\n    entry:\n      visa_fre: true\n")
    p = problem_at(load_error(path), "hosts.DE.entry.visa_fre")
    assert "visa_free" in p.message


@pytest.mark.xfail(
    strict=True,
    reason="duplicate keys are rejected with their line, but the message does not name the field path "
    "(the YAML constructor does not know it)",
)
def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    path = child(tmp_path, "hosts:\n  DE:\n    entry:\n      visa_free: true\n      visa_free: false\n")
    problem_at(load_error(path), "hosts.DE.entry.visa_free")


def test_infinite_wave_size_is_an_error(tmp_path: Path) -> None:
    path = child(
        tmp_path,
        f"""
        population:
          waves:
            - {{name: w, start: 2022-03, end: 2022-04, size: .inf, category_mix: {MIX}}}
        """,
    )
    problem_at(load_error(path), "population.waves.0.size")
