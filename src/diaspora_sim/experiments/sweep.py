"""Running a plan into a results folder (layout in :mod:`.folder`): resume, failures and retries.

Re-running the same sweep skips the completed runs and retries the failed ones. Each result is
written as it arrives, atomically, by this process only.
"""

from __future__ import annotations

import json
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..core.files import os_reason, write_atomic
from ..core.hashing import code_fingerprint
from .executors import default_workers, run_dask, run_local, run_serial
from .folder import check_results_folder, folder_lock, prepare_folder, results_error
from .options import EXECUTORS
from .plan import Plan, RunTask
from .runner import Runner, RunResult, execute_run


class RunsFailedError(RuntimeError):
    """Runs of a plan failed or were interrupted (the results folder can be resumed)."""


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
    check_results_folder(out)  # before anything is created
    try:
        out.mkdir(parents=True, exist_ok=True)
        with folder_lock(out):
            return _sweep(plan, out, executor, runner, workers=workers, scheduler=scheduler, max_retries=max_retries,
                          progress=progress)
    except OSError as exc:  # e.g. the folder cannot be created, or a Dask scheduler cannot be reached
        raise results_error(f"the sweep into {out} stopped: {os_reason(exc)}; the runs completed so far are kept: "
                            "fix this and re-run the same command to resume") from None


def _sweep(plan: Plan, out: Path, executor: str, runner: Runner, *, workers: int, scheduler: str | None,
           max_retries: int, progress: bool) -> SweepReport:
    """The body of :func:`run_sweep`, holding the folder's lock."""
    done = prepare_folder(plan, out)
    pending = deque(t for t in plan.tasks if t.run_id not in done)
    report = SweepReport(out, len(plan.tasks), len(done))
    started = time.perf_counter()
    log = open(out / "log.jsonl", "a", encoding="utf-8")  # noqa: SIM115 - closed below
    bar = tqdm(total=report.planned, initial=report.already_done, unit="run", desc=plan.name, disable=not progress,
               file=sys.stderr, dynamic_ncols=True, smoothing=0.05)
    bar.set_postfix(failed=0, refresh=False)
    handle = _handler(out, report, bar, log)
    backend = {"serial": run_serial, "local": run_local, "dask": run_dask}[executor]
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


def _handler(out: Path, report: SweepReport, bar: tqdm, log: Any) -> Callable[[RunTask, RunResult | None], None]:
    """What is done with each result as it arrives: its files written, the report, bar and log updated."""
    expected_code = code_fingerprint()

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
            try:
                _write_result(out, task, result, report)
            except OSError as exc:  # a full disk, a permission taken away: the completed runs stay, the folder resumes
                raise results_error(f"{out}: writing the files of run {task.run_id} failed: {os_reason(exc)}; the runs "
                                    "completed so far are kept: free space (or fix the permission) and re-run the same "
                                    "command to resume") from None
            bar.set_postfix(failed=len(report.failed), refresh=False)
            bar.update(1)
        log.write(json.dumps(entry) + "\n")
        log.flush()

    return handle


def _write_result(out: Path, task: RunTask, result: RunResult, report: SweepReport) -> None:
    """Write a run's files (the summary last: it marks the run complete), or its failure record."""
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


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else "unknown error"
