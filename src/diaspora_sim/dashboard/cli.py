"""`python -m diaspora_sim dashboard [SCENARIO] [--port N] [--host H]`: serve the dashboard.

Solara and Mesa's visualization are imported only when the command runs.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the `dashboard` subcommand."""
    p = sub.add_parser("dashboard", help="open the browser dashboard (scenario, levers, replications, figures)")
    p.add_argument("scenario", nargs="?", help="scenario file to start with (default: the shipped baseline)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: a free one)")
    p.add_argument("--host", default=DEFAULT_HOST,
                   help=f"address to listen on (default {DEFAULT_HOST}: this machine only)")
    p.add_argument("--open", action="store_true", help="open the page in the default web browser")
    p.set_defaults(func=_dashboard)


def free_port(host: str = DEFAULT_HOST) -> int:
    """A port nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _dashboard(args: argparse.Namespace) -> int:
    if args.scenario:
        if not Path(args.scenario).exists():
            print(f"{args.scenario}: no such file", file=sys.stderr)
            return 2
        os.environ["DIASPORA_DASHBOARD_SCENARIO"] = str(Path(args.scenario).resolve())
    port = args.port or free_port(args.host)
    from solara.__main__ import run  # lazy: only this command needs Solara

    print(f"diaspora_sim dashboard: http://{args.host}:{port}/", flush=True)
    argv = ["diaspora_sim.dashboard.app", "--host", args.host, "--port", str(port), "--production",
            "--open" if args.open else "--no-open", "--log-level", "warning"]
    run.main(args=argv, prog_name="python -m diaspora_sim dashboard", standalone_mode=False)
    return 0
