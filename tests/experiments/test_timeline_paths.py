"""Timeline overrides by index and by name: one resolver for `--set`, experiment `set:` and parameters."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from diaspora_sim.cli import main
from diaspora_sim.core.errors import InputError
from diaspora_sim.experiments.plan import make_plan
from diaspora_sim.experiments.spec import Experiment
from diaspora_sim.scenario.loading import load_scenario
from diaspora_sim.scenario.paths import resolve_event

KEY = "pressure.security_cooperation"
ARRESTS = "Kazakh arrests of exiles at Russia's request"


def _event(sc, name: str = ARRESTS):
    return next(e for e in sc.timeline if e.name == name)


@pytest.mark.parametrize("path", [f"timeline.11.set.{KEY}", f"timeline[{ARRESTS}].set.{KEY}",
                                  f"timeline[kazakh arrests].set.{KEY}"])
def test_set_timeline_by_index_and_by_name(scenarios: Path, path: str) -> None:
    sc = load_scenario(scenarios / "baseline_2022.yaml", [f"{path}=0.01"])
    assert _event(sc).set[KEY] == 0.01
    assert _event(load_scenario(scenarios / "baseline_2022.yaml")).set[KEY] != 0.01


def test_ambiguous_or_unknown_names_and_unknown_keys_are_refused(scenarios: Path) -> None:
    with pytest.raises(InputError, match=r"timeline\[kazakh\] is ambiguous: it names events 8: .*, 11: "):
        load_scenario(scenarios / "baseline_2022.yaml", [f"timeline[kazakh].set.{KEY}=0.01"])
    with pytest.raises(InputError, match="no event has that name"):
        load_scenario(scenarios / "baseline_2022.yaml", ["timeline[nope].set.x=1"])
    with pytest.raises(InputError, match=f"does not set 'nope'; it sets {KEY}"):
        load_scenario(scenarios / "baseline_2022.yaml", ["timeline.11.set.nope=1"])
    with pytest.raises(KeyError, match="no such event"):
        resolve_event([{"name": "a"}], "3")
    events = [{"name": "same", "date": "2023-01"}, {"name": "same", "date": "2024-01"}]
    with pytest.raises(KeyError, match="ambiguous"):
        resolve_event(events, "same")


def test_cli_run_and_check_accept_timeline_overrides(scenarios: Path, tmp_path: Path) -> None:
    base = str(scenarios / "baseline_2022.yaml")
    assert main(["check", base, "--set", f"timeline.11.set.{KEY}=0.01"]) == 0
    assert main(["check", base, "--set", f"timeline[{ARRESTS}].set.{KEY}=0.01"]) == 0
    assert main(["run", base, "--months", "3", "--scale", "20000", "--no-figures", "--quiet", "--out",
                 str(tmp_path / "r"), "--set", f"timeline[kazakh arrests].set.{KEY}=0.01"]) == 0


def _exp(scenarios: Path, path: str, set_: list[str] | None = None, names=("baseline_2022",)) -> Experiment:
    return Experiment.model_validate({
        "scenarios": [{"file": str(scenarios / f"{n}.yaml"), "set": set_ or []} for n in names],
        "parameters": [{"name": "coop", "paths": [path], "values": [0.001, 0.01]}], "replications": 1,
    })


def test_experiment_parameters_by_name_and_index_are_the_same_runs(scenarios: Path) -> None:
    by_index = make_plan(_exp(scenarios, f"timeline.11.set.{KEY}"))
    by_name = make_plan(_exp(scenarios, f"timeline[{ARRESTS}].set.{KEY}"))
    assert [t.run_id for t in by_index.tasks] == [t.run_id for t in by_name.tasks]
    assert by_name.tasks[0].assignments == ((f"timeline.11.set.{KEY}", 0.001),)
    with_set = make_plan(_exp(scenarios, "russia.wage_usd", [f"timeline[kazakh arrests].set.{KEY}=0.02"]))
    assert "0.02" in with_set.scenarios["baseline_2022"].yaml


def test_an_index_that_names_different_events_is_refused(scenarios: Path, tmp_path: Path) -> None:
    data = yaml.safe_load((scenarios / "baseline_2022.yaml").read_text())
    data["timeline"].insert(0, {"date": "2022-03", "name": "An inserted event", "hosts": ["DE"],
                                "set": {"entry.visa_approval": 0.5}})
    shifted = tmp_path / "shifted.yaml"  # one more event before the others: every index moves by one
    shifted.write_text(yaml.safe_dump(data, sort_keys=False))
    exp = Experiment.model_validate({
        "scenarios": [str(scenarios / "baseline_2022.yaml"), str(shifted)],
        "parameters": [{"name": "coop", "paths": [f"timeline.11.set.{KEY}"], "values": [0.01]}], "replications": 1})
    with pytest.raises(InputError, match="addresses different events"):
        make_plan(exp)
    by_name = exp.model_copy(update={"parameters": [exp.parameters[0].model_copy(
        update={"paths": [f"timeline[{ARRESTS}].set.{KEY}"]})]})
    plan = make_plan(by_name)
    assert {t.assignments for t in plan.tasks} == {((f"timeline.11.set.{KEY}", 0.01),), ((f"timeline.12.set.{KEY}", 0.01),)}
