"""diaspora_sim: an agent-based model of Russia's post-2022 emigrants under Western policies.

The public API (docs/api.md) is loaded on first use, so ``import diaspora_sim`` is fast and
loads neither Mesa, numba, pandas nor matplotlib::

    import diaspora_sim as ds
    run = ds.run("scenarios/restrictive_eu.yaml", seed=7, months=36)
    run.timeseries.query("metric == 'return_rate' and host == 'ALL' and category == 'ALL'")
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("diaspora_sim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

_PUBLIC = {
    "load_scenario": "api", "run": "api", "Run": "api", "run_experiment": "api", "open_results": "api",
    "compare": "api", "Experiment": "experiments.spec", "Results": "experiments.results",
    "Comparison": "analysis.comparison", "DiasporaModel": "model.model", "Emigrant": "model.agents",
    "Scenario": "scenario.schema", "InputError": "core.errors", "RunsFailedError": "experiments.sweep",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    """Load a public name's module on first use (PEP 562)."""
    if name not in _PUBLIC:
        raise AttributeError(f"module 'diaspora_sim' has no attribute {name!r}")
    value = getattr(import_module(f".{_PUBLIC[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
