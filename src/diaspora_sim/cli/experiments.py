"""Commands of experiments: sweep, results, compare, sensitivity, discover. Handlers import what they run when they run."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from .common import EXIT_BAD_INPUT, EXIT_RUNS_FAILED, execute, executor_options


def _sweep(args: argparse.Namespace) -> int:
    from ..experiments.folder import check_results_folder, default_folder
    from ..experiments.posterior import plan_experiment
    from ..experiments.spec import load_experiment

    exp = load_experiment(args.experiment)
    plan = plan_experiment(exp, args.experiment)
    out = Path(args.out) if args.out else default_folder(plan.name)
    check_results_folder(out)  # a new path, an empty folder or a results folder to resume: refused before any run
    if args.dry_run:
        points = (f"{exp.replications} replications over {len(plan.points)} posterior draws" if exp.posterior
                  else f"{len(plan.points)} points x {exp.replications} replications")
        print(f"{plan.name}: {len(plan.scenarios)} scenarios x {points} = {len(plan.tasks)} runs, "
              f"seeds {exp.seed} to {exp.seed + exp.replications - 1}; results would go to {out}")
        for name, spec in plan.scenarios.items():
            print(f"  {name}: {spec.file}, scale {spec.data['run']['scale']:g}, {spec.months} months")
        for w in plan.warnings:
            print(f"warning: {w}", file=sys.stderr)
        return 0
    status = execute(plan, out, args)
    if status in (0, EXIT_RUNS_FAILED) and not args.quiet:
        from ..analysis.report import results_text
        from ..experiments.results import Results

        print(results_text(Results.open(out)))
    return status


def _results(args: argparse.Namespace) -> int:
    from ..analysis.report import results_text
    from ..experiments.results import Results

    results = Results.open(args.folder)
    with _reading(results.path):
        print(results_text(results, max_rows=args.max_rows))
    return 0


@contextlib.contextmanager
def _reading(folder: Path) -> Iterator[None]:
    """Errors of the Parquet reader on a damaged results folder, as a message."""
    import pyarrow as pa

    from ..experiments.results import damaged

    try:
        yield
    except (pa.ArrowException, OSError) as exc:
        raise damaged(folder, "runs", exc) from None


def _compare(args: argparse.Namespace) -> int:
    from ..analysis.arms import available_dates, parse_dates
    from ..analysis.comparison import compare
    from ..analysis.report import headline_text, write_report
    from ..core.files import check_output_folder
    from ..experiments.results import Results

    status = 0
    if args.report:  # an explicit report folder that exists is replaced only with --overwrite (checked before the runs)
        check_output_folder(Path(args.report), kind="comparison-report", overwrite=args.overwrite, option="--report")
    if args.results:
        folder = Path(args.results)
        names = args.scenarios or None
        Results.open(folder)  # what the folder is, before anything else
    else:
        if not args.scenarios:
            print("compare: give scenario files, or --results DIR", file=sys.stderr)
            return EXIT_BAD_INPUT
        folder, status = _run_comparison(args)
        if status not in (0, EXIT_RUNS_FAILED):
            return status
        names = None
    results = Results.open(folder)
    with _reading(folder):
        dates = parse_dates(args.dates, available_dates(results)) if args.dates else None
        cmp = compare(results, names, dates, confidence=args.confidence, target=args.target_half_width)
    report = write_report(cmp, Path(args.report) if args.report else folder / "report")
    print(headline_text(cmp))
    print(f"report: {report}")
    return status


def _run_comparison(args: argparse.Namespace) -> tuple[Path, int]:
    """Replicate the scenario files of `compare`; the results folder and the exit status."""
    from ..core.errors import InputError
    from ..experiments.folder import comparison_folder
    from ..experiments.posterior import plan_experiment
    from ..experiments.spec import COMPARISON_OPTIONS, comparison_experiment

    folder = Path(args.out) if args.out else comparison_folder(args.scenarios)
    try:
        exp = comparison_experiment(args.scenarios, replications=args.reps, seed=args.seed, months=args.months,
                                    scale=args.scale, posterior=args.posterior)
    except InputError as exc:
        for problem in exc.problems:
            print(f"compare: {COMPARISON_OPTIONS.get(problem.path, problem.path)}: {problem.message}", file=sys.stderr)
        return folder, EXIT_BAD_INPUT
    return folder, execute(plan_experiment(exp, name="compare"), folder, args)


def _sensitivity(args: argparse.Namespace) -> int:
    from ..analysis.arms import available_dates, parse_dates
    from ..analysis.sensitivity import sensitivity_of
    from ..analysis.sensitivity_report import sensitivity_text, write_sensitivity
    from ..experiments.results import Results

    results = Results.open(args.folder)
    dates = parse_dates(args.at, available_dates(results)) if args.at else None
    sens = sensitivity_of(results, args.output, args.effect, dates)
    name = args.output + (f"-{args.effect}" if args.effect else "")
    out = Path(args.out) if args.out else results.path / "sensitivity" / name
    report = write_sensitivity(sens, out, results.path)
    print(sensitivity_text(sens))
    print(f"report: {report}")
    return 0


def _discover(args: argparse.Namespace) -> int:
    from ..analysis.arms import available_dates, parse_dates
    from ..analysis.discovery_report import discover, discovery_text, write_discovery
    from ..experiments.results import Results

    results = Results.open(args.folder)
    at = parse_dates(args.at, available_dates(results))[-1] if args.at else None
    found = discover(results, args.output, args.where, effect=args.effect, scenario=args.scenario, at=at,
                     threshold=args.threshold, with_cart=args.cart)
    name = args.output + (f"-{args.effect}" if args.effect else f"-{args.scenario}" if args.scenario else "")
    out = Path(args.out) if args.out else results.path / "discovery" / name
    report = write_discovery(found, out, results.path)
    print(discovery_text(found))
    print(f"report: {report}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the sweep, results and compare commands."""
    sweep = sub.add_parser("sweep", help="run an experiment file (resumes an interrupted sweep)",
                           description="Run every run of an experiment into a results folder. Re-running the same "
                                       "command resumes: completed runs are skipped, failed ones retried.")
    sweep.add_argument("experiment", help="experiment YAML file (docs/experiments.md)")
    sweep.add_argument("--out", help="results folder (default: results/<experiment name>)")
    sweep.add_argument("--dry-run", action="store_true", help="check the experiment and print the plan; run nothing")
    executor_options(sweep)
    sweep.set_defaults(func=_sweep)

    results = sub.add_parser("results", help="summarize a results folder")
    results.add_argument("folder", help="results folder written by sweep or compare")
    results.add_argument("--max-rows", type=int, default=30, help="arms to list (default 30)")
    results.set_defaults(func=_results)

    sens = sub.add_parser(
        "sensitivity", help="Sobol or Morris indices of an output or a policy effect (SALib)",
        description="Global sensitivity indices of a results folder of a sobol or morris experiment: Sobol S1 and ST "
                    "with bootstrap intervals, or Morris mu* and sigma, from the mean over replications at each point; "
                    "replication noise reported apart. Writes Parquet, CSV, figures and sensitivity.md.")
    sens.add_argument("folder", help="results folder of a sweep with design sobol or morris")
    sens.add_argument("--output", default="return_rate", help="metric at host ALL, category ALL (default return_rate)")
    sens.add_argument("--effect", metavar="A-B", help="indices of the paired difference of scenario A and scenario B")
    sens.add_argument("--at", metavar="YYYY-MM[,YYYY-MM]", help="months to analyse (default: the last)")
    sens.add_argument("--out", help="report folder (default: <folder>/sensitivity/<output>[-<effect>])")
    sens.set_defaults(func=_sensitivity)

    disc = sub.add_parser(
        "discover", help="scenario discovery: PRIM boxes of the parameters where an output meets a condition",
        description="PRIM on the runs of a sweep: the box of parameter values where --output (or --effect A-B, the "
                    "paired difference of two scenarios) meets --where. Writes the peeling trajectory, the chosen box "
                    "with quasi-p-values, figures and discovery.md.")
    disc.add_argument("folder", help="results folder of a sweep that varies parameters")
    disc.add_argument("--output", default="return_rate", help="metric at host ALL, category ALL (default return_rate)")
    disc.add_argument("--where", required=True, help="condition of interest, e.g. '> 0.02'")
    disc.add_argument("--effect", metavar="A-B", help="the paired difference of scenario A and scenario B")
    disc.add_argument("--scenario", help="scenario whose runs are the cases (default: the first)")
    disc.add_argument("--at", metavar="YYYY-MM", help="month (default: the last)")
    disc.add_argument("--threshold", type=float, default=0.8,
                      help="smallest density of the chosen box (default 0.8; else the densest box)")
    disc.add_argument("--cart", action="store_true", help="also fit a classification tree (needs scikit-learn)")
    disc.add_argument("--out", help="report folder (default: <folder>/discovery/<output>[-<effect>])")
    disc.set_defaults(func=_discover)

    compare = sub.add_parser(
        "compare", help="replicate scenarios and compare them with confidence intervals",
        description="Run --reps replications of each scenario (common seeds) into --out, or read --results DIR, and "
                    "report return and integration rates with CIs, paired differences to the first scenario and "
                    "effect sizes; writes a markdown report with figures.")
    compare.add_argument("scenarios", nargs="*",
                         help="scenario files (the first is the reference); with --results: scenario names to compare")
    compare.add_argument("--reps", type=int, default=10, help="replications per scenario (default 10)")
    compare.add_argument("--seed", type=int, default=1, help="base seed: replicate r uses seed + r (default 1)")
    compare.add_argument("--scale", type=float, help="persons per agent (default: each scenario's)")
    compare.add_argument("--months", type=int, help="months to simulate (default: each scenario's)")
    compare.add_argument("--posterior", metavar="DIR",
                         help="calibration output folder: replication r of every scenario runs at posterior draw "
                              "r // 2 with seed r, and the report adds effects with parameter uncertainty")
    compare.add_argument("--out", help="results folder to write (default: results/compare-<scenarios>)")
    compare.add_argument("--results", metavar="DIR", help="read this results folder instead of running")
    compare.add_argument("--report", metavar="DIR", help="report folder (default: <results folder>/report, replaced "
                         "on every comparison)")
    compare.add_argument("--overwrite", action="store_true",
                         help="replace the --report folder if it exists and is a comparison report this tool wrote")
    compare.add_argument("--dates", help="months to report, YYYY-MM,YYYY-MM (default: the end and 12 and 24 months before)")
    compare.add_argument("--confidence", type=float, default=0.95, help="confidence level of intervals (default 0.95)")
    compare.add_argument("--target-half-width", type=float, default=0.005,
                         help="CI half-width (as a share: 0.005 = 0.5 pp) for the replications-needed table")
    executor_options(compare)
    compare.set_defaults(func=_compare)
