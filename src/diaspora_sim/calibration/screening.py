"""Screening: which targets each parameter moves, one parameter at a time at the ends of its prior."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.files import write_atomic
from .setup import Setup
from .simulate import RunOptions, simulate_points


def scale_text(scale: float | None) -> str:
    """The scale of the runs as shown in texts."""
    return "of the scenario" if scale is None else f"{scale:g}"


def screen(setup: Setup, out: str | Path, opts: RunOptions | None = None) -> pd.DataFrame:
    """One parameter at a time at the ends of its prior (the others at the scenario's values), with
    the calibration's seeds: each target's relative change from the scenario's own values.
    """
    opts = opts or RunOptions()
    base = np.array(setup.base_values, float)
    pts, labels = [base], [("scenario", "own value", math.nan)]
    for j, name in enumerate(setup.names):
        for end, v in (("low", setup.lows[j]), ("high", setup.highs[j])):
            p = base.copy()
            p[j] = v
            pts.append(p)
            labels.append((name, end, float(v)))
    frame = simulate_points(setup, np.array(pts), "screen", Path(out) / "runs" / "screen", opts)
    ids = [t.id for t in setup.targets]
    ref = frame.iloc[0][ids].astype(float)
    rows = []
    for (name, end, v), (_, r) in zip(labels, frame.iterrows(), strict=True):
        row = {"parameter": name, "end": end, "value": v, "distance": r["distance"]}
        for tid in ids:
            x = float(r[tid])
            row[tid] = x if name == "scenario" else ((x - ref[tid]) / abs(ref[tid]) if ref[tid] else math.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def screen_markdown(setup: Setup, table: pd.DataFrame, threshold: float = 0.1) -> str:
    """Which targets each parameter moves by more than `threshold` (relative) at an end of its prior."""
    ids = [t.id for t in setup.targets]
    lines = [f"Relative change of each target from the scenario's own values, one parameter at a time at the ends of "
             f"its prior (seeds {setup.seeds[0]}-{setup.seeds[-1]}, scale {scale_text(setup.config.abc.scale)}); changes above "
             f"{threshold:.0%} listed.", "",
             "| parameter | low end | high end | distance low / high |", "|---|---|---|---|"]
    base = table.iloc[0]
    for name in setup.names:
        sub = table[table["parameter"] == name].set_index("end")
        cells = []
        for end in ("low", "high"):
            moved = [f"{tid} {sub.loc[end, tid]:+.0%}" for tid in ids
                     if math.isfinite(sub.loc[end, tid]) and abs(sub.loc[end, tid]) > threshold]
            cells.append(f"({sub.loc[end, 'value']:g}) " + (", ".join(moved) or "none"))
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | {sub.loc['low', 'distance']:.3f} / "
                     f"{sub.loc['high', 'distance']:.3f} |")
    lines += ["", f"Distance with the scenario's own values: {base['distance']:.3f}."]
    return "\n".join(lines) + "\n"


def write_screen(setup: Setup, table: pd.DataFrame, out: str | Path) -> str:
    """Write the screening table and its text (screen.csv, screen.md) to `out`; the text."""
    text = screen_markdown(setup, table)
    write_atomic(Path(out) / "screen.csv", table.to_csv(index=False).encode())
    write_atomic(Path(out) / "screen.md", text.encode())
    return text


__all__ = ["scale_text", "screen", "screen_markdown", "write_screen"]
