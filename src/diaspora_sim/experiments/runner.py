"""One run of a plan, as a worker computes it: the run's files as Parquet bytes, or its traceback.

A run's files depend only on its scenario data, parameter point and seed, so they are
identical whatever the executor, the number of workers or the order in which runs complete.
Workers compute and return the bytes; only the process that drives the sweep writes to the
results folder, so a Dask cluster needs no shared file system.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..core.hashing import code_fingerprint
from ..model.model import DiasporaModel
from ..outputs.summary import SUMMARY_BY_CATEGORY, SUMMARY_FIELDS, summary
from ..outputs.timeseries import timeseries_table
from ..scenario.loading import with_run
from ..scenario.schema import CATEGORIES
from .plan import RunTask, scenario_data_for


@dataclass
class RunResult:
    """What a worker returns: the run's files as Parquet bytes, or its traceback."""

    run_id: str
    ok: bool
    timeseries: bytes | None = None
    summary: bytes | None = None
    error: str = ""
    seconds: float = 0.0
    worker: str = ""
    code: str = ""


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _id_columns(task: RunTask, n: int) -> dict[str, pa.Array]:
    cols: dict[str, pa.Array] = {
        "run_id": pa.array([task.run_id] * n, pa.string()),
        "scenario": pa.array([task.scenario] * n, pa.string()),
        "point": pa.array([task.point] * n, pa.int32()),
    }
    for name, typ in task.param_types:
        cols[name] = pa.array([task.values[name]] * n).cast(pa.type_for_alias(typ))
    cols["replicate"] = pa.array([task.replicate] * n, pa.int32())
    cols["seed"] = pa.array([task.seed] * n, pa.int64())
    return cols


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()




def _summary_row(task: RunTask, summ: dict[str, Any]) -> pa.Table:
    cols = _id_columns(task, 1)
    year, month = (int(x) for x in summ["date"].split("-"))
    cols["date"] = pa.array([date(year, month, 1)], pa.date32())
    for key in SUMMARY_FIELDS:
        cols[key] = pa.array([summ[key]], pa.float64())
    for cat in CATEGORIES:
        for key in SUMMARY_BY_CATEGORY:
            cols[f"{key}_{cat}"] = pa.array([summ["by_category"][cat][key]], pa.float64())
    return pa.table(cols)


def execute_run(task: RunTask, scenario_data: dict[str, Any]) -> RunResult:
    """Run one task of a plan; never raises (a failure is returned with its traceback)."""
    started = time.perf_counter()
    try:
        sc = scenario_data_for(task, scenario_data)
        limit: int | None = task.months
        if task.months > sc.run.months:  # a longer run extends the scenario, as `run --months` does
            sc, limit = with_run(sc, months=task.months), None
        model = DiasporaModel(sc, months=limit)
        try:
            model.run()
            sel = task.outputs
            kept = timeseries_table(model, metrics=sel.metrics, hosts=sel.hosts, categories=sel.categories)
            summ = summary(model)
        finally:
            model.release()  # Mesa 3.3 keeps every model alive otherwise
        # plain string columns, not dictionaries: the same type in every file and every tool
        strings = {c: kept[c].cast(pa.string()) for c in ("host", "category", "metric")}
        tidy = pa.table({**_id_columns(task, kept.num_rows), "date": kept["date"], **strings, "value": kept["value"]})
        return RunResult(task.run_id, True, _parquet_bytes(tidy), _parquet_bytes(_summary_row(task, summ)),
                         seconds=time.perf_counter() - started, worker=_worker_name(), code=code_fingerprint())
    except Exception:
        return RunResult(task.run_id, False, error=traceback.format_exc(), seconds=time.perf_counter() - started,
                         worker=_worker_name(), code=code_fingerprint())


Runner = Callable[[RunTask, dict[str, Any]], RunResult]


def lost(task: RunTask, why: str) -> RunResult:
    """The result of a run that was lost (its worker died) with the reason."""
    return RunResult(task.run_id, False, error=why)
