"""A calibration from start to end: ABC-SMC over the parameters of a prepared setup, the check of
the scenario's own values and of the posterior medians, and the posterior folder.

The sampler (:mod:`.abc`) simulates its proposals through the experiments runner
(:mod:`.simulate`), each batch in ``out/runs/<tag>/``; its random numbers depend on ``abc.seed``,
the generation and the batch only, so the same file, scenario and seed give the same posterior,
and an interrupted calibration resumes from the runs on disk.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..core.files import check_output_folder
from ..core.hashing import code_fingerprint
from .abc import ABCResult, abc_smc
from .report import POSTERIOR, rel_path, round_sig, scenario_header, write_posterior, write_scenario
from .setup import Setup
from .simulate import RunOptions, simulate_points


@dataclass
class Calibration:
    """What a calibration produced."""

    setup: Setup
    result: ABCResult
    summary: pd.DataFrame
    medians: dict[str, float]
    meta: dict[str, Any] = field(default_factory=dict)
    folder: Path | None = None
    scenario: Path | None = None


def posterior_medians(setup: Setup, summary: pd.DataFrame) -> dict[str, float]:
    """The values written to the calibrated scenario: the posterior medians to 4 significant digits
    (kept within the prior range).
    """
    lows, highs = dict(zip(setup.names, setup.lows, strict=True)), dict(zip(setup.names, setup.highs, strict=True))
    return {r.parameter: float(min(max(round_sig(r.median), lows[r.parameter]), highs[r.parameter]))
            for r in summary.itertuples()}


def calibration_meta(setup: Setup, result: ABCResult, check: pd.DataFrame, out: Path, opts: RunOptions,
                     command: str, seconds: float) -> dict[str, Any]:
    """What the summary and the calibrated scenario's header state about how they were made."""
    return {
        "command": command, "date": datetime.now(UTC).strftime("%Y-%m-%d"), "version": __version__,
        "code_fingerprint": code_fingerprint(), "seconds": seconds, "simulations": result.simulations,
        "months": setup.months, "stop_reason": result.stop_reason,
        "generations": result.generations, "targets_file": rel_path(setup.targets_file),
        "distance_base": float(check["distance"].iloc[0]), "distance_median": float(check["distance"].iloc[1]),
        "check_values": json.loads(check.to_json(orient="records")),
        "posterior": rel_path(out / POSTERIOR), "runs_made": opts.runs_made, "runs_reused": opts.runs_reused,
    }


def calibrate(setup: Setup, out: str | Path, *, opts: RunOptions | None = None, scenario_out: str | Path | None = None,
              command: str = "", log: Callable[[str], None] | None = None) -> Calibration:
    """Run the ABC-SMC calibration; write ``out/posterior/`` (atomically) and the calibrated scenario
    (also to `scenario_out` when given). The runs are kept in ``out/runs/``.
    """
    out = Path(out)
    opts = opts or RunOptions()
    log = log or (lambda s: print(s, file=sys.stderr))
    check_output_folder(out / POSTERIOR, kind=POSTERIOR, overwrite=True, option="posterior folder")
    (out / "runs").mkdir(parents=True, exist_ok=True)

    def simulate(points: np.ndarray, tag: str) -> pd.DataFrame:
        return simulate_points(setup, points, tag, out / "runs" / tag, opts)

    started = time.perf_counter()
    result = abc_smc(simulate, setup.names, setup.lows, setup.highs, setup.config.abc, log)
    summary = result.summary()
    medians = posterior_medians(setup, summary)
    check = simulate(np.array([setup.base_values, [medians[n] for n in setup.names]]), "check")
    meta = calibration_meta(setup, result, check, out, opts, command, time.perf_counter() - started)
    folder = write_posterior(setup, result, medians, meta, out / POSTERIOR)
    scenario = folder / "calibrated_scenario.yaml"
    if scenario_out is not None:
        scenario = write_scenario(setup, medians, Path(scenario_out), scenario_header(setup, summary, meta))
    return Calibration(setup, result, summary, medians, meta, folder, scenario)


__all__ = ["Calibration", "calibrate", "calibration_meta", "posterior_medians"]
