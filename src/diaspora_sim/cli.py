"""Command line: run, check, schema, plot (and the commands of experiment_cli and validation_cli)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .core.files import OutputError, check_output_folder
from .scenario import ScenarioError, load_scenario, with_run

EXIT_BAD_INPUT = 2


def _run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .model import DiasporaModel
    from .outputs import summary, write_run
    from .schema import CATEGORIES

    sc = load_scenario(args.scenario, args.set)
    # A longer run extends the scenario; a shorter one stops early, so the resolved scenario
    # keeps its full timeline and re-running it reproduces these months.
    if args.months is not None and args.months < 1:
        with_run(sc, months=args.months)  # raises the validation error
    longer = args.months if args.months is not None and args.months > sc.run.months else None
    sc = with_run(sc, seed=args.seed, scale=args.scale, months=longer)
    out = Path(args.out) if args.out else Path("runs") / f"{Path(args.scenario).stem}-seed{sc.run.seed}"
    check_output_folder(out, kind="run", overwrite=args.overwrite)  # before the work, not after it
    model = DiasporaModel(sc, months=args.months if longer is None else None)
    try:
        # The bar appears only for runs that last more than two seconds.
        with tqdm(total=model.months, unit="month", delay=2, disable=args.quiet, file=sys.stderr) as bar:
            while model.running:
                model.step()
                bar.update(1)
        write_run(model, out, source=str(args.scenario), overrides=list(args.set), figures=not args.no_figures,
                  overwrite=args.overwrite)
        result = summary(model)
    finally:
        model.release()
    if not args.quiet:
        print(f"{sc.title or args.scenario}: {result['date']}, seed {sc.run.seed}, "
              f"scale {sc.run.scale:g} persons/agent")
        print(f"{'category':<22}{'ever left':>12}{'return rate':>13}{'integration':>13}")
        for cat in CATEGORIES:
            row = result["by_category"][cat]
            print(f"{cat:<22}{row['ever_left'] or 0:>12,.0f}{_pct(row['return_rate'])}{_pct(row['integration_rate'])}")
        print(f"{'ALL':<22}{result['ever_left'] or 0:>12,.0f}{_pct(result['return_rate'])}"
              f"{_pct(result['integration_rate'])}")
        print(f"wrote {out}")
    return 0


def _pct(value: float | None) -> str:
    return f"{'n/a':>13}" if value is None else f"{value:>12.1%} "


def _check(args: argparse.Namespace) -> int:
    status = 0
    for path in args.files:
        try:
            sc = load_scenario(path, args.set)
            print(f"{path}: ok ({len(sc.hosts)} hosts, {len(sc.population.waves)} waves, "
                  f"{len(sc.timeline)} events, {sc.run.start} to {sc.end_month()})")
        except ScenarioError as exc:
            print(exc, file=sys.stderr)
            status = EXIT_BAD_INPUT
    return status


def _schema(args: argparse.Namespace) -> int:
    if args.markdown:
        from .reference import parameters_markdown

        print(parameters_markdown())
    else:
        from .scenario import json_schema

        print(json.dumps(json_schema(), indent=2))
    return 0


def _plot(args: argparse.Namespace) -> int:
    from .plots import compare_runs

    missing = [d for d in args.runs if not (Path(d) / "timeseries.parquet").exists()]
    if missing:
        print(f"not a run folder (no timeseries.parquet): {', '.join(missing)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = compare_runs([Path(d) for d in args.runs], Path(args.out))
    print(f"wrote {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m diaspora_sim`."""
    parser = argparse.ArgumentParser(
        prog="python -m diaspora_sim",
        description="Simulate Russia's post-2022 emigrants under the policies of a scenario file.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a scenario and write a run folder")
    run.add_argument("scenario", help="scenario YAML file")
    run.add_argument("--seed", type=int, help="seed of every random stream (default: the file's run.seed)")
    run.add_argument("--scale", type=float, help="persons per agent; 1 simulates every person")
    run.add_argument("--months", type=int,
                     help="months to simulate (fewer than run.months stops early; more extends the run)")
    run.add_argument("--out", help="run folder to write (default: runs/<scenario>-seed<N>)")
    run.add_argument("--overwrite", action="store_true",
                     help="replace the run folder if it exists and was written by this tool (never anything else)")
    run.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                     help="override a scenario field, e.g. hosts.DE.entry.humanitarian_visa=true")
    run.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    run.set_defaults(func=_run)

    check = sub.add_parser("check", help="validate scenario files")
    check.add_argument("files", nargs="+")
    check.add_argument("--set", action="append", default=[], metavar="PATH=VALUE")
    check.set_defaults(func=_check)

    schema = sub.add_parser("schema", help="print the scenario JSON Schema")
    schema.add_argument("--markdown", action="store_true", help="print the parameter reference instead")
    schema.set_defaults(func=_schema)

    plot = sub.add_parser("plot", help="overlay run folders in one comparison figure")
    plot.add_argument("runs", nargs="+", help="run folders")
    plot.add_argument("--out", default="comparison.png", help="figure to write")
    plot.set_defaults(func=_plot)

    from .experiment_cli import add_commands  # sweep, results, compare

    add_commands(sub)

    from .validation_cli import add_commands as add_validation_commands  # validate, calibrate

    add_validation_commands(sub)
    __import__("diaspora_sim.dashboard.cli", fromlist=["add_commands"]).add_commands(sub)  # dashboard
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for bad input)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ScenarioError, OutputError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
