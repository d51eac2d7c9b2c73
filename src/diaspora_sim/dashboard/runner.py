"""Replications in worker processes, with a cache: the page never waits on a simulation.

The compiled rule kernels hold the GIL, so runs go to a small process pool (spawned workers,
warmed up with a one-month run so their kernels are loaded before the first request). Each
replicate is cached under the hash of its fully resolved scenario, its seed, scale and months:
an identical request, or the baseline arm of a new lever choice, is served from the cache.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field

from . import engine
from .stats import ARMS


@dataclass(frozen=True)
class Request:
    """A comparison: the picked scenario with and without the lever overrides."""

    path: str
    overrides: tuple[str, ...] = ()
    reps: int = 5
    seed: int = 0
    scale: float | None = None
    months: int | None = None

    def seeds(self) -> list[int]:
        """Replicate r uses seed + r in both arms (common random numbers)."""
        return [self.seed + r for r in range(self.reps)]

    def arm_overrides(self, arm: str) -> list[str]:
        """The overrides of an arm (none for the baseline)."""
        return list(self.overrides) if arm == "changed" else []


@dataclass
class Comparison:
    """Replicates finished so far, by arm (in seed order)."""

    request: Request
    runs: dict[str, list[engine.RunResult]] = field(default_factory=lambda: {a: [] for a in ARMS})
    done: int = 0
    total: int = 0
    from_cache: int = 0

    @property
    def complete(self) -> bool:
        """Every replicate of both arms is in."""
        return self.done >= self.total > 0


class Runner:
    """A process pool and a cache of replicates, shared by every page of the server."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or max(1, min(2, os.cpu_count() or 1))
        self._pool: ProcessPoolExecutor | None = None
        self._cache: dict[tuple, engine.RunResult] = {}
        self._lock = threading.Lock()

    def pool(self) -> ProcessPoolExecutor:
        """The worker pool, started (and warmed up) on first use."""
        with self._lock:
            if self._pool is None:
                ctx = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx)
                warm = next(iter(engine.shipped_scenarios().values()), None)
                if warm is not None:
                    for _ in range(self.workers):
                        self._pool.submit(engine.run_one, str(warm), [], 0, None, 1)
            return self._pool

    def _key(self, req: Request, arm: str, seed: int) -> tuple:
        return (engine.fingerprint(req.path, req.arm_overrides(arm)), seed, req.scale, req.months)

    def compare(
        self,
        req: Request,
        on_progress: Callable[[Comparison], None] | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> Comparison:
        """Run (or fetch from the cache) every replicate of both arms; `on_progress` is called
        after each replicate pair, `cancelled` is polled and stops the comparison early.
        """
        out = Comparison(req, total=2 * req.reps)
        keys = {(arm, s): self._key(req, arm, s) for s in req.seeds() for arm in ARMS}
        pending: dict[Future, tuple[str, int]] = {}
        for (arm, s), key in keys.items():
            if key in self._cache:
                out.from_cache += 1
            else:
                fut = self.pool().submit(engine.run_one, req.path, req.arm_overrides(arm), s, req.scale, req.months)
                pending[fut] = (arm, s)
        got = {k: self._cache[key] for k, key in keys.items() if key in self._cache}
        self._publish(out, got, on_progress)
        while pending:
            if cancelled():
                for fut in pending:
                    fut.cancel()
                return out
            finished, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for fut in finished:
                arm, s = pending.pop(fut)
                got[(arm, s)] = self._cache[keys[(arm, s)]] = fut.result()
            if finished:
                self._publish(out, got, on_progress)
        return out

    @staticmethod
    def _publish(out: Comparison, got: dict, on_progress: Callable[[Comparison], None] | None) -> None:
        """Pairs complete so far, in seed order (a replicate is shown once both arms have it)."""
        out.done = len(got)
        seeds = [s for s in out.request.seeds() if all((a, s) in got for a in ARMS)]
        out.runs = {a: [got[(a, s)] for s in seeds] for a in ARMS}
        if on_progress is not None and (seeds or out.complete):
            on_progress(out)

    def shutdown(self) -> None:
        """Stop the workers."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


_RUNNER: Runner | None = None


def shared() -> Runner:
    """The server's runner."""
    global _RUNNER
    if _RUNNER is None:
        _RUNNER = Runner()
    return _RUNNER
