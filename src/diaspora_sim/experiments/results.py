"""Reading a results folder written by a sweep (layout in :mod:`.folder`).

Only completed runs (those with a summary file) are read. Tables are read with pyarrow
datasets, with the columns and rows asked for only, so memory grows with what is asked,
not with the size of the sweep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from ..core.errors import InputError
from .folder import MANIFEST, completed_ids, failed_runs, read_results_manifest, results_error

EXPECTS = "this command expects a results folder written by `sweep`, `compare` or `validate`"


@dataclass
class Results:
    """A results folder: its manifest and its completed runs."""

    path: Path
    manifest: dict[str, Any]
    completed: set[str]

    @classmethod
    def open(cls, path: str | Path) -> Results:
        """Open a results folder; InputError, saying what the folder is, for anything else (a run
        folder, a report, a damaged manifest, a user's folder).
        """
        path = Path(path)
        if not path.is_dir():
            raise results_error(f"{path} is not a results folder ({'no such folder' if not path.exists() else 'not a folder'}"
                                f"); {EXPECTS}")
        manifest = read_results_manifest(path, EXPECTS)
        if manifest is None:
            raise results_error(f"{path} is not a results folder (no {MANIFEST}); make one with `sweep` or `compare`")
        planned = {r["run_id"] for r in manifest["runs"]}
        return cls(path, manifest, completed_ids(path) & planned)

    @property
    def name(self) -> str:
        """The experiment's name (its file name without .yaml)."""
        return self.manifest["name"]

    @property
    def runs(self) -> pd.DataFrame:
        """The plan: run_id, scenario, point, replicate, seed of every planned run, and `done`."""
        df = pd.DataFrame(self.manifest["runs"])
        df["done"] = df["run_id"].isin(self.completed)
        return df

    @property
    def parameters(self) -> list[str]:
        """Names of the experiment's parameters (columns of every table)."""
        return list(self.manifest["parameters"])

    @property
    def scenarios(self) -> list[str]:
        """Scenario names in the experiment's order (the first is the reference)."""
        return list(self.manifest["scenarios"])

    def failed(self) -> list[dict[str, Any]]:
        """Failure records of runs that have not completed since."""
        return list(failed_runs(self.path))

    def files(self, sub: str, run_ids: set[str] | None = None) -> list[str]:
        """Paths of the `sub` files (runs or summary) of the completed runs (of `run_ids` only, if given)."""
        ids = self.completed if run_ids is None else self.completed & run_ids
        return sorted(str(self.path / sub / f"{i}.parquet") for i in ids)

    def summary(self, columns: list[str] | None = None, scenarios: list[str] | None = None) -> pd.DataFrame:
        """One row per completed run: identifying columns and end-of-run figures."""
        files = self.files("summary", self._ids_of(scenarios))
        if not files:
            return pd.DataFrame(columns=columns or [])
        return self._read("summary", lambda: ds.dataset(files, format="parquet").to_table(columns=columns)).to_pandas()

    def timeseries(
        self,
        metrics: list[str] | None = None,
        hosts: list[str] | None = None,
        categories: list[str] | None = None,
        dates: list[date] | None = None,
        scenarios: list[str] | None = None,
        columns: list[str] | None = None,
    ) -> pa.Table:
        """Rows of the tidy time series of the completed runs, filtered while reading."""
        files = self.files("runs", self._ids_of(scenarios))
        if not files:
            raise results_error(f"{self.path} has no completed runs" + (f" of {', '.join(scenarios)}" if scenarios else ""))
        expr = None
        for column, keep, typ in (("metric", metrics, pa.string()), ("host", hosts, pa.string()),
                                  ("category", categories, pa.string()), ("date", dates, pa.date32())):
            if keep is not None:
                e = ds.field(column).isin(pa.array(keep, typ))
                expr = e if expr is None else expr & e
        return self._read("runs", lambda: ds.dataset(files, format="parquet").to_table(columns=columns, filter=expr))

    def _read(self, sub: str, read: Callable[[], pa.Table]) -> pa.Table:
        """`read()`, with a damaged or missing file of the folder's `sub/` said as such."""
        try:
            return read()
        except (pa.ArrowException, OSError) as exc:
            raise damaged(self.path, sub, exc) from None

    def _ids_of(self, scenarios: list[str] | None) -> set[str] | None:
        if scenarios is None:
            return None
        unknown = [s for s in scenarios if s not in self.manifest["scenarios"]]
        if unknown:
            raise results_error(f"no scenario {', '.join(map(repr, unknown))} in {self.path}; "
                               f"it has: {', '.join(self.scenarios)}")
        return {r["run_id"] for r in self.manifest["runs"] if r["scenario"] in scenarios}


def damaged(path: Path, sub: str, exc: BaseException) -> InputError:
    """The error for a results folder whose files cannot be read."""
    return results_error(f"{path}: a file of its {sub}/ cannot be read ({str(exc).splitlines()[0] if str(exc) else exc!r}); "
                         "the results folder is damaged: delete the damaged run's files (runs/<run_id>.parquet and "
                         "summary/<run_id>.parquet) and re-run the sweep to compute them again")


__all__ = ["Results", "damaged"]
