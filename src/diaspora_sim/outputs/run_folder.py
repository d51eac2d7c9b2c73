"""A run folder: manifest, resolved scenario, tidy time series, summary and figures.

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .. import __version__
from ..core.files import write_folder
from ..model.metrics import METRICS
from ..model.model import DiasporaModel
from ..scenario.loading import to_yaml
from ..scenario.schema import CATEGORIES, month_name

SUMMARY_RATES = ("return_rate", "integration_rate")


def timeseries_table(
    model: DiasporaModel,
    *,
    metrics: Sequence[str] | None = None,
    hosts: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
) -> pa.Table:
    """The model's metrics in tidy form: date, host, category, metric, value (NaN cells left out).

    `metrics`, `hosts` and `categories` keep only those rows (None: all); the rows kept are
    those of the full table, in the same order.
    """
    rec = model.recorder
    _, n_loc, n_cat = rec.data["stock"].shape
    months = model.month  # only the months simulated
    host_names = np.array([*model.host_codes, "RU", "ALL"])
    cats = np.array([*CATEGORIES, "ALL"])
    dates = np.array(
        [np.datetime64(month_name(model.start + t) + "-01", "D") for t in range(months)]
    )
    t_idx, h_idx, c_idx = np.meshgrid(np.arange(months), np.arange(n_loc), np.arange(n_cat), indexing="ij")
    t_idx, h_idx, c_idx = t_idx.ravel(), h_idx.ravel(), c_idx.ravel()
    cell = np.ones(t_idx.shape, bool)
    if hosts is not None:
        cell &= np.isin(host_names, list(hosts))[h_idx]
    if categories is not None:
        cell &= np.isin(cats, list(categories))[c_idx]
    columns: dict[str, list[np.ndarray]] = {k: [] for k in ("date", "host", "category", "metric", "value")}
    for name in METRICS if metrics is None else [m for m in METRICS if m in set(metrics)]:
        values = rec.data[name][:months].ravel()
        keep = ~np.isnan(values) & cell
        columns["date"].append(dates[t_idx[keep]])
        columns["host"].append(host_names[h_idx[keep]])
        columns["category"].append(cats[c_idx[keep]])
        columns["metric"].append(np.full(int(keep.sum()), name))
        columns["value"].append(values[keep])
    return pa.table(
        {
            "date": pa.array(np.concatenate(columns["date"]), pa.date32()),
            "host": pa.array(np.concatenate(columns["host"])).dictionary_encode(),
            "category": pa.array(np.concatenate(columns["category"])).dictionary_encode(),
            "metric": pa.array(np.concatenate(columns["metric"])).dictionary_encode(),
            "value": pa.array(np.concatenate(columns["value"]), pa.float64()),
        }
    )


def summary(model: DiasporaModel) -> dict[str, Any]:
    """End-of-run headline figures (definitions in docs/metrics.md)."""
    rec, H = model.recorder, model.n_hosts
    t = model.month - 1
    C = len(CATEGORIES)

    def at(metric: str, host: int, cat: int) -> float | None:
        v = float(rec.data[metric][t, host, cat])
        return None if np.isnan(v) else round(v, 10)

    return {
        "title": model.config.title,
        "date": month_name(model.start + t),
        "seed": model.seed,
        "scale": model.config.run.scale,
        "return_rate": at("return_rate", H + 1, C),
        "integration_rate": at("integration_rate", H + 1, C),
        "ever_left": at("ever_left", H + 1, C),
        "stock_abroad": at("stock", H + 1, C),
        "in_russia": at("stock", H, C),
        "it_specialists_in_russia": at("it_specialists_in_russia", H + 1, C),
        "without_status": at("without_status", H + 1, C),
        "without_documents": at("without_documents", H + 1, C),
        "by_category": {
            cat: {name: at(name, H + 1, c) for name in (*SUMMARY_RATES, "ever_left")}
            for c, cat in enumerate(CATEGORIES)
        },
        "stock_by_host": {code: at("stock", h, C) for h, code in enumerate(model.host_codes)},
    }


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
            from ..plots.figures import run_figures

            run_figures(table, tmp, title=model.config.title or source)
        timings = {**model.timings, "write_s": time.perf_counter() - started}
        return manifest(model, source, overrides or [], timings)

    return write_folder(Path(out), fill, kind="run", overwrite=overwrite)
