"""The names of the executors that run a plan (a module of its own: the command line's `--help` lists
them without loading the model).
"""

from __future__ import annotations

EXECUTORS = ("local", "dask", "serial")
"""local: a process pool; dask: Dask distributed; serial: in this process (debugging)."""

__all__ = ["EXECUTORS"]
