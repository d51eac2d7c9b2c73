"""Executors: where the runs of a plan are computed (this process, a process pool, a Dask cluster)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from ..core.errors import input_error
from .folder import RESULTS
from .plan import RunTask
from .runner import Runner, RunResult, lost

LOOPBACK = "127.0.0.1"
"""Where a local Dask cluster listens (never every interface)."""


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _process_state(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process from /proc, or None if it does not exist; ("?", "") without /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "?", ""
    except (OSError, IndexError):
        return "?", ""
    return fields[0], fields[19]


def _watch_parent(sweep: int | None = None) -> None:
    """Worker initializer: exit when the sweep that started this worker dies (e.g. it was killed with
    kill -9), instead of lingering as an orphan. `sweep` is the sweep's process id: a worker's parent
    is a fork server, which itself lives as long as its workers do, so the sweep is watched directly
    (it is dead when gone, a zombie, or its id was reused by a process started at another time).
    """
    parent = os.getppid()
    sweep = sweep or parent
    first = _process_state(sweep)
    started = first[1] if first else ""

    def watch() -> None:
        while True:
            state = _process_state(sweep)
            if os.getppid() != parent or state is None or state[0] in ("Z", "X") or state[1] != started:
                os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()


def _process_context() -> multiprocessing.context.BaseContext:
    """Workers are forked from a clean server process that has imported the model once (cheap to
    replace after a worker dies), or spawned where fork servers do not exist. Never a plain fork
    of this process, which may hold threads (progress bar, Dask).
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["diaspora_sim.experiments.runner"])
        return ctx
    return multiprocessing.get_context("spawn")


def run_serial(tasks: deque[RunTask], data: dict[str, dict], runner: Runner, handle: Callable[[RunTask, RunResult], None],
                **_: Any) -> None:
    """Run the tasks one after the other in this process (for debugging and tiny plans)."""
    while tasks:
        task = tasks.popleft()
        handle(task, runner(task, data[task.scenario]))


def run_local(tasks: deque[RunTask], data: dict[str, dict], runner: Runner, handle: Callable[[RunTask, RunResult], None],
               workers: int, max_retries: int, **_: Any) -> None:
    """A process pool. When a worker process dies, the runs in flight are retried one at a time
    in a new pool (so the run that kills its worker is identified), at most `max_retries` times.
    """
    ctx = _process_context()

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(workers, mp_context=ctx, initializer=_watch_parent,
                                   initargs=(os.getpid(),))

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
                    handle(t, lost(t, traceback.format_exc()))
            if broken:
                broken += inflight.values()  # the pool is gone with every run in it
                inflight.clear()
                pool.shutdown(wait=True, cancel_futures=True)
                pool = new_pool()
                for t in broken:
                    attempts[t.run_id] += 1
                    if attempts[t.run_id] > max_retries:
                        handle(t, lost(t, f"the worker process died {attempts[t.run_id]} times while running this run "
                                           "(out of memory or a crash in native code?)"))
                    else:
                        handle(t, None)  # announce the retry
                        suspects.append(t)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def run_dask(tasks: deque[RunTask], data: dict[str, dict], runner: Runner, handle: Callable[[RunTask, RunResult], None],
              workers: int, scheduler: str | None, quiet: bool = False, **_: Any) -> None:
    """Dask distributed: the scheduler at `scheduler`, or a local cluster of `workers` processes whose
    scheduler, workers and dashboard listen on 127.0.0.1 only.

    Dask reschedules the runs of a worker that dies; a run whose workers died
    ``distributed.scheduler.allowed-failures`` times (default 3) is recorded as failed.
    """
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise input_error("--executor dask needs Dask distributed: pip install 'diaspora_sim[dask]'", what=RESULTS) from None
    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="30s")
    else:
        # the scheduler, the workers and the dashboard listen on the loopback interface only
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host=LOOPBACK,
                               dashboard_address=f"{LOOPBACK}:0", silence_logs=logging.ERROR)
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
                result = lost(t, f"the Dask task failed ({type(exc).__name__}): workers died or were lost\n{text}")
            fut.release()
            handle(t, result)
            if tasks:
                submit()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
