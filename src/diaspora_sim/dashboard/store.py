"""The page's state: the reactive values the controls set and the panels read."""

from __future__ import annotations

import os

import solara

from . import engine
from .runner import Comparison

SCENARIO_ENV = "DIASPORA_DASHBOARD_SCENARIO"
DEFAULT_REPS = 5


def _initial_path() -> str:
    chosen = os.environ.get(SCENARIO_ENV)
    if chosen:
        return os.path.abspath(chosen)
    return str(next(iter(engine.shipped_scenarios().values())))


scenario_path = solara.reactive(_initial_path())
load_error = solara.reactive("")
changes: solara.Reactive[dict] = solara.reactive({})
group = solara.reactive("eu")
reps = solara.reactive(DEFAULT_REPS)
seed = solara.reactive(1)  # the default seed of every command
scale = solara.reactive(0.0)  # 0: the scenario's own
months = solara.reactive(0)  # 0: the scenario's own
comparison: solara.Reactive[Comparison | None] = solara.reactive(None)
auto_rerun = solara.reactive(False)
