"""The command line, `python -m diaspora_sim COMMAND`: argument parsing and messages only.

One module per command group registers its commands (`run`: run, check, schema, plot;
`experiments`: sweep, results, compare; `validation`: validate, calibrate; the dashboard's `dashboard`). A handler imports
the layers it uses when it runs, so `--help` loads none of them. Bad input of any kind raises
`core.errors.InputError`, printed here with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import TextIO

from ..core.errors import InputError, InputWarning
from ..dashboard import cli as dashboard
from . import experiments, run, validation
from .common import EXIT_BAD_INPUT


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m diaspora_sim`."""
    parser = argparse.ArgumentParser(
        prog="python -m diaspora_sim",
        description="Simulate Russia's post-2022 emigrants under the policies of a scenario file.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run.add_commands(sub)
    experiments.add_commands(sub)
    validation.add_commands(sub)
    dashboard.add_commands(sub)
    return parser


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    """Print a warning of the input as `warning: ...`; other warnings as Python prints them."""
    text = (f"warning: {message}\n" if issubclass(category, InputWarning)
            else warnings.formatwarning(message, category, filename, lineno, line))
    (file or sys.stderr).write(text)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for bad input)."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("always", InputWarning)
        warnings.showwarning = _show_warning
        try:
            return args.func(args)
        except InputError as exc:
            print(exc, file=sys.stderr)
            return EXIT_BAD_INPUT
