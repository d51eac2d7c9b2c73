"""Numba's on-disk cache of the rule kernels, made stale by an edit of any module they compile in.

Numba stamps a cached kernel with its own source file only. A kernel here inlines the
per-person functions of other modules (rules.month's pass inlines resources_person from
rules.resources, ...) and reads constants of model.state, so after an edit of one of those
(or a checkout that changes them) numba would load the old machine code. For functions
defined in this package the cache is kept in the package's ``__pycache__`` as usual, but
stamped with a hash of every source a kernel can compile in (SOURCES): any edit recompiles
the rules. Imported by the package before any rule module, so that every kernel uses it.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from numba.core import caching

RULES = Path(__file__).resolve().parent
SOURCES = (*sorted(RULES.glob("*.py")), *(RULES.parent / name for name in ("state.py", "streams.py", "metrics.py")))
"""The sources whose content stamps the cache of every compiled function of the rules package."""

# Numba 0.61 renamed its private cache classes (_CacheImpl -> CacheImpl, ...).
_CACHE_IMPL = getattr(caching, "CacheImpl", None) or caching._CacheImpl
_IN_TREE = getattr(caching, "InTreeCacheLocator", None) or caching._InTreeCacheLocator


@functools.lru_cache(maxsize=8)
def _stamp(files: tuple[tuple[str, float, int], ...]) -> bytes:
    digest = hashlib.sha256()
    for path, _, _ in files:
        digest.update(Path(path).read_bytes())
    return digest.digest()


def sources_stamp() -> bytes:
    """SHA-256 of the content of SOURCES (recomputed when a file's time or size changes)."""
    files = []
    for path in SOURCES:
        st = path.stat()
        files.append((str(path), st.st_mtime, st.st_size))
    return _stamp(tuple(files))


class RulesCacheLocator(_IN_TREE):
    """The in-tree cache locator, for functions of the rules package, stamped by sources_stamp."""

    @classmethod
    def from_function(cls, py_func, py_file):  # noqa: ANN001, ANN206 - numba's locator interface
        """This locator for a function defined in the rules package, else None (numba's own)."""
        if Path(py_file).resolve().parent != RULES:
            return None
        return super().from_function(py_func, py_file)

    def get_source_stamp(self) -> bytes:
        """The stamp numba compares with the cached one: the content of every rule source."""
        return sources_stamp()


if RulesCacheLocator not in _CACHE_IMPL._locator_classes:
    _CACHE_IMPL._locator_classes.insert(0, RulesCacheLocator)
