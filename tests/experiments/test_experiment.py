"""Experiment files: validation before anything runs, designs, run ids and common seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from diaspora_sim.cli import main
from diaspora_sim.core.errors import InputError
from diaspora_sim.experiments.designs import design_points
from diaspora_sim.experiments.plan import make_plan
from diaspora_sim.experiments.spec import Experiment, load_experiment
from diaspora_sim.scenario.loading import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "baseline_2022.yaml"
# The policy scenarios; a calibrated baseline (`*_calibrated.yaml`, docs/validation.md) is another
# parameterization of the reference, not a policy to compare with it.
SHIPPED_SCENARIOS = sorted(p for p in SCENARIOS.glob("*.yaml") if not p.stem.endswith("_calibrated"))


def write(tmp_path: Path, text: str, name: str = "exp.yaml") -> Path:
    path = tmp_path / name
    restrictive = json.dumps(str(SCENARIOS / "restrictive_eu.yaml"))
    path.write_text(text.replace("BASE", json.dumps(str(BASELINE))).replace("RESTR", restrictive))
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        make_plan(load_experiment(path), path)
    return [str(p) for p in info.value.problems]


# --------------------------------------------------------------------------------------------
# Shipped experiments
# --------------------------------------------------------------------------------------------


def test_eu_policy_compare_runs_every_shipped_scenario_30_times() -> None:
    path = ROOT / "experiments" / "eu_policy_compare.yaml"
    plan = make_plan(load_experiment(path), path)
    files = {Path(s.file).resolve() for s in plan.scenarios.values()}
    assert files == {p.resolve() for p in SHIPPED_SCENARIOS}
    assert next(iter(plan.scenarios)) == "baseline_2022"  # the reference comes first
    assert plan.experiment.replications == 30
    assert len(plan.tasks) == len(SHIPPED_SCENARIOS) * 30
    assert len({t.run_id for t in plan.tasks}) == len(plan.tasks)
    kept = plan.tasks[0].outputs
    assert {"return_rate", "integration_rate"} <= set(kept.metrics) and "ALL" in kept.hosts


def test_eu_openness_sweep_varies_eu_visa_approval_and_renewal() -> None:
    path = ROOT / "experiments" / "eu_openness_sweep.yaml"
    plan = make_plan(load_experiment(path), path)
    assert set(plan.param_types) == {"eu_visa_approval", "eu_renewal_probability"}
    values = {name: sorted({p[name] for p in plan.points}) for name in plan.param_types}
    assert len(plan.points) == len(values["eu_visa_approval"]) * len(values["eu_renewal_probability"])
    assert len(plan.tasks) == len(plan.points) * plan.experiment.replications
    assert not plan.warnings  # both paths hold for the whole run in the baseline
    # the visa value goes to the EU event's setting; the renewal value to every EU host
    task = next(t for t in plan.tasks if t.values == {"eu_visa_approval": 0.4, "eu_renewal_probability": 0.3})
    paths = dict(task.assignments)
    assert paths["timeline.2.set.entry.visa_approval"] == 0.4
    eu = [c for c, h in load_scenario(BASELINE).hosts.items() if "eu" in h.groups]
    assert {f"hosts.{c}.stay.renewal_probability" for c in eu} <= set(paths)


# --------------------------------------------------------------------------------------------
# Run ids and seeds
# --------------------------------------------------------------------------------------------

SMALL = """
scenarios: [BASE, RESTR]
parameters:
  - name: de_renewal
    path: hosts.DE.stay.renewal_probability
    values: [0.5, 0.9]
replications: REPS
seed: SEED
months: 14
scale: 2000
"""


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict:
    """The small experiment with (replications, seed) = (3, 0) twice, (5, 0) and (3, 40)."""
    folder = tmp_path_factory.mktemp("plans")
    out = {}
    for key in ((3, 0), "again", (5, 0), (3, 40)):
        reps, seed = (3, 0) if key == "again" else key
        path = write(folder, SMALL.replace("REPS", str(reps)).replace("SEED", str(seed)), f"small{reps}-{seed}.yaml")
        out[key] = make_plan(load_experiment(path), path)
    return out


def ids(plan) -> set[str]:
    return {t.run_id for t in plan.tasks}


def test_run_ids_are_deterministic_and_unique(plans) -> None:
    a, b = plans[3, 0], plans["again"]
    assert [t.run_id for t in a.tasks] == [t.run_id for t in b.tasks]
    assert len(ids(a)) == len(a.tasks) == 2 * 2 * 3


def test_replicate_r_has_seed_base_plus_r_in_every_scenario_and_point(plans) -> None:
    plan = plans[3, 40]
    assert {(t.replicate, t.seed) for t in plan.tasks} == {(0, 40), (1, 41), (2, 42)}
    assert {(t.scenario, t.point) for t in plan.tasks if t.replicate == 1} == {
        (s, k) for s in ("baseline_2022", "restrictive_eu") for k in (0, 1)}


def test_more_replications_keep_the_ids_of_the_first(plans) -> None:
    assert ids(plans[3, 0]) < ids(plans[5, 0])
    assert not ids(plans[3, 0]) & ids(plans[3, 40])  # the seed is part of the id


def test_run_id_changes_with_the_scenario_content(plans, tmp_path: Path) -> None:
    plan = plans[3, 0]
    changed = write(tmp_path, SMALL.replace("REPS", "3").replace("SEED", "0").replace(
        "scenarios: [BASE, RESTR]", "scenarios: [{file: BASE, set: [russia.wage_usd=999]}, RESTR]"), "changed.yaml")
    other = make_plan(load_experiment(changed), changed)
    ids = {(t.scenario, t.point, t.replicate): t.run_id for t in plan.tasks}
    for t in other.tasks:
        same = ids[t.scenario, t.point, t.replicate] == t.run_id
        assert same == (t.scenario == "restrictive_eu")


# --------------------------------------------------------------------------------------------
# Designs
# --------------------------------------------------------------------------------------------


def ranged(method: str, samples: int, **design) -> Experiment:
    return Experiment.model_validate({
        "scenarios": [str(BASELINE)],
        "parameters": [{"name": "a", "paths": ["hosts.DE.stay.renewal_probability"], "range": [0.2, 0.9]},
                       {"name": "m", "paths": ["hosts.DE.entry.visa_months"], "range": [2, 12], "integer": True}],
        "design": {"method": method, "samples": samples, **design},
    })


@pytest.mark.parametrize(("method", "samples", "points"), [("lhs", 7, 7), ("sobol", 8, 8 * (2 + 2)), ("morris", 3, 3 * 3)])
def test_sampled_designs(method: str, samples: int, points: int) -> None:
    exp = ranged(method, samples)
    pts, matrix = design_points(exp)
    assert len(pts) == points == len(matrix)
    assert all(0.2 <= p["a"] <= 0.9 and isinstance(p["m"], int) and 2 <= p["m"] <= 12 for p in pts)
    assert design_points(exp)[0] == pts  # the sampler is seeded
    assert design_points(ranged(method, samples, seed=99))[0] != pts


def test_explicit_points_replace_the_design_with_the_same_run_ids() -> None:
    sampled = make_plan(ranged("lhs", 3))
    given = make_plan(ranged("lhs", 3), points=[dict(p) for p in reversed(sampled.points)])
    assert given.points == sampled.points[::-1]
    assert {t.run_id for t in given.tasks} == {t.run_id for t in sampled.tasks}  # one run-id scheme
    # no design needed (no samples), integers rounded, values checked against the range
    exp = ranged("lhs", 1).model_copy(update={"design": ranged("lhs", 1).design.model_copy(update={"samples": None})})
    assert make_plan(exp, points=[{"a": 0.5, "m": 3.4}]).points == [{"a": 0.5, "m": 3}]
    with pytest.raises(InputError) as info:
        make_plan(exp, points=[{"a": 1.5, "m": 3}, {"a": 0.5}, {"a": 0.5, "m": 3}, {"a": 0.5, "m": 3}])
    text = "\n".join(map(str, info.value.problems))
    assert "points.0.a" in text and "missing: m" in text


def test_sobol_second_order_points() -> None:
    assert len(design_points(ranged("sobol", 4, second_order=True))[0]) == 4 * (2 * 2 + 2)


def test_lhs_strata_cover_the_range() -> None:
    pts, _ = design_points(ranged("lhs", 10))
    strata = sorted(int((p["a"] - 0.2) / 0.07) for p in pts)
    assert strata == list(range(10))  # one point per tenth of the range


def test_grid_is_the_cartesian_product() -> None:
    exp = Experiment.model_validate({"scenarios": [str(BASELINE)], "parameters": [
        {"name": "a", "paths": ["x.y"], "values": [1, 2, 3]}, {"name": "b", "paths": ["x.z"], "values": [True, False]}]})
    points, matrix = design_points(exp)
    assert matrix is None
    assert points == [{"a": a, "b": b} for a in (1, 2, 3) for b in (True, False)]


# --------------------------------------------------------------------------------------------
# Errors, before anything runs
# --------------------------------------------------------------------------------------------


def test_wrong_path_is_reported_like_a_wrong_set(tmp_path: Path) -> None:
    path = write(tmp_path, """
scenarios: [BASE]
parameters:
  - name: de_visa
    paths: [hosts.DE.entry.visa_aproval]
    values: [0.1, 0.2]
""")
    with pytest.raises(InputError) as info:
        load_scenario(BASELINE, ["hosts.DE.entry.visa_aproval=0.1"])
    set_message = info.value.problems[0].message
    assert "did you mean 'visa_approval'" in set_message
    [line] = problems(path)
    assert line.startswith(f"{path}:5: parameters.0.paths.0:")
    assert f"hosts.DE.entry.visa_aproval: {set_message}" in line


@pytest.mark.parametrize(("body", "where", "needle"), [
    ("parameters: [{name: x, path: hosts.@europe.entry.visa_approval, values: [0.1]}]", ":4: parameters.0.paths.0",
     "no host is in group 'europe'"),
    ("parameters: [{name: x, path: hosts.XX.entry.visa_approval, values: [0.1]}]", ":4: parameters.0.paths.0",
     "unknown host 'XX'"),
    ("parameters: [{name: x, path: timeline.1.set.entry.visa_approval, values: [0.1]}]", ":4: parameters.0.paths.0",
     "Events that set 'entry.visa_approval': timeline.2"),
    ("parameters: [{name: x, path: timeline.99.set.entry.visa_approval, values: [0.1]}]", ":4: parameters.0.paths.0",
     "no such event"),
    ("parameters: [{name: x, path: hosts.DE.stay.renewal_probability, values: [0.5, 1.5]}]", ":4: parameters.0.paths.0",
     "less than or equal to 1"),
    ("parameters: [{name: x, path: hosts.@eu.entry.visa_months, range: [3, 12]}]\ndesign: {method: lhs, samples: 4}",
     ":4: parameters.0.paths.0", "set `integer: true`"),
    ("outputs: {metrics: [return_rate, retrun_rate]}", ":4: outputs.metrics.1", "did you mean 'return_rate'"),
    ("outputs: {hosts: [ALL, ZZ]}", ":4: outputs.hosts.1", "unknown host 'ZZ'"),
], ids=["group", "host", "event_key", "event_index", "out_of_bounds", "integer_field", "metric", "output_host"])
def test_path_and_value_errors(tmp_path: Path, body: str, where: str, needle: str) -> None:
    path = write(tmp_path, f"scenarios:\n  - BASE\n\n{body}\n")
    found = problems(path)
    assert any(where in p and needle in p for p in found), found


@pytest.mark.parametrize(("body", "where", "needle"), [
    ("parameters: [{name: x, path: a.b, range: [0.5, 0.1]}]", "parameters.0.range", "low < high"),
    ("parameters: [{name: x, path: a.b, values: [1], valuez: 3}]", "parameters.0.valuez", "did you mean 'values'"),
    ("replications: 0", "replications", "greater than or equal to 1"),
    ("parameters: [{name: x, path: a.b, values: [1]}]\ndesign: {method: lhs, samples: 3}", "parameters.0.values",
     "need design grid"),
    ("parameters: [{name: x, path: a.b, range: [0, 1]}]", "parameters.0.range", "needs design lhs, sobol or morris"),
    ("parameters: [{name: x, path: a.b, range: [0, 1]}]\ndesign: {method: sobol, samples: 100}", "design.samples",
     "use 64 or 128"),
    ("parameters: [{name: x, path: a.b, range: [0, 1]}]\ndesign: {method: lhs}", "design", "needs `samples`"),
    ("parameters: [{name: x, path: a.b, values: [1]}, {name: x, path: c.d, values: [2]}]", "parameters.1.name",
     "used twice"),
    ("parameters: [{name: Bad-Name, path: a.b, values: [1]}]", "parameters.0.name", "should match pattern"),
    ("scale: .inf", "scale", "finite number"),
    ("seed: 9223372036854775808", "seed", "less than or equal to 9223372036854775807"),
    ("seed: 9223372036854775800\nreplications: 10", "", "must fit a 64-bit integer"),
], ids=["range_order", "unknown_key", "replications", "values_for_sampler", "range_for_grid", "sobol_power_of_2",
        "samples_missing", "duplicate_name", "name_pattern", "scale_inf", "seed_int64", "seeds_int64"])
def test_schema_errors_name_file_line_and_field(tmp_path: Path, body: str, where: str, needle: str) -> None:
    path = write(tmp_path, f"scenarios:\n  - BASE\n\n{body}\n")
    with pytest.raises(InputError) as info:
        load_experiment(path)
    text = str(info.value)
    assert text.startswith("invalid experiment")
    assert any(p.file == str(path) and p.line and p.path == where and needle in p.message for p in info.value.problems), text


def test_scenario_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "scenarios:\n  - BASE\n  - nowhere.yaml\n  - {file: BASE}\n")
    found = problems(path)
    assert any(":3: scenarios.1.file" in p and "does not exist" in p for p in found)
    assert any(":4: scenarios.2" in p and "two scenarios are named 'baseline_2022'" in p for p in found)


def test_warns_when_an_event_overwrites_a_swept_value(tmp_path: Path) -> None:
    path = write(tmp_path, "scenarios: [BASE]\nparameters: [{name: v, path: hosts.@eu.entry.visa_approval, values: [0.1]}]\n")
    plan = make_plan(load_experiment(path), path)
    assert any("timeline.2 ('EU suspends visa facilitation with Russia'" in w for w in plan.warnings)


def test_cli_sweep_bad_experiment_exits_2_and_writes_nothing(tmp_path: Path, monkeypatch, capsys) -> None:
    path = write(tmp_path, "scenarios: [BASE]\nparameters: [{name: v, path: hosts.DE.entry.visa_aproval, values: [0.1]}]\n")
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", str(path), "--out", "out"]) == 2
    err = capsys.readouterr().err
    assert "invalid experiment" in err and "visa_aproval" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "results").exists()


def test_cli_sweep_dry_run(capsys) -> None:
    assert main(["sweep", str(ROOT / "experiments" / "eu_openness_sweep.yaml"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "1 scenarios x 30 points x 10 replications = 300 runs" in out


def test_every_experiment_key_is_documented_and_described() -> None:
    from diaspora_sim.experiments.spec import Design, Outputs, Parameter, ScenarioRef

    docs = (ROOT / "docs" / "experiments.md").read_text()
    for model in (Experiment, ScenarioRef, Parameter, Design, Outputs):
        for name, info in model.model_fields.items():
            assert (info.description or "").strip(), f"{model.__name__}.{name} has no description"
            assert f"| `{name}` |" in docs or f"| `{name}` (or" in docs, f"{model.__name__}.{name} is not in docs/experiments.md"
