"""A run folder: manifest, resolved scenario, tidy time series (:mod:`.timeseries`), summary
(:mod:`.summary`) and figures (:mod:`diaspora_sim.plots.run`).

The folder is written under a temporary name beside its destination and renamed into place
only when complete, so an interrupted or failed run never leaves a partial folder; an existing
path is never replaced unless it is a run folder this tool wrote and `overwrite` is asked
(:mod:`diaspora_sim.core.files`).
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pyarrow.parquet as pq

from .. import __version__
from ..core.files import write_folder
from ..model.model import DiasporaModel
from ..plots.run import run_figures
from ..scenario.loading import to_yaml
from .summary import summary
from .timeseries import timeseries_table


def manifest(model: DiasporaModel, source: str, overrides: list[str], timings: dict[str, float]) -> dict[str, Any]:
    """What produced the run: versions, seed, inputs, resolved parameters and timings."""
    resolved = model.config.model_dump(mode="json", exclude_none=True)
    reached = {name for _, name in model.events_applied}
    return {
        "package": "diaspora_sim",
        "version": __version__,
        "mesa_version": mesa.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "scenario_file": source,
        "overrides": overrides,
        "seed": model.seed,
        "scale": model.config.run.scale,
        "start": model.config.run.start,
        "months": model.month,
        "scenario_months": model.config.run.months,
        "agents": len(model.state.category),
        "agent_steps": model.agent_steps,
        "events_applied": [{"date": d, "name": n} for d, n in model.events_applied],
        "events_not_reached": [e.name for e in model.config.timeline if e.name not in reached],
        "scenario_sha256": hashlib.sha256(to_yaml(model.config).encode()).hexdigest(),
        "parameters": resolved,
        "timings_s": {k: round(v, 4) for k, v in timings.items()},
    }


def write_run(
    model: DiasporaModel,
    out: Path,
    *,
    source: str = "",
    overrides: list[str] | None = None,
    figures: bool = True,
    overwrite: bool = False,
) -> Path:
    """Write the run folder `out` atomically. An existing path is refused (OutputError), except
    an empty folder, or with `overwrite` a run folder this tool wrote (core.files).
    """
    started = time.perf_counter()

    def fill(tmp: Path) -> dict[str, Any]:
        table = timeseries_table(model)
        pq.write_table(table, tmp / "timeseries.parquet", compression="zstd")
        (tmp / "scenario.resolved.yaml").write_text(to_yaml(model.config), encoding="utf-8")
        (tmp / "summary.json").write_text(json.dumps(summary(model), indent=2) + "\n", encoding="utf-8")
        if figures:
            run_figures(table, tmp, title=model.config.title or source)
        timings = {**model.timings, "write_s": time.perf_counter() - started}
        return manifest(model, source, overrides or [], timings)

    return write_folder(Path(out), fill, kind="run", overwrite=overwrite)


__all__ = ["manifest", "summary", "timeseries_table", "write_run"]
