"""The plan of a validation: which targets a scenario can be compared with, the months to
simulate, and the replicated runs through the experiments runner.

A scenario runs `reps` times (``experiments.plan.make_plan`` and ``experiments.sweep.run_sweep``:
replicate r uses seed ``seed + r``); only the outputs the targets and the naive baselines read
are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from ..core.errors import InputError, Problem, input_error
from ..experiments.plan import Experiment, Plan, make_plan
from ..scenario.loading import load_scenario
from ..scenario.schema import Scenario, month_name, month_number
from .targets import Target, TargetsFile, check_targets, last_month, load_targets, metrics_of, quantities

SETTINGS = "validation settings"


@dataclass
class ValidationPlan:
    """A validation ready to run: the scenario, the targets it is compared with, notes on the
    targets left out, and the plan of the replicated runs.
    """

    scenario_file: Path
    targets: list[Target]
    notes: list[str]
    plan: Plan


def usable_targets(tf: TargetsFile, scenario: Scenario, months: int) -> tuple[list[Target], list[str]]:
    """Mapped targets whose mapping fits the scenario and the simulated months; and notes on the others."""
    problems = check_targets(tf, scenario)
    bad = {p.split(":")[0] for p in problems}
    notes = [f"left out: {p}" for p in problems]
    last = month_number(scenario.run.start) + months - 1
    keep = []
    for t in tf.mapped():
        if t.id in bad:
            continue
        late = [m for q in quantities(t) for m in q.months() if month_number(m) > last]
        if late:
            notes.append(f"left out: {t.id}: month {max(late)} is after the last simulated month {month_name(last)}")
            continue
        keep.append(t)
    return keep, notes


def months_to_simulate(targets: list[Target], start: str) -> int:
    """The months from `start` up to the last month the targets read (at least 1)."""
    return max(1, month_number(last_month(targets)) - month_number(start) + 1)


def default_months(tf: TargetsFile, scenario: Scenario) -> int:
    """The months a validation simulates by default: up to the last month a target that fits the
    scenario reads (the scenario's own months when none fits).
    """
    bad = {p.split(":")[0] for p in check_targets(tf, scenario)}
    fitting = [t for t in tf.mapped() if t.id not in bad]
    return months_to_simulate(fitting, scenario.run.start) if fitting else scenario.run.months


def output_selection(targets: list[Target]) -> dict[str, list[str]]:
    """Outputs a run must keep for the targets and the naive baselines (experiment `outputs`)."""
    metrics = metrics_of(targets) | {"stock"}
    hosts = {"ALL"}
    categories = {"ALL"}
    for t in targets:
        for q in quantities(t):
            hosts.update(q.hosts())
            categories.add(q.category)
    return {"metrics": sorted(metrics), "hosts": sorted(hosts), "categories": sorted(categories)}


def replications_plan(scenario_file: str | Path, targets: list[Target], *, reps: int, seed: int,
                      scale: float | None, months: int, name: str = "validate") -> Plan:
    """The experiments-runner plan of the replicated runs; InputError (field paths replications,
    seed, scale, months) when a setting is out of range.
    """
    try:
        exp = Experiment(
            title=f"Validation of {Path(scenario_file).name} against data/targets.yaml",
            description="Replications of one scenario; outputs limited to what the targets read.",
            scenarios=[{"file": str(Path(scenario_file).resolve())}],
            replications=reps, seed=seed, scale=scale, months=months,
            outputs=output_selection(targets),
        )
    except ValidationError as exc:
        raise InputError([Problem(str(e["loc"][0]), f"{e['msg']} (found {e.get('input')!r})")
                          for e in exc.errors(include_url=False)], SETTINGS) from None
    return make_plan(exp, name=name)


def plan_validation(targets_file: str | Path, scenario_file: str | Path, *, reps: int, seed: int,
                    scale: float | None = None, months: int | None = None, tolerance: float = 0.25) -> ValidationPlan:
    """Check the settings, load the targets and the scenario, choose the months (default: up to the
    last month a fitting target reads) and the targets that fit, and plan the runs. Bad input
    raises InputError (field paths reps, tolerance, replications, seed, scale, months).
    """
    if reps < 2:
        raise input_error(f"must be at least 2 (a confidence interval needs two replications), found {reps}",
                          what=SETTINGS, path="reps")
    if not 0 < tolerance < 10:
        raise input_error(f"a relative difference such as 0.25, found {tolerance}", what=SETTINGS, path="tolerance")
    tf = load_targets(targets_file)
    scenario_file = Path(scenario_file)
    sc = load_scenario(scenario_file)
    months = default_months(tf, sc) if months is None else months
    targets, notes = usable_targets(tf, sc, months)
    if not targets:
        raise input_error("\n  ".join([f"no mapped target of {targets_file} fits {scenario_file}:", *notes]),
                          what=SETTINGS)
    plan = replications_plan(scenario_file, targets, reps=reps, seed=seed, scale=scale, months=months,
                             name=f"validate-{scenario_file.stem}")
    return ValidationPlan(scenario_file, targets, notes, plan)


__all__ = ["ValidationPlan", "default_months", "months_to_simulate", "output_selection", "plan_validation",
           "replications_plan", "usable_targets"]
