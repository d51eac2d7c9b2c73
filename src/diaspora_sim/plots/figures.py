"""Former module of all figures, kept so that callers can re-point at their pace.

Use :mod:`.run` (run figures, `compare_runs`), :mod:`.comparison` (CI figures) and
:mod:`.common` (`PNG_METADATA`, `save`). ``_PNG`` is ``common.PNG_METADATA``.
"""

from __future__ import annotations

from .common import PNG_METADATA, save
from .comparison import ci_bars_by_category, ci_timeseries, differences_to_reference
from .run import TOP_HOSTS, compare_runs, run_figures

_PNG = PNG_METADATA

__all__ = [
    "PNG_METADATA",
    "TOP_HOSTS",
    "_PNG",
    "ci_bars_by_category",
    "ci_timeseries",
    "compare_runs",
    "differences_to_reference",
    "run_figures",
    "save",
]
