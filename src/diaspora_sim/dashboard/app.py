"""The dashboard page: Mesa's SolaraViz with the scenario, lever and run controls beside it.

Run with ``python -m diaspora_sim dashboard`` (which serves :func:`Page` with Solara). The
sidebar holds the scenario picker, the levers (by host group, as the scenario groups its hosts,
and for Russia), the run settings with a progress bar, and the export buttons; SolaraViz's
pages hold the panels. Simulations run in worker processes (:mod:`.runner`), so the page stays
responsive; a change of lever after a run starts a fresh comparison.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from typing import Any

import solara
import solara.lab
from mesa.visualization import SolaraViz

from . import engine, levers, stats
from .panels import PANELS, ExportPanel
from .runner import Comparison, Request, shared
from .store import (
    auto_rerun,
    changes,
    comparison,
    group,
    load_error,
    months,
    reps,
    scale,
    scenario_path,
    seed,
)


def current_request() -> Request:
    """The request the controls describe."""
    info = scenario_info(scenario_path.value)
    return Request(
        path=scenario_path.value,
        overrides=tuple(levers.overrides(changes.value, info.groups)),
        reps=int(reps.value), seed=int(seed.value),
        scale=float(scale.value) or None, months=int(months.value) or None,
    )


_INFO: dict[str, engine.ScenarioInfo] = {}
threading.Thread(target=shared().pool, daemon=True).start()  # spawn and warm the workers at server start


def scenario_info(path: str) -> engine.ScenarioInfo:
    """The scenario's hosts, groups and the baseline value of every lever's field (cached)."""
    if path not in _INFO:
        first = engine.scenario_info(path)
        paths = [p for g in [*first.groups, levers.RUSSIA] for p in levers.field_paths(g, first.groups)]
        _INFO[path] = engine.scenario_info(path, sorted(set(paths)))
    return _INFO[path]


@solara.lab.task(prefer_threaded=True)
def run_comparison(req: Request) -> Comparison:
    """Run both arms in the worker pool, publishing each finished replicate pair."""

    def publish(c: Comparison) -> None:
        if run_comparison.is_current():
            comparison.set(dataclasses.replace(c, runs=dict(c.runs)))
            run_comparison.progress = 100.0 * c.done / max(c.total, 1)

    return shared().compare(req, publish, cancelled=lambda: not run_comparison.is_current())


def start_run() -> None:
    """Run button: start a fresh comparison (later lever changes restart it)."""
    comparison.set(None)
    auto_rerun.set(True)
    run_comparison(current_request())


def set_lever(grp: str, key: str, value: Any, start: Any) -> None:
    """Record a lever change (back to the starting value: no override) and rerun if asked."""
    new = dict(changes.value)
    step = next((lv.step for lv in levers.levers_of(grp) if lv.key == key), 0.0)
    same = value == start if isinstance(value, bool) else abs(float(value) - float(start)) < step / 2 + 1e-12
    if same:
        new.pop((grp, key), None)
    else:
        new[(grp, key)] = value
    changes.set(new)
    if auto_rerun.value:
        start_run()


# ------------------------------------------------------------------------------------------
# Sidebar
# ------------------------------------------------------------------------------------------


@solara.component
def ScenarioPicker() -> None:
    """Shipped scenarios, or a user's file (whose errors are shown as `check` prints them)."""
    shipped = {k: str(v) for k, v in engine.shipped_scenarios().items()}
    typed, set_typed = solara.use_state("")

    def pick(name: str) -> None:
        load_error.set("")
        _switch(shipped[name])

    def load_file() -> None:
        msg = engine.error_text(typed)
        load_error.set(msg or "")
        if not msg:
            _switch(os.path.abspath(typed))

    current = next((k for k, v in shipped.items() if v == scenario_path.value), None)
    solara.Select("Scenario", values=list(shipped), value=current, on_value=pick)
    solara.InputText("Or a scenario file (path)", value=typed, on_value=set_typed, continuous_update=True)
    solara.Button("Load file", on_click=load_file, outlined=True, classes=["load-file"])
    if load_error.value:
        solara.HTML(tag="pre", unsafe_innerHTML=_escape(load_error.value),
                    style="color:#b00020;white-space:pre-wrap;font-size:12px", classes=["scenario-error"])
    solara.Text(f"Active: {scenario_info(scenario_path.value).title or scenario_path.value}")


def _switch(path: str) -> None:
    scenario_path.set(path)
    changes.set({})
    comparison.set(None)
    auto_rerun.set(False)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@solara.component
def LeverControl(grp: str, lever: levers.Lever, info: engine.ScenarioInfo) -> None:
    """One lever: a switch or slider starting at the baseline, with the schema's description,
    unit and the baseline value of each host of the group.
    """
    field = engine.field_info(lever.key)
    if grp == levers.RUSSIA:
        values = {"RU": info.values[lever.key]}
        notes = info.events.get(lever.key, [])
    else:
        values = {h: info.values[f"hosts.{h}.{lever.key}"] for h in info.groups[grp]}
        notes = sorted({n for h in info.groups[grp] for n in info.events.get(f"hosts.{h}.{lever.key}", [])})
    start = levers.baseline(list(values.values()), field.kind)
    if field.kind not in ("bool", "int"):
        start = round(round(float(start) / lever.step) * lever.step, 6)  # on the slider's grid
    value = changes.value.get((grp, lever.key), start)
    label = f"{lever.label} [{field.unit}]"
    with solara.Column(gap="0px", classes=["lever"]):
        if field.kind == "bool":
            solara.Switch(label=label, value=bool(value), on_value=lambda v: set_lever(grp, lever.key, v, start))
        elif field.kind == "int":
            solara.SliderInt(label, value=int(value), min=0, max=int(lever.maximum), step=int(lever.step),
                             on_value=lambda v: set_lever(grp, lever.key, v, start), thumb_label=True)
        else:
            solara.SliderFloat(label, value=float(value), min=0.0, max=lever.maximum, step=lever.step,
                               on_value=lambda v: set_lever(grp, lever.key, v, start), thumb_label=True)
        changed = " (changed)" if (grp, lever.key) in changes.value else ""
        solara.Markdown(f"<small>{field.description} Baseline: {levers.describe_baseline(values)}{changed}."
                        + (f" The timeline changes it later ({'; '.join(notes)})." if notes else "") + "</small>")


@solara.component
def LeverPanel() -> None:
    """The levers of one host group (picked) and of Russia."""
    info = scenario_info(scenario_path.value)
    groups = levers.ordered_groups(info.groups)
    grp = group.value if group.value in groups else groups[0]
    solara.Select("Host group", values=groups, value=grp, on_value=group.set)
    solara.Text(f"{grp}: {', '.join(info.groups[grp])}")
    for lever in levers.HOST_LEVERS:
        LeverControl(grp, lever, info).key(f"{scenario_path.value}-{grp}-{lever.key}")
    solara.Markdown("**Russia**")
    for lever in levers.RUSSIA_LEVERS:
        LeverControl(levers.RUSSIA, lever, info).key(f"{scenario_path.value}-ru-{lever.key}")
    if changes.value:
        solara.Button("Reset levers", on_click=lambda: changes.set({}), text=True)


@solara.component
def RunPanel() -> None:
    """Replications, seed, scale, months; the run button and the progress bar."""
    info = scenario_info(scenario_path.value)
    solara.SliderInt("Replications", value=reps, min=1, max=30)
    solara.InputInt("First seed (replicate r: seed + r)", value=seed)
    solara.InputFloat(f"Scale, persons per agent (0: the scenario's {info.scale:g})", value=scale)
    solara.InputInt(f"Months (0: the scenario's {info.months})", value=months)
    solara.Button("Run", on_click=start_run, color="primary", classes=["run-button"])
    c = comparison.value
    if run_comparison.pending or (c is not None and not c.complete):
        solara.ProgressLinear(value=run_comparison.progress or True)
    if c is not None:
        cached = f", {c.from_cache} from the cache" if c.from_cache else ""
        solara.Text(f"{c.done} of {c.total} runs done{cached}", classes=["run-status"])
        data = {"request": dataclasses.asdict(c.request), "complete": c.complete,
                "end": stats.end_values({a: [r.summary for r in runs] for a, runs in c.runs.items()})}
        solara.HTML(tag="pre", unsafe_innerHTML=_escape(json.dumps(data)), style="display:none",
                    classes=["dashboard-data"])
    if run_comparison.error:
        solara.Error(f"Run failed: {run_comparison.exception}")


# ------------------------------------------------------------------------------------------
# Page
# ------------------------------------------------------------------------------------------


@solara.component
def Page() -> None:
    """The dashboard: controls in the sidebar, SolaraViz with the panels."""
    path = scenario_path.value
    model = solara.use_memo(lambda: engine.make_model(path), dependencies=[path])
    with solara.Sidebar():
        with solara.Card("Scenario"):
            ScenarioPicker()
        with solara.Card("Run"):
            RunPanel()
        with solara.Card("Reproduce and download"):
            ExportPanel()
        with solara.Card("Levers"):
            LeverPanel()
    SolaraViz(model, components=PANELS, model_params={"scenario": model.config}, name="diaspora_sim dashboard")
