"""What the commands share: exit statuses, the executor options, running a plan with messages."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..experiments.options import EXECUTORS

EXIT_OK = 0

EXIT_BAD_INPUT = 2
EXIT_RUNS_FAILED = 1
EXIT_INTERRUPTED = 130


def executor_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the executor options (--executor, --scheduler, --workers), if anything."""
    if args.scheduler and args.executor != "dask":
        return "--scheduler needs --executor dask"
    if args.workers is not None and args.workers < 1:
        return "--workers must be at least 1"
    return None


def execute(plan, out: Path, args: argparse.Namespace) -> int:  # noqa: ANN001 - a Plan
    """Run a plan with the executor options of `args`, print what happened; the exit status."""
    from ..experiments.sweep import run_sweep

    if not args.quiet:
        for w in plan.warnings:
            print(f"warning: {w}", file=sys.stderr)
    if (problem := executor_problem(args)) is not None:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    report = run_sweep(plan, out, executor=args.executor, workers=args.workers, scheduler=args.scheduler,
                       max_retries=args.retries, progress=not args.quiet)
    rate = f", {60 * report.ran / report.seconds:.0f} runs/min" if report.ran and report.seconds > 0 else ""
    print(f"{plan.name}: {report.planned} runs planned, {report.already_done} already done, {report.ran} ran "
          f"in {report.seconds:.1f} s{rate}, {len(report.failed)} failed"
          + (f", {report.retried} retried after a worker died" if report.retried else "") + f"; results in {out}",
          file=sys.stderr)
    if report.failed:
        print(f"failed runs (tracebacks in {out / 'failed'}; re-run the same command to retry them):", file=sys.stderr)
        for run_id, line in list(report.failed.items())[:10]:
            print(f"  {run_id}: {line}", file=sys.stderr)
        if len(report.failed) > 10:
            print(f"  ... and {len(report.failed) - 10} more", file=sys.stderr)
        return EXIT_RUNS_FAILED
    if report.interrupted:
        print("interrupted: re-run the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def executor_options(p: argparse.ArgumentParser) -> None:
    """Add the options that choose where runs are computed (--workers, --executor, --scheduler, --retries, --quiet)."""
    p.add_argument("--workers", type=int, help="worker processes (default: the cores available; dask: local cluster size)")
    p.add_argument("--executor", choices=EXECUTORS, default="local",
                   help="local: a process pool (default); dask: Dask distributed (pip install 'diaspora_sim[dask]'); "
                        "serial: in this process, for debugging")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="with --executor dask: the scheduler to use, e.g. tcp://host:8786 (default: a local cluster)")
    p.add_argument("--retries", type=int, default=2, help="retries of a run whose worker process died (default 2)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")


