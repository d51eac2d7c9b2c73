"""Command line of validation and calibration: validate, calibrate (registered by cli.build_parser)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

from ..core.errors import InputError
from .common import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_RUNS_FAILED, execute, executor_options, executor_problem


def _command(name: str, args: argparse.Namespace, positional: list[str], options: dict[str, object]) -> str:
    """The command line that reproduces this run (options at their given values, None left out)."""
    parts = ["python", "-m", "diaspora_sim", name, *positional]
    for opt, value in options.items():
        if value is None or value is False:
            continue
        parts += [opt] if value is True else [opt, str(value)]
    return shlex.join(parts)


OPTIONS = {"reps": "--reps", "tolerance": "--tolerance", "replications": "--reps", "seed": "--seed",
           "months": "--months", "scale": "--scale"}
"""Command-line options of the fields of validation settings, for messages."""


def _as_options(exc: InputError) -> InputError:
    """The error with its field paths shown as the options that set them."""
    return InputError([replace(p, path=OPTIONS.get(p.path, p.path)) for p in exc.problems], exc.what)


def _validate(args: argparse.Namespace) -> int:
    from ..core.files import check_output_folder
    from ..experiments.folder import check_results_folder
    from ..validation.fit import fit_results
    from ..validation.plan import plan_validation
    from ..validation.report import headline, run_meta, write_report
    from ..validation.targets import DEFAULT_PATH, default_scenario

    given_targets, args.targets = args.targets, args.targets or str(DEFAULT_PATH)
    try:
        vp = plan_validation(args.targets, Path(args.scenario) if args.scenario else Path(_shown(default_scenario(args.targets))),
                             reps=args.reps, seed=args.seed, scale=args.scale, months=args.months, tolerance=args.tolerance)
    except InputError as exc:
        raise _as_options(exc) from None
    out = Path(args.out) if args.out else Path("results") / f"validate-{vp.scenario_file.stem}"
    check_results_folder(out)  # before any run: a new path, an empty folder or a results folder to resume
    if args.report:  # an explicit report folder that exists is replaced only with --overwrite
        check_output_folder(Path(args.report), kind="validation-report", overwrite=args.overwrite, option="--report")
    started = time.perf_counter()
    status = execute(vp.plan, out, args)
    seconds = time.perf_counter() - started
    if status != 0:
        if status == EXIT_RUNS_FAILED:
            print("validate: no report (some runs failed)", file=sys.stderr)
        return status
    v = fit_results(out, vp.targets, tolerance=args.tolerance, confidence=args.confidence,
                    scenario=str(vp.scenario_file), notes=vp.notes)
    v.meta.update(run_meta(vp.plan, out, seconds, _shown(args.targets)))
    v.meta["command"] = _command("validate", args, [str(vp.scenario_file)], {
        "--reps": args.reps, "--seed": args.seed, "--scale": args.scale, "--months": args.months,
        "--targets": given_targets, "--out": str(out)})
    report = write_report(v, Path(args.report) if args.report else out / "report")
    print(headline(v))
    print(f"report: {report / 'report.md'} ({seconds:.1f} s for the runs)")
    return 0


def _shown(path: str | Path) -> str:
    """A path as shown in reports: relative to the current folder when it lies below it."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _calibrate_command(args: argparse.Namespace, scenario_file: Path, out: Path) -> str:
    """The command line that reproduces a calibration."""
    command = _command("calibrate", args, [str(scenario_file)], {
        "--params": args.params, "--particles": args.particles, "--generations": args.generations,
        "--scale": args.scale, "--seed": args.seed, "--months": args.months,
        "--max-simulations": args.max_simulations, "--out": str(out), "--scenario-out": args.scenario_out})
    command += "".join(f" --exclude-target {t}" for t in args.exclude_target)
    return command + "".join(f" --include-target {t}" for t in args.include_target)


def _print_calibration(result) -> None:  # noqa: ANN001 - a calibration.calibrate.Calibration
    """The result of a calibration, for the terminal."""
    from ..calibration.report import made_text, round_sig

    m, a = result.meta, result.setup.config.abc
    print(f"calibrated {len(result.setup.names)} parameters in {m['seconds'] / 60:.1f} min ({m['simulations']} vectors "
          f"x {a.replicates} runs; {made_text(m)}); {m['stop_reason']}")
    for r in result.summary.itertuples():
        print(f"  {r.parameter:<28} median {round_sig(r.median):<10g} 90% CI [{round_sig(r.q05, 3):g}, "
              f"{round_sig(r.q95, 3):g}]  prior [{r.prior_low:g}, {r.prior_high:g}]")
    print(f"distance ({a.distance}): {m['distance_base']:.3f} with the scenario's values, {m['distance_median']:.3f} "
          "with the posterior medians")
    print(f"posterior: {result.folder}; calibrated scenario: {result.scenario}")


def _check_calibration_folder(out: Path, create: bool) -> None:
    """InputError unless `out` can hold a calibration: a new path, or a folder to resume (its runs/ are
    results folders, its posterior/ a posterior folder: each checked when written); with `create`,
    the folder is made.
    """
    from ..core.errors import input_error
    from ..core.files import check_output_folder, os_reason

    if not os.path.lexists(out):
        check_output_folder(out, kind="calibration")  # the name, the parents, the permission
    elif out.is_symlink() or not out.is_dir():
        raise input_error(f"--out {out}: exists and is not a folder; give a new path (nothing was written)",
                          what="output path")
    elif not os.access(out, os.W_OK | os.X_OK):
        raise input_error(f"--out {out}: cannot write there (permission denied)", what="output path")
    if create:
        try:
            (out / "runs").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise input_error(f"--out {out}: cannot write there: {os_reason(exc)}", what="output path") from None


def _print_calibration_plan(setup, out: Path) -> None:  # noqa: ANN001 - a calibration.setup.Setup
    """What `calibrate --dry-run` prints: the checked parameters, targets, seeds and the most runs."""
    a = setup.config.abc
    print(f"{setup.params_file}: ok against {setup.scenario_file}: {len(setup.names)} parameters, "
          f"{len(setup.in_sample)} in-sample targets, {len(setup.holdout)} holdouts")
    for p, paths in zip(setup.config.parameters, setup.concrete, strict=True):
        print(f"  {p.name}: prior [{p.prior.low:g}, {p.prior.high:g}], {len(paths)} path(s): {', '.join(paths[:3])}"
              + (" ..." if len(paths) > 3 else ""))
    print(f"ABC-SMC: {a.particles} particles, at most {a.generations} generations and {a.max_simulations} vectors x "
          f"{a.replicates} runs (seeds {', '.join(map(str, setup.seeds))}) = at most "
          f"{a.max_simulations * a.replicates:,} runs of {setup.months} months; results would go to {out}")


def _calibrate(args: argparse.Namespace) -> int:
    from ..calibration.calibrate import calibrate
    from ..calibration.screening import screen, write_screen
    from ..calibration.setup import prepare
    from ..calibration.simulate import RunOptions, RunsFailedError
    from ..validation.targets import default_scenario

    scenario_file = Path(args.scenario) if args.scenario else Path(_shown(default_scenario()))
    overrides = {k: v for k, v in {"particles": args.particles, "generations": args.generations, "scale": args.scale,
                                   "seed": args.seed, "months": args.months,
                                   "max_simulations": args.max_simulations}.items() if v is not None}
    setup = prepare(args.params, scenario_file, overrides=overrides, exclude=args.exclude_target,
                    include=args.include_target)  # InputError: exit 2 in cli.main
    if (problem := executor_problem(args)) is not None:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    out = Path(args.out) if args.out else Path("results") / f"calibrate-{Path(args.params).stem}"
    _check_calibration_folder(out, create=not args.dry_run)
    if args.dry_run:
        _print_calibration_plan(setup, out)
        return 0
    opts = RunOptions(args.executor, args.workers, args.scheduler, args.retries, progress=not args.quiet)
    log = (lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr))
    for note in setup.notes:
        log(f"note: {note}")
    a = setup.config.abc
    log(f"{len(setup.names)} parameters, {len(setup.in_sample)} in-sample targets, {len(setup.holdout)} holdouts; "
        f"seeds {setup.seeds}, scale {a.scale if a.scale is None else f'{a.scale:g}'}, "
        f"{setup.months} months; results in {out}")
    try:
        if args.screen:
            started = time.perf_counter()
            print(write_screen(setup, screen(setup, out, opts), out))
            print(f"screen: {out / 'screen.md'} ({time.perf_counter() - started:.1f} s)")
            return 0
        result = calibrate(setup, out, opts=opts, scenario_out=args.scenario_out,
                           command=_calibrate_command(args, scenario_file, out), log=log)
    except RunsFailedError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INTERRUPTED if "interrupted" in str(exc) else EXIT_RUNS_FAILED
    except KeyboardInterrupt:
        print("interrupted: re-run the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    _print_calibration(result)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the validate and calibrate commands."""
    v = sub.add_parser(
        "validate", help="replicate a scenario and compare it with the observed targets",
        description="Run --reps replications of the scenario (default: the baseline of the targets file) through the "
                    "experiments runner and report, for every target of data/targets.yaml, the model's value with its "
                    "CI, the observed value, the relative difference and a verdict; the averaged relative difference "
                    "(ARD) of the model and of naive baselines; a figure per target (docs/validation.md).")
    v.add_argument("scenario", nargs="?", help="scenario YAML file (default: the targets file's baseline)")
    v.add_argument("--reps", type=int, default=20, help="replications (default 20)")
    v.add_argument("--seed", type=int, default=1,
                   help="base seed: replicate r uses seed + r (default 1, as every command; the shipped calibration "
                        "runs seeds 1001-1002)")
    v.add_argument("--scale", type=float, help="persons per agent (default: the scenario's)")
    v.add_argument("--months", type=int, help="months to simulate (default: up to the last month a target reads)")
    v.add_argument("--targets", help="targets file (default: data/targets.yaml of this checkout)")
    v.add_argument("--tolerance", type=float, default=0.25,
                   help="a point target is matched within this relative difference (default 0.25)")
    v.add_argument("--confidence", type=float, default=0.95, help="confidence level of intervals (default 0.95)")
    v.add_argument("--out", help="results folder of the runs (default results/validate-<scenario>)")
    v.add_argument("--report", metavar="DIR", help="report folder (default <results folder>/report, replaced on "
                   "every validation)")
    v.add_argument("--overwrite", action="store_true",
                   help="replace the --report folder if it exists and is a validation report this tool wrote")
    executor_options(v)
    v.set_defaults(func=_validate)

    c = sub.add_parser(
        "calibrate", help="fit declared parameters to the targets by ABC-SMC",
        description="Fit the parameters declared in --params (paths and uniform priors) to the in-sample targets of "
                    "data/targets.yaml by ABC-SMC, running the simulations through the experiments runner. Writes the "
                    "posterior (particles, summary with 90%% credible intervals, figure) to <out>/posterior/ and a "
                    "calibrated scenario that extends SCENARIO with the posterior medians. Re-running resumes.")
    c.add_argument("scenario", nargs="?", help="scenario YAML file (default: the targets file's baseline)")
    c.add_argument("--params", required=True, help="calibration parameter file (e.g. calibration/baseline_params.yaml)")
    c.add_argument("--out", help="output folder (default results/calibrate-<params file name>)")
    c.add_argument("--scenario-out", metavar="FILE",
                   help="also write the calibrated scenario here (it is always written to <out>/posterior/)")
    c.add_argument("--dry-run", action="store_true",
                   help="check the parameter file against the scenario and the targets, print the plan; run nothing")
    c.add_argument("--screen", action="store_true",
                   help="instead of calibrating, run each parameter at the ends of its prior and list the targets it moves")
    c.add_argument("--particles", type=int, help="override abc.particles")
    c.add_argument("--generations", type=int, help="override abc.generations")
    c.add_argument("--max-simulations", type=int, help="override abc.max_simulations")
    c.add_argument("--scale", type=float, help="override abc.scale")
    c.add_argument("--months", type=int, help="override abc.months")
    c.add_argument("--seed", type=int, help="override abc.seed (the sampler's seed)")
    c.add_argument("--exclude-target", action="append", default=[], metavar="ID",
                   help="leave this in-sample target out of the distance too (repeatable; adds to targets.exclude)")
    c.add_argument("--include-target", action="append", default=[], metavar="ID",
                   help="use this target although the parameter file's targets.exclude lists it (repeatable)")
    executor_options(c)
    c.set_defaults(func=_calibrate)
