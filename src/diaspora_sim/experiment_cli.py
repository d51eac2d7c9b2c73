"""Command line of experiments: sweep, results, compare (registered by cli.build_parser)."""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

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


def _execute(plan, out: Path, args: argparse.Namespace) -> int:  # noqa: ANN001 - Plan, imported lazily
    """Run a plan with the executor options of `args`, print what happened; the exit status."""
    from .sweep import SweepError, run_sweep

    if not args.quiet:
        for w in plan.warnings:
            print(f"warning: {w}", file=sys.stderr)
    if (problem := executor_problem(args)) is not None:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        report = run_sweep(plan, out, executor=args.executor, workers=args.workers, scheduler=args.scheduler,
                           max_retries=args.retries, progress=not args.quiet)
    except SweepError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
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


def _sweep(args: argparse.Namespace) -> int:
    from .experiment import load_experiment, make_plan

    exp = load_experiment(args.experiment)
    plan = make_plan(exp, args.experiment)
    out = Path(args.out) if args.out else Path("results") / plan.name
    if args.dry_run:
        print(f"{plan.name}: {len(plan.scenarios)} scenarios x {len(plan.points)} points x {exp.replications} "
              f"replications = {len(plan.tasks)} runs, seeds {exp.seed} to {exp.seed + exp.replications - 1}; "
              f"results would go to {out}")
        for name, spec in plan.scenarios.items():
            print(f"  {name}: {spec.file}, scale {spec.data['run']['scale']:g}, {spec.months} months")
        for w in plan.warnings:
            print(f"warning: {w}", file=sys.stderr)
        return 0
    status = _execute(plan, out, args)
    if status in (0, EXIT_RUNS_FAILED) and not args.quiet:
        from .analysis import results_text
        from .results import Results

        print(results_text(Results.open(out)))
    return status


def _results(args: argparse.Namespace) -> int:
    from .analysis import results_text
    from .results import Results, ResultsError

    try:
        print(results_text(Results.open(args.folder), max_rows=args.max_rows))
    except ResultsError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


def _compare(args: argparse.Namespace) -> int:
    from . import analysis
    from .results import Results, ResultsError

    status = 0
    if args.results:
        folder = Path(args.results)
        names = args.scenarios or None
    else:
        if not args.scenarios:
            print("compare: give scenario files, or --results DIR", file=sys.stderr)
            return EXIT_BAD_INPUT
        from pydantic import ValidationError

        from .experiment import Experiment, make_plan

        try:
            exp = Experiment(
                title="Comparison of " + ", ".join(Path(s).stem for s in args.scenarios),
                scenarios=[{"file": str(Path(s).resolve())} for s in args.scenarios],
                replications=args.reps, seed=args.seed, months=args.months, scale=args.scale,
            )
        except ValidationError as exc:
            option = {"replications": "--reps", "seed": "--seed", "months": "--months", "scale": "--scale"}
            for err in exc.errors(include_url=False):
                name = option.get(str(err["loc"][0]), str(err["loc"][0]))
                print(f"compare: {name}: {err['msg']} (found {err.get('input')!r})", file=sys.stderr)
            return EXIT_BAD_INPUT
        plan = make_plan(exp, name="compare")
        if args.out:
            folder = Path(args.out)
        else:
            stems = "+".join(Path(s).stem for s in args.scenarios)
            if len(stems) > 80:
                stems = f"{len(args.scenarios)}-scenarios-{hashlib.sha256(stems.encode()).hexdigest()[:8]}"
            folder = Path("results") / f"compare-{stems}"
        status = _execute(plan, folder, args)
        if status not in (0, EXIT_RUNS_FAILED):
            return status
        names = None
    try:
        results = Results.open(folder)
        dates = analysis.parse_dates(args.dates, analysis.available_dates(results)) if args.dates else None
        cmp = analysis.compare(results, names, dates, confidence=args.confidence, target=args.target_half_width)
        report = analysis.write_report(cmp, Path(args.report) if args.report else folder / "report")
    except ResultsError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    print(analysis.headline_text(cmp))
    print(f"report: {report}")
    return status


def _executor_options(p: argparse.ArgumentParser) -> None:
    from .sweep import EXECUTORS

    p.add_argument("--workers", type=int, help="worker processes (default: the cores available; dask: local cluster size)")
    p.add_argument("--executor", choices=EXECUTORS, default="local",
                   help="local: a process pool (default); dask: Dask distributed (pip install 'diaspora_sim[dask]'); "
                        "serial: in this process, for debugging")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="with --executor dask: the scheduler to use, e.g. tcp://host:8786 (default: a local cluster)")
    p.add_argument("--retries", type=int, default=2, help="retries of a run whose worker process died (default 2)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the sweep, results and compare commands."""
    sweep = sub.add_parser("sweep", help="run an experiment file (resumes an interrupted sweep)",
                           description="Run every run of an experiment into a results folder. Re-running the same "
                                       "command resumes: completed runs are skipped, failed ones retried.")
    sweep.add_argument("experiment", help="experiment YAML file (docs/experiments.md)")
    sweep.add_argument("--out", help="results folder (default: results/<experiment name>)")
    sweep.add_argument("--dry-run", action="store_true", help="validate and print the plan; run nothing")
    _executor_options(sweep)
    sweep.set_defaults(func=_sweep)

    results = sub.add_parser("results", help="summarize a results folder")
    results.add_argument("folder", help="results folder written by sweep or compare")
    results.add_argument("--max-rows", type=int, default=30, help="arms to list (default 30)")
    results.set_defaults(func=_results)

    compare = sub.add_parser(
        "compare", help="replicate scenarios and compare them with confidence intervals",
        description="Run --reps replications of each scenario (common seeds) into --out, or read --results DIR, and "
                    "report return and integration rates with CIs, paired differences to the first scenario and "
                    "effect sizes; writes a markdown report with figures.")
    compare.add_argument("scenarios", nargs="*",
                         help="scenario files (the first is the reference); with --results: scenario names to compare")
    compare.add_argument("--reps", type=int, default=10, help="replications per scenario (default 10)")
    compare.add_argument("--seed", type=int, default=0, help="base seed: replicate r uses seed + r (default 0)")
    compare.add_argument("--scale", type=float, help="persons per agent (default: each scenario's)")
    compare.add_argument("--months", type=int, help="months to simulate (default: each scenario's)")
    compare.add_argument("--out", help="results folder to write (default: results/compare-<scenarios>)")
    compare.add_argument("--results", metavar="DIR", help="read this results folder instead of running")
    compare.add_argument("--report", metavar="DIR", help="report folder (default: <results folder>/report)")
    compare.add_argument("--dates", help="months to report, YYYY-MM,YYYY-MM (default: the end and 12 and 24 months before)")
    compare.add_argument("--confidence", type=float, default=0.95, help="confidence level of intervals (default 0.95)")
    compare.add_argument("--target-half-width", type=float, default=0.005,
                         help="CI half-width (as a share: 0.005 = 0.5 pp) for the replications-needed table")
    _executor_options(compare)
    compare.set_defaults(func=_compare)
