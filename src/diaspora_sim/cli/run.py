"""Commands of single runs and scenario files: run, check, schema, plot. Handlers import what they run when they run."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import EXIT_BAD_INPUT

if TYPE_CHECKING:
    from ..scenario.schema import Scenario


def _run(args: argparse.Namespace) -> int:
    from .. import api
    from ..core.files import check_output_folder

    sc = api.load_scenario(args.scenario, args.set)
    seed = sc.run.seed if args.seed is None else args.seed
    out = Path(args.out) if args.out else Path("runs") / f"{Path(args.scenario).stem}-seed{seed}"
    check_output_folder(out, kind="run", overwrite=args.overwrite)  # before the work, not after it
    done = api.run(sc, seed=args.seed, months=args.months, scale=args.scale, progress=not args.quiet)
    try:
        done.save(out, figures=not args.no_figures, overwrite=args.overwrite, source=str(args.scenario),
                  overrides=args.set)
        result = done.summary
    finally:
        done.release()
    if not args.quiet:
        _print_summary(done.scenario, args.scenario, result)
        print(f"wrote {out}")
    return 0


SMALL_GROUP = 30
"""Agents below which a group's rates are flagged as too noisy to read (docs/metrics.md)."""


def _print_summary(sc: Scenario, source: str, result: dict[str, Any]) -> None:
    """The end-of-run rates by category, with the agents behind them, 95% Wilson intervals and small-group warnings."""
    from ..analysis.statistics import wilson_interval
    from ..scenario.schema import CATEGORIES

    scale = sc.run.scale
    print(f"{sc.title or source}: {result['date']}, seed {sc.run.seed}, scale {scale:g} persons/agent")
    print(f"{'category':<22}{'ever left':>12}{'agents':>8}  {'return rate [95% CI]':<24}{'integration [95% CI]'}")
    rows = [(cat, result["by_category"][cat]) for cat in CATEGORIES] + [("ALL", result)]
    small = []
    for cat, row in rows:
        agents = round((row["ever_left"] or 0) / scale)
        cells = [_rate(row[k], agents, wilson_interval) for k in ("return_rate", "integration_rate")]
        print(f"{cat:<22}{row['ever_left'] or 0:>12,.0f}{agents:>8}  {cells[0]:<24}{cells[1]:<24}".rstrip())
        if agents < SMALL_GROUP:
            small.append(f"{cat} ({agents})")
    if small:
        print(f"warning: rates of groups of fewer than {SMALL_GROUP} agents are mostly noise: {', '.join(small)}; "
              f"rerun with a smaller --scale (persons per agent) or replicate (`compare`)", file=sys.stderr)
    print("intervals: the share among the group's agents (binomial, Wilson); seed-to-seed variation comes on top")


def _rate(value: float | None, agents: int, wilson: Any) -> str:
    if value is None:
        return "n/a"
    low, high = wilson(value, agents)
    return f"{value:.1%} [{100 * low:.0f}, {100 * high:.0f}]"


def _check(args: argparse.Namespace) -> int:
    from ..core.errors import InputError
    from ..scenario.loading import load_scenario

    status = 0
    for path in args.files:
        try:
            sc = load_scenario(path, args.set)
            print(f"{path}: ok ({len(sc.hosts)} hosts, {len(sc.population.waves)} waves, "
                  f"{len(sc.timeline)} events, {sc.run.start} to {sc.end_month()})")
        except InputError as exc:
            print(exc, file=sys.stderr)
            status = EXIT_BAD_INPUT
    return status


def _schema(args: argparse.Namespace) -> int:
    if args.markdown:
        from ..scenario.reference import parameters_markdown

        print(parameters_markdown())
    else:
        from ..scenario.loading import json_schema

        print(json.dumps(json_schema(), indent=2))
    return 0


def _plot(args: argparse.Namespace) -> int:
    from matplotlib.backend_bases import FigureCanvasBase

    from ..core.errors import input_error
    from ..core.files import write_file
    from ..plots.run import compare_runs

    out = Path(args.out)
    formats = sorted(FigureCanvasBase.get_supported_filetypes())
    if out.suffix.lower().lstrip(".") not in formats:
        raise input_error(f"--out {out}: cannot tell the figure's format from its name; end it in "
                          f"{', '.join('.' + f for f in formats)} (e.g. comparison.png)", what="output path")
    runs = [Path(d) for d in args.runs]
    for run in runs:
        _check_run_folder(run)
    try:
        write_file(out, lambda tmp: compare_runs(runs, tmp), overwrite=args.overwrite)
    except (ValueError, KeyError, OSError, ImportError) as exc:  # pyarrow's errors derive from these
        raise input_error(f"the run folders {', '.join(map(str, runs))} cannot be read as run folders ({exc}); "
                          "a run folder's timeseries.parquet is damaged or was not written by `run`",
                          what="run folder") from None
    print(f"wrote {out}")
    return 0


def _check_run_folder(run: Path) -> None:
    """InputError unless `run` is a run folder with a readable time series (saying what it is otherwise)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..core.errors import input_error
    from ..core.files import read_manifest

    expects = "`plot` expects run folders written by `run`"
    if not run.is_dir():
        raise input_error(f"{run}: {'no such folder' if not run.exists() else 'not a folder'}; {expects}",
                          what="run folder")
    manifest = read_manifest(run)
    kind = manifest.get("kind", "run") if manifest else None
    if kind not in (None, "run") or (run / "summary").is_dir() and (run / "runs").is_dir():
        what = "a results folder (written by `sweep`, `compare` or `validate`)" if kind in (None, "results") \
            else f"a {kind} folder"
        raise input_error(f"{run} is {what}, not a run folder; {expects} (`results` or `compare --results` read "
                          "results folders)", what="run folder")
    series = run / "timeseries.parquet"
    if not series.is_file():
        raise input_error(f"{run} is not a run folder (no timeseries.parquet); {expects}", what="run folder")
    try:
        names = set(pq.read_schema(series).names)
    except (pa.ArrowException, OSError) as exc:
        raise input_error(f"{series} is damaged (not a readable Parquet file: {exc}); run the scenario again",
                          what="run folder") from None
    missing = {"date", "host", "category", "metric", "value"} - names
    if missing:
        raise input_error(f"{series} lacks the columns {', '.join(sorted(missing))}; it was not written by `run`",
                          what="run folder")


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the run, check, schema and plot commands."""
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
                     help="override a scenario field, e.g. hosts.DE.stay.renewal_probability=0.5")
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
    plot.add_argument("--out", default="comparison.png",
                      help="figure to write; its suffix gives the format (.png, .pdf, .svg, ...; default comparison.png)")
    plot.add_argument("--overwrite", action="store_true", help="replace the figure file if it exists")
    plot.set_defaults(func=_plot)
