"""diaspora_sim: an agent-based model of Russia's post-2022 emigrants under Western policies."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("diaspora_sim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

from .model import DiasporaModel, Emigrant
from .scenario import ScenarioError, load_scenario

__all__ = ["DiasporaModel", "Emigrant", "ScenarioError", "__version__", "load_scenario"]
