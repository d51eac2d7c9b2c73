"""Running a plan: executors, per-run files written atomically, resume, failures and retries.

A results folder holds

- ``manifest.json``: the plan (experiment, scenarios with their SHA-256, points, seeds, run
  ids), the model code's fingerprint and library versions; written before any run;
- ``scenarios/<name>.yaml``: each scenario as resolved for the experiment;
- ``runs/<run_id>.parquet``: the run's tidy time series (the kept outputs) with its
  identifying columns;
- ``summary/<run_id>.parquet``: one row of end-of-run figures with the same identifying
  columns. It is written last: a run is complete when its summary file exists;
- ``failed/<run_id>.json``: the traceback of a run that raised (removed once it succeeds);
- ``log.jsonl``: one line per finished attempt (time, worker, seconds): the only file whose
  content depends on when and where runs happened.

Every file is written under a temporary name (``.<name>.tmp-<pid>``, ignored by readers) and
renamed into place, so a crash or ``kill -9`` leaves complete files only; re-running the same
command skips the completed runs. A run's files depend only on its scenario data, parameter
point and seed, so they are identical whatever the executor, the number of workers or the
order in which runs complete.

Workers compute and return the files' bytes; only the process that drives the sweep writes
to the results folder, so a Dask cluster needs no shared file system.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import sys
import threading
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__
from . import model as _model  # noqa: F401 - the model's modules are loaded before the code fingerprint is taken
from .experiment import SUMMARY_BY_CATEGORY, SUMMARY_FIELDS, Plan, RunTask, scenario_data_for
from .schema import CATEGORIES

EXECUTORS = ("local", "dask", "serial")
MANIFEST = "manifest.json"
FORMAT = 1
# Modules that do not change what a run computes or writes; every other module of the
# package (new ones too) enters the code fingerprint.
PRESENTATION_MODULES = frozenset(
    {"__main__.py", "cli.py", "experiment_cli.py", "plots.py", "analysis.py", "results.py", "reference.py",
     "validation.py", "validation_cli.py", "calibration.py"}  # validation and calibration only read runs
)


class SweepError(Exception):
    """A sweep cannot start (e.g. the results folder holds another experiment)."""


# --------------------------------------------------------------------------------------------
# One run (executed in a worker)
# --------------------------------------------------------------------------------------------


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


def _fingerprint() -> str:
    root = Path(__file__).resolve().parent
    h = sha256()
    for path in sorted(root.glob("*.py")):
        if path.name not in PRESENTATION_MODULES:
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


_FINGERPRINT = _fingerprint()


def code_fingerprint() -> str:
    """SHA-256 (first 16 hex digits) of the package modules that determine a run's results, as
    they were when this process loaded them (the model code it runs).
    """
    return _FINGERPRINT


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
    from .model import DiasporaModel
    from .outputs import summary, timeseries_table
    from .scenario import with_run

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


# --------------------------------------------------------------------------------------------
# The results folder
# --------------------------------------------------------------------------------------------


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and an atomic rename."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _versions() -> dict[str, str]:
    import platform
    from importlib.metadata import version

    import mesa

    # SALib makes the design points (their values enter the run ids)
    return {"diaspora_sim": __version__, "mesa": mesa.__version__, "numpy": np.__version__, "SALib": version("SALib"),
            "pyarrow": pa.__version__, "python": platform.python_version()}


def manifest_for(plan: Plan) -> dict[str, Any]:
    """The manifest of a plan's results folder (no dates or timings: it is identical on every resume)."""
    return {"format": FORMAT, "code_fingerprint": code_fingerprint(), "versions": _versions(), **plan.describe()}


def completed_ids(out: Path) -> set[str]:
    """Ids of the completed runs in a results folder (those with a summary file)."""
    folder = Path(out) / "summary"
    return {p.name[: -len(".parquet")] for p in folder.glob("*.parquet")} if folder.is_dir() else set()


def prepare_folder(plan: Plan, out: Path) -> set[str]:
    """Create or reopen the results folder for `plan`; returns the ids already completed.

    A folder made for another experiment is refused: its completed runs must all belong to
    this plan (adding replications is fine), with the same outputs and model code.
    """
    out = Path(out)
    manifest = manifest_for(plan)
    old_path = out / MANIFEST
    done = completed_ids(out)
    if old_path.exists():
        old = json.loads(old_path.read_text(encoding="utf-8"))
        hint = f"use another --out, or delete {out} to start again"
        if old.get("code_fingerprint") != manifest["code_fingerprint"] and done:
            raise SweepError(f"{out} holds runs made by other model code (fingerprint {old.get('code_fingerprint')}, "
                             f"now {manifest['code_fingerprint']}); mixing them would mix two models: {hint}")
        if old.get("experiment", {}).get("outputs") != manifest["experiment"]["outputs"] and done:
            raise SweepError(f"{out} holds runs that kept other outputs: {hint}")
        if old.get("parameters") != manifest["parameters"] and done:
            raise SweepError(f"{out} holds runs with other parameters: {hint}")
    elif out.exists() and any(out.iterdir()):
        raise SweepError(f"{out} exists and is not a results folder (no {MANIFEST}): use another --out")
    foreign = done - {t.run_id for t in plan.tasks}
    if foreign:
        raise SweepError(f"{out} holds {len(foreign)} completed runs that are not in this experiment's plan "
                         f"(another experiment, or fewer replications or points): use another --out")
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())  # first: the folder is ours
    for sub in ("runs", "summary", "failed", "scenarios"):
        (out / sub).mkdir(exist_ok=True)
    for tmp in out.glob("*/.*.tmp-*"):  # left by a crash
        tmp.unlink(missing_ok=True)
    for name, spec in plan.scenarios.items():
        write_atomic(out / "scenarios" / f"{name}.yaml", spec.yaml.encode())
    return done


# --------------------------------------------------------------------------------------------
# Executors
# --------------------------------------------------------------------------------------------


def _watch_parent() -> None:
    """Worker initializer: exit when the process that started this worker dies (e.g. the sweep
    was killed with kill -9), instead of lingering as an orphan.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _process_context() -> multiprocessing.context.BaseContext:
    """Workers are forked from a clean server process that has imported the model once (cheap to
    replace after a worker dies), or spawned where fork servers do not exist. Never a plain fork
    of this process, which may hold threads (progress bar, Dask).
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["diaspora_sim.sweep"])
        return ctx
    return multiprocessing.get_context("spawn")


def _lost(task: RunTask, why: str) -> RunResult:
    return RunResult(task.run_id, False, error=why)


def _run_serial(tasks: deque[RunTask], data: dict[str, dict], runner: Runner, handle: Callable[[RunTask, RunResult], None],
                **_: Any) -> None:
    while tasks:
        task = tasks.popleft()
        handle(task, runner(task, data[task.scenario]))


def _run_local(tasks: deque[RunTask], data: dict[str, dict], runner: Runner, handle: Callable[[RunTask, RunResult], None],
               workers: int, max_retries: int, **_: Any) -> None:
    """A process pool. When a worker process dies, the runs in flight are retried one at a time
    in a new pool (so the run that kills its worker is identified), at most `max_retries` times.
    """
    ctx = _process_context()

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(workers, mp_context=ctx, initializer=_watch_parent)

    attempts: Counter[str] = Counter()
    suspects: deque[RunTask] = deque()
    inflight: dict[Future, RunTask] = {}
    pool = new_pool()
    try:
        while tasks or suspects or inflight:
            if suspects:
                if not inflight:
                    t = suspects.popleft()
                    inflight[pool.submit(runner, t, data[t.scenario])] = t
            else:
                while tasks and len(inflight) < 2 * workers:
                    t = tasks.popleft()
                    inflight[pool.submit(runner, t, data[t.scenario])] = t
            done, _ = wait(inflight, return_when=FIRST_COMPLETED)
            broken = []
            for fut in done:
                t = inflight.pop(fut)
                try:
                    handle(t, fut.result())
                except BrokenProcessPool:
                    broken.append(t)
                except Exception:  # e.g. a result that cannot be unpickled
                    handle(t, _lost(t, traceback.format_exc()))
            if broken:
                broken += inflight.values()  # the pool is gone with every run in it
                inflight.clear()
                pool.shutdown(wait=True, cancel_futures=True)
                pool = new_pool()
                for t in broken:
                    attempts[t.run_id] += 1
                    if attempts[t.run_id] > max_retries:
                        handle(t, _lost(t, f"the worker process died {attempts[t.run_id]} times while running this run "
                                           "(out of memory or a crash in native code?)"))
                    else:
                        handle(t, None)  # announce the retry
                        suspects.append(t)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _run_dask(tasks: deque[RunTask], data: dict[str, dict], runner: Runner, handle: Callable[[RunTask, RunResult], None],
              workers: int, scheduler: str | None, quiet: bool = False, **_: Any) -> None:
    """Dask distributed: the scheduler at `scheduler`, or a local cluster of `workers` processes.

    Dask reschedules the runs of a worker that dies; a run whose workers died
    ``distributed.scheduler.allowed-failures`` times (default 3) is recorded as failed.
    """
    import logging

    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise SweepError("--executor dask needs Dask distributed: pip install 'diaspora_sim[dask]'") from None
    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="30s")
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                               silence_logs=logging.ERROR)
        client = Client(cluster)
    try:
        if not quiet:
            where = scheduler or "a local cluster"
            print(f"dask: {where}, {len(client.nthreads())} workers, dashboard {client.dashboard_link}", file=sys.stderr)
        needed = {t.scenario for t in tasks}
        # scatter a list: scattering a dict would send each of its values under the dict's keys
        # ("hosts", "timeline", ...), and the scenarios would overwrite each other's sections
        scattered = {n: client.scatter([data[n]], broadcast=True, hash=False)[0] for n in needed}
        window = max(2, 2 * (sum(client.nthreads().values()) or workers))
        futures: dict[Any, RunTask] = {}
        queue = as_completed()

        def submit() -> None:
            t = tasks.popleft()
            f = client.submit(runner, t, scattered[t.scenario], pure=False, retries=0,
                              key=f"run-{t.scenario}-p{t.point}-r{t.replicate}-{t.run_id}")
            futures[f] = t
            queue.add(f)

        while tasks and len(futures) < window:
            submit()
        for fut in queue:
            t = futures.pop(fut)
            if fut.status == "finished":
                result = fut.result()
            else:
                exc = fut.exception()
                text = "".join(traceback.format_exception(type(exc), exc, fut.traceback()))
                result = _lost(t, f"the Dask task failed ({type(exc).__name__}): workers died or were lost\n{text}")
            fut.release()
            handle(t, result)
            if tasks:
                submit()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------------------------
# The sweep
# --------------------------------------------------------------------------------------------


@dataclass
class SweepReport:
    """What a sweep did."""

    out: Path
    planned: int
    already_done: int
    ran: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    retried: int = 0
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        """Every run of the plan is complete."""
        return not self.failed and not self.interrupted and self.already_done + self.ran == self.planned


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_sweep(
    plan: Plan,
    out: str | Path,
    *,
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    max_retries: int = 2,
    progress: bool = True,
    runner: Runner | None = None,
) -> SweepReport:
    """Run every run of `plan` that `out` does not hold yet; write each result as it arrives.

    Completed runs are skipped, failed ones retried. A run that raises is recorded in
    ``failed/<run_id>.json`` and the others go on. `runner` computes one run (default
    :func:`execute_run`); it must be importable by the workers.
    """
    runner = runner or execute_run
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, not {executor!r}")
    workers = workers or default_workers()
    if workers < 1:
        raise ValueError("workers must be at least 1")
    out = Path(out)
    done = prepare_folder(plan, out)
    pending = deque(t for t in plan.tasks if t.run_id not in done)
    report = SweepReport(out, len(plan.tasks), len(done))
    expected_code = code_fingerprint()
    started = time.perf_counter()
    log = open(out / "log.jsonl", "a", encoding="utf-8")  # noqa: SIM115 - closed below
    from tqdm import tqdm

    bar = tqdm(total=report.planned, initial=report.already_done, unit="run", desc=plan.name, disable=not progress,
               file=sys.stderr, dynamic_ncols=True, smoothing=0.05)
    bar.set_postfix(failed=0, refresh=False)

    def handle(task: RunTask, result: RunResult | None) -> None:
        entry: dict[str, Any] = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "run_id": task.run_id,
                                 "scenario": task.scenario, "point": task.point, "replicate": task.replicate}
        if result is None:
            report.retried += 1
            entry["status"] = "retry (worker died)"
        else:
            if result.ok and result.code != expected_code:
                result = RunResult(task.run_id, False, error=f"worker {result.worker} runs other model code "
                                   f"(fingerprint {result.code}, this process {expected_code}): install the same "
                                   "diaspora_sim version on every worker", worker=result.worker)
            entry.update(status="ok" if result.ok else "failed", seconds=round(result.seconds, 3), worker=result.worker)
            failed_file = out / "failed" / f"{task.run_id}.json"
            if result.ok:
                write_atomic(out / "runs" / f"{task.run_id}.parquet", result.timeseries)
                write_atomic(out / "summary" / f"{task.run_id}.parquet", result.summary)  # last: completion
                failed_file.unlink(missing_ok=True)
                report.ran += 1
                report.failed.pop(task.run_id, None)
            else:
                doc = {"run_id": task.run_id, "scenario": task.scenario, "point": task.point, "values": task.values,
                       "replicate": task.replicate, "seed": task.seed, "worker": result.worker, "error": result.error}
                write_atomic(failed_file, (json.dumps(doc, indent=1, default=str) + "\n").encode())
                report.failed[task.run_id] = _last_line(result.error)
            bar.set_postfix(failed=len(report.failed), refresh=False)
            bar.update(1)
        log.write(json.dumps(entry) + "\n")
        log.flush()

    backend = {"serial": _run_serial, "local": _run_local, "dask": _run_dask}[executor]
    data = {n: s.data for n, s in plan.scenarios.items()}
    try:
        if pending:
            backend(pending, data, runner, handle, workers=min(workers, len(pending)), max_retries=max_retries,
                    scheduler=scheduler, quiet=not progress)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        bar.close()
        log.close()
        report.seconds = time.perf_counter() - started
    return report


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else "unknown error"


def failed_runs(out: Path) -> Iterable[dict[str, Any]]:
    """The failure records of a results folder (runs not completed since)."""
    done = completed_ids(out)
    for path in sorted((Path(out) / "failed").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc["run_id"] not in done:
            yield doc


__all__ = [
    "EXECUTORS",
    "RunResult",
    "SweepError",
    "SweepReport",
    "code_fingerprint",
    "completed_ids",
    "execute_run",
    "failed_runs",
    "manifest_for",
    "prepare_folder",
    "run_sweep",
    "write_atomic",
]
