"""The results folder of a sweep: its layout, its manifest, and which runs it holds.

A results folder holds

- ``manifest.json``: the plan (experiment, scenarios with their SHA-256, points, seeds, run
  ids), the model code's fingerprint and library versions; written before any run;
- ``scenarios/<name>.yaml``: each scenario as resolved for the experiment;
- ``runs/<run_id>.parquet``: the run's tidy time series (the kept outputs) with its
  identifying columns;
- ``summary/<run_id>.parquet``: one row of end-of-run figures with the same identifying
  columns. It is written last: a run is complete when its summary file exists;
- ``failed/<run_id>.json``: the traceback of a run that raised (removed once it succeeds);
- ``log.jsonl``: one line per finished attempt (time, worker, seconds): the only file whose
  content depends on when and where runs happened.

Every file is written under a temporary name (``.<name>.tmp-<pid>``, ignored by readers) and
renamed into place, so a crash or ``kill -9`` leaves complete files only.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from .. import __version__
from ..core.errors import InputError, input_error
from ..core.files import write_atomic
from ..core.hashing import code_fingerprint

if TYPE_CHECKING:
    from .plan import Plan

MANIFEST = "manifest.json"
RESULTS = "results folder"
FORMAT = 1


def default_folder(name: str) -> Path:
    """Where the results of the experiment `name` go unless told: results/<name>."""
    return Path("results") / name


def comparison_folder(files: list[str | Path]) -> Path:
    """Where `compare FILES` writes unless told: results/compare-<stems joined by +> (hashed when long)."""
    stems = "+".join(Path(s).stem for s in files)
    if len(stems) > 80:
        stems = f"{len(files)}-scenarios-{hashlib.sha256(stems.encode()).hexdigest()[:8]}"
    return default_folder(f"compare-{stems}")


def results_error(message: str) -> InputError:
    """The error for a folder that is not a results folder, or lacks what is asked of it."""
    return input_error(message, what=RESULTS)


def _versions() -> dict[str, str]:
    # SALib makes the design points (their values enter the run ids)
    return {"diaspora_sim": __version__, "mesa": version("mesa"), "numpy": np.__version__, "SALib": version("SALib"),
            "pyarrow": pa.__version__, "python": platform.python_version()}


def manifest_for(plan: Plan) -> dict[str, Any]:
    """The manifest of a plan's results folder (no dates or timings: it is identical on every resume)."""
    return {"format": FORMAT, "code_fingerprint": code_fingerprint(), "versions": _versions(), **plan.describe()}


def completed_ids(out: Path) -> set[str]:
    """Ids of the completed runs in a results folder (those with a summary file)."""
    folder = Path(out) / "summary"
    return {p.name[: -len(".parquet")] for p in folder.glob("*.parquet")} if folder.is_dir() else set()


def prepare_folder(plan: Plan, out: Path) -> set[str]:
    """Create or reopen the results folder for `plan`; returns the ids already completed.

    A folder made for another experiment is refused: its completed runs must all belong to
    this plan (adding replications is fine), with the same outputs and model code.
    """
    out = Path(out)
    manifest = manifest_for(plan)
    old_path = out / MANIFEST
    done = completed_ids(out)
    if old_path.exists():
        old = json.loads(old_path.read_text(encoding="utf-8"))
        hint = f"use another --out, or delete {out} to start again"
        if old.get("code_fingerprint") != manifest["code_fingerprint"] and done:
            raise input_error(f"{out} holds runs made by other model code (fingerprint {old.get('code_fingerprint')}, "
                             f"now {manifest['code_fingerprint']}); mixing them would mix two models: {hint}", what=RESULTS)
        if old.get("experiment", {}).get("outputs") != manifest["experiment"]["outputs"] and done:
            raise input_error(f"{out} holds runs that kept other outputs: {hint}", what=RESULTS)
        if old.get("parameters") != manifest["parameters"] and done:
            raise input_error(f"{out} holds runs with other parameters: {hint}", what=RESULTS)
    elif out.exists() and any(out.iterdir()):
        raise input_error(f"{out} exists and is not a results folder (no {MANIFEST}): use another --out", what=RESULTS)
    foreign = done - {t.run_id for t in plan.tasks}
    if foreign:
        raise input_error(f"{out} holds {len(foreign)} completed runs that are not in this experiment's plan "
                         f"(another experiment, or fewer replications or points): use another --out", what=RESULTS)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())  # first: the folder is ours
    for sub in ("runs", "summary", "failed", "scenarios"):
        (out / sub).mkdir(exist_ok=True)
    for tmp in out.glob("*/.*.tmp-*"):  # left by a crash
        tmp.unlink(missing_ok=True)
    for name, spec in plan.scenarios.items():
        write_atomic(out / "scenarios" / f"{name}.yaml", spec.yaml.encode())
    return done


def failed_runs(out: Path) -> Iterable[dict[str, Any]]:
    """The failure records of a results folder (runs not completed since)."""
    done = completed_ids(out)
    for path in sorted((Path(out) / "failed").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc["run_id"] not in done:
            yield doc
