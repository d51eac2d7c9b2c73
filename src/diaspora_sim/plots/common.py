"""What every figure shares: the PNG metadata (no version stamp) and the one save helper.

Figures are made with the object-oriented API (:class:`matplotlib.figure.Figure`), so no
backend is chosen or switched: importing a plots module changes nothing for the caller.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

PNG_METADATA: dict[str, Any] = {"metadata": {"Software": None}}
"""Keyword arguments of ``savefig`` for PNG files: no version stamp, so identical runs give identical files."""


def save(fig: Figure, out: Path, dpi: int = 100, *, tight: bool = True) -> Path:
    """Write `fig` to the file `out` (PNG, or the format its suffix names; its folder created, laid
    out tight unless told otherwise).
    """
    if tight:
        fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, **(PNG_METADATA if out.suffix.lower() == ".png" else {}))
    return out


__all__ = ["PNG_METADATA", "Figure", "save"]
