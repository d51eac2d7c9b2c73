"""The sensitivity report folder: indices and noise as Parquet and CSV, figures, sensitivity.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.files import write_folder
from ..core.html import write_html
from ..plots.sensitivity import index_bars, indices_over_time
from .sensitivity import Sensitivity


def sensitivity_text(sens: Sensitivity) -> str:
    """The indices and the replication noise as plain text."""
    shown = sens.indices.assign(date=sens.indices["date"].dt.strftime("%Y-%m"))
    noise = sens.noise.assign(date=sens.noise["date"].dt.strftime("%Y-%m"))
    what = sens.output + (f", effect {sens.effect}" if sens.effect else "")
    lines = [f"{sens.method} indices of {what} (means over replications at each point):",
             shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"), "",
             "replication noise (variance of the point means due to seeds / their variance across points):",
             noise.to_string(index=False, float_format=lambda v: f"{v:.3g}")]
    lines += [f"warning: {w}" for w in sens.warnings]
    return "\n".join(lines)


def write_sensitivity(sens: Sensitivity, out: Path, results_path: Path) -> Path:
    """Write the report folder `out` (replacing an earlier sensitivity report there); the path of sensitivity.md."""
    write_folder(Path(out), lambda tmp: _fill(sens, tmp, results_path), kind="sensitivity-report", overwrite=True,
                 option="--out")
    return Path(out) / "sensitivity.md"


def _fill(sens: Sensitivity, out: Path, results_path: Path) -> dict[str, Any]:
    for name, table in (("indices", sens.indices), ("noise", sens.noise)):
        table.to_parquet(out / f"{name}.parquet", index=False)
        table.to_csv(out / f"{name}.csv", index=False)
    what = sens.output + (f", effect {sens.effect}" if sens.effect else "")
    index_bars(sens.indices, sens.method, out / "indices.png", title=f"{sens.method} indices of {what}")
    figures = ["indices.png"]
    if sens.indices["date"].nunique() > 1:
        indices_over_time(sens.indices, sens.method, out / "indices_over_time.png", title=f"{what} over time")
        figures.append("indices_over_time.png")
    lines = [f"# Sensitivity of {what}", "", f"Results: `{results_path}`; method: {sens.method}. Indices are computed "
             "from the mean over replications at each design point; the replication noise is reported apart "
             "(`noise.csv`: `noise_share` is the variance of the point means that the seeds alone produce, over "
             "their variance across points).", ""]
    lines += [f"**Warning**: {w}" for w in sens.warnings] + ([""] if sens.warnings else [])
    lines += [f"![{f}]({f})" for f in figures] + ["", "```", sensitivity_text(sens), "```", "",
                                                  "Tables: `indices.parquet` / `.csv`, `noise.parquet` / `.csv`.", ""]
    (out / "sensitivity.md").write_text("\n".join(lines), encoding="utf-8")
    write_html(out / "sensitivity.md", title=f"Sensitivity of {what}")
    return {"results": str(results_path), "output": sens.output, "effect": sens.effect}


__all__ = ["sensitivity_text", "write_sensitivity"]
