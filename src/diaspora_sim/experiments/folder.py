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
  content depends on when and where runs happened;
- ``.lock``: locked (``flock``) by the one sweep writing to the folder, which writes its process
  id there and empties it when it ends; a second sweep on the folder is refused at once.

The manifest names the package and the kind (``"package": "diaspora_sim", "kind": "results"``,
as every folder this tool writes: :func:`diaspora_sim.core.files.read_manifest`), so a run
folder, a report or a user's folder is never mistaken for a results folder, and vice versa.
A results folder written before the manifest named its kind is still recognised and resumed.

Every file is written under a temporary name (``.<name>.tmp-<pid>``, ignored by readers) and
renamed into place, so a crash or ``kill -9`` leaves complete files only.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
from collections.abc import Iterable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from .. import __version__
from ..core.errors import InputError, input_error
from ..core.files import PACKAGE, check_output_folder, os_reason, write_atomic
from ..core.hashing import code_fingerprint

if TYPE_CHECKING:
    from .plan import Plan

MANIFEST = "manifest.json"
RESULTS = "results folder"
FORMAT = 1
KIND = "results"
LOCK = ".lock"
KINDS = {
    "run": "a run folder (written by `run`)",
    "comparison-report": "a comparison report (written by `compare`)",
    "validation-report": "a validation report (written by `validate`)",
    "posterior": "a posterior folder (written by `calibrate`)",
    KIND: "a results folder (written by `sweep`, `compare` or `validate`)",
}
"""What each kind of folder this tool writes is, for messages."""


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
    return {"package": PACKAGE, "kind": KIND, "format": FORMAT, "code_fingerprint": code_fingerprint(),
            "versions": _versions(), **plan.describe()}


def folder_kind(doc: Any) -> str:
    """What a folder with the manifest `doc` is, for messages."""
    if isinstance(doc, dict) and doc.get("package") == PACKAGE:
        kind = doc.get("kind")
        return KINDS.get(kind, f"a {kind} folder written by this tool") if kind else "a folder written by this tool"
    return "a folder this tool did not write"


def _is_results(doc: dict[str, Any]) -> bool:
    """A results manifest: of kind results, or older (no kind) with the plan's runs."""
    if doc.get("package") == PACKAGE and doc.get("kind") is not None:
        return doc.get("kind") == KIND
    return "format" in doc and isinstance(doc.get("runs"), list) and "code_fingerprint" in doc


def _valid_plan(doc: dict[str, Any]) -> bool:
    """The parts of a results manifest that the readers use have the expected shapes."""
    runs = doc.get("runs")
    keys = {"run_id", "scenario", "point", "replicate", "seed"}
    return (isinstance(runs, list) and all(isinstance(r, dict) and keys <= set(r) and isinstance(r["run_id"], str)
                                           for r in runs)
            and isinstance(doc.get("scenarios"), dict) and isinstance(doc.get("parameters"), dict)
            and isinstance(doc.get("name"), str))


def read_results_manifest(path: Path, expects: str) -> dict[str, Any] | None:
    """The manifest of the results folder `path`, None if it has none. InputError, saying what the
    folder is and what the command expects (`expects`), for any other folder or a damaged manifest.
    """
    path = Path(path)
    if os.path.lexists(path) and (path.is_symlink() or not path.is_dir()):
        raise results_error(f"{path} is not a folder; {expects}")
    file = path / MANIFEST
    if not os.path.lexists(file):
        return None
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        why = os_reason(exc) if isinstance(exc, OSError) else "it is not valid JSON"
        raise results_error(f"{path}: its {MANIFEST} cannot be read ({why}); it is damaged or not this tool's. "
                            f"{expects}") from None
    if not isinstance(doc, dict) or not _is_results(doc):
        raise results_error(f"{path} is {folder_kind(doc)}, not a results folder; {expects}")
    if not _valid_plan(doc):
        raise results_error(f"{path}: its {MANIFEST} is damaged (the plan's runs, scenarios or parameters are "
                            f"missing or malformed). {expects}")
    return doc


@contextlib.contextmanager
def folder_lock(out: Path) -> Iterator[None]:
    """Hold the lock of the results folder `out` (which exists) while the block runs; InputError at
    once if another process holds it. The lock file is left empty when the block ends.
    """
    path = Path(out) / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise results_error(f"{out}: cannot create its lock file: {os_reason(exc)}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise results_error(f"another sweep is writing to {out} (pid {holder}); wait for it or use another "
                                "--out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)


def completed_ids(out: Path) -> set[str]:
    """Ids of the completed runs in a results folder (those with a summary file)."""
    folder = Path(out) / "summary"
    return {p.name[: -len(".parquet")] for p in folder.glob("*.parquet")} if folder.is_dir() else set()


def check_results_folder(out: Path) -> None:
    """Raise InputError unless `out` can be a results folder: a new path (its parents creatable), an
    empty folder or a results folder (to resume). Writes nothing.
    """
    out = Path(out)
    expects = "`sweep --out` takes a new path or a results folder to resume"
    if read_results_manifest(out, expects) is not None:
        return
    if not os.path.lexists(out):
        check_output_folder(out, kind=KIND)  # a name too long, a parent that is a file, no permission
    elif any(p.name != LOCK for p in out.iterdir()):  # a lock file alone: a sweep that stopped before its manifest
        raise results_error(f"{out} exists and is {folder_kind(None)} (no {MANIFEST}); {expects}, so use another --out")


def prepare_folder(plan: Plan, out: Path) -> set[str]:
    """Create or reopen the results folder for `plan`; returns the ids already completed. Call it
    while holding :func:`folder_lock` (it removes the temporary files that a crash left).

    A folder made for another experiment is refused: its completed runs must all belong to
    this plan (adding replications is fine), with the same outputs and model code.
    """
    out = Path(out)
    manifest = manifest_for(plan)
    check_results_folder(out)
    old = read_results_manifest(out, "`sweep --out` takes a new path or a results folder to resume")
    done = completed_ids(out)
    if old is not None:
        hint = f"use another --out, or delete {out} to start again"
        if old.get("code_fingerprint") != manifest["code_fingerprint"] and done:
            raise input_error(f"{out} holds runs made by other model code (fingerprint {old.get('code_fingerprint')}, "
                             f"now {manifest['code_fingerprint']}); mixing them would mix two models: {hint}", what=RESULTS)
        if old.get("experiment", {}).get("outputs") != manifest["experiment"]["outputs"] and done:
            raise input_error(f"{out} holds runs that kept other outputs: {hint}", what=RESULTS)
        if old.get("parameters") != manifest["parameters"] and done:
            raise input_error(f"{out} holds runs with other parameters: {hint}", what=RESULTS)
    foreign = done - {t.run_id for t in plan.tasks}
    if foreign:
        raise input_error(f"{out} holds {len(foreign)} completed runs that are not in this experiment's plan "
                         f"(another experiment, or fewer replications or points): use another --out", what=RESULTS)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())  # first: the folder is ours
    for sub in ("runs", "summary", "failed", "scenarios"):
        (out / sub).mkdir(exist_ok=True)
    for tmp in [*out.glob(".*.tmp-*"), *out.glob("*/.*.tmp-*")]:  # left by a crash
        tmp.unlink(missing_ok=True)
    for name, spec in plan.scenarios.items():
        write_atomic(out / "scenarios" / f"{name}.yaml", spec.yaml.encode())
    return done


def failed_runs(out: Path) -> Iterable[dict[str, Any]]:
    """The failure records of a results folder (runs not completed since)."""
    done = completed_ids(out)
    for path in sorted((Path(out) / "failed").glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            doc = None
        if not isinstance(doc, dict) or not isinstance(doc.get("run_id"), str):
            doc = {"run_id": path.stem, "error": f"{path.name} is damaged (not a failure record this tool wrote)"}
        if doc["run_id"] not in done:
            yield doc
