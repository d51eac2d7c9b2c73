"""Scenario discovery on a results folder: the cases, PRIM, and the report folder (tables, figures, discovery.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import input_error
from ..core.files import write_folder
from ..core.html import write_html
from ..experiments.folder import results_error
from ..experiments.results import Results
from ..plots.discovery import box_limits, peeling_trajectory
from .arms import available_dates
from .discovery import CONDITIONS, PrimResult, cart, parse_condition, prim
from .sensitivity import output_values


@dataclass
class Discovery:
    """The cases (parameters, output, of interest), the condition and PRIM's result."""

    what: str
    where: str
    month: pd.Timestamp
    cases: pd.DataFrame
    result: PrimResult
    box: pd.DataFrame
    cart: tuple[str, pd.DataFrame] | None = None


def discover(results: Results, output: str, where: str, *, effect: str | None = None, scenario: str | None = None,
             at: date | None = None, threshold: float = 0.8, with_cart: bool = False) -> Discovery:
    """PRIM on the runs (or paired effects) of a results folder: where does the output meet `where`."""
    op, value = parse_condition(where)
    names = [p for p, spec in results.manifest["parameters"].items() if spec["type"] in ("double", "int64")]
    if not names:
        raise results_error(f"{results.path} has no numeric parameters to discover boxes on (run a sweep that varies some)")
    month = at or available_dates(results)[-1]
    by_target = output_values(results, output, effect, [month])
    target = effect or scenario or results.scenarios[0]
    if target not in by_target:
        raise results_error(f"no runs of {target!r} in {results.path}; scenarios: {', '.join(results.scenarios)}")
    vals = by_target[target]
    points = pd.DataFrame(results.manifest["points"])[names]
    cases = points.iloc[vals["point"].to_numpy()].reset_index(drop=True)
    cases[output] = vals["value"].to_numpy()
    cases["of_interest"] = CONDITIONS[op](cases[output].to_numpy(), value)
    if not cases["of_interest"].any():  # an answer too, but no box to find: say what the cases do show
        raise input_error(f"no case meets the condition {op} {value:g}: {output} ranges from {cases[output].min():.4g} "
                          f"to {cases[output].max():.4g} over the {len(cases)} cases in {month:%Y-%m}; PRIM needs "
                          "cases of interest", what="argument", path="--where")
    res = prim(cases[names], cases["of_interest"].to_numpy(), threshold=threshold)
    what = f"{output} of {target}" if effect is None else f"effect {effect} on {output}"
    box = res.box(cases[names], cases["of_interest"].to_numpy(float))
    tree = cart(cases[names], cases["of_interest"].to_numpy()) if with_cart else None
    return Discovery(what, f"{op} {value:g}", pd.Timestamp(month), cases, res, box, tree)


def discovery_text(d: Discovery) -> str:
    """The chosen box and its statistics as plain text."""
    row = d.result.trajectory.loc[d.result.chosen]
    n, hits = len(d.cases), int(d.cases["of_interest"].sum())
    lines = [f"when is {d.what} {d.where} ({d.month:%Y-%m})? {hits} of {n} cases ({hits / n:.0%})",
             f"chosen box: step {d.result.chosen} of {len(d.result.trajectory) - 1}, coverage {row['coverage']:.2f}, "
             f"density {row['density']:.2f}, mass {row['mass']:.2f} ({int(row['cases'])} cases)",
             d.box.to_string(index=False, float_format=lambda v: f"{v:.4g}")]
    if not row["density"] > d.cases["of_interest"].mean():
        lines.append("warning: no box is denser than the whole sample; the condition does not depend on these parameters")
    return "\n".join(lines)


def write_discovery(d: Discovery, out: Path, results_path: Path) -> Path:
    """Write the report folder `out` (replacing an earlier one); the path of discovery.md."""
    write_folder(Path(out), lambda tmp: _fill(d, tmp, results_path), kind="discovery-report", overwrite=True,
                 option="--out")
    return Path(out) / "discovery.md"


def _fill(d: Discovery, out: Path, results_path: Path) -> dict[str, Any]:
    for name, table in (("trajectory", d.result.trajectory), ("box", d.box), ("cases", d.cases)):
        table.to_parquet(out / f"{name}.parquet", index=False)
        table.to_csv(out / f"{name}.csv", index=False)
    title = f"{d.what} {d.where}, {d.month:%Y-%m}"
    extra = []
    if d.cart is not None:
        (out / "cart.txt").write_text(d.cart[0], encoding="utf-8")
        d.cart[1].to_csv(out / "cart_leaves.csv", index=False)
        extra = ["", "## CART (scikit-learn, depth 3)", "", "```", d.cart[0].rstrip(), "```", "",
                 "Leaves with their limits, cases, density and coverage: `cart_leaves.csv`.", ""]
    peeling_trajectory(d.result.trajectory, d.result.chosen, out / "peeling_trajectory.png", title=title)
    box_limits(d.box, out / "box.png", title=f"chosen box: {title}")
    lines = [f"# Scenario discovery: {title}", "", f"Results: `{results_path}`. PRIM (Friedman and Fisher 1999, the "
             "EMA workbench's peeling with its default objective; no pasting) over the experiment's parameters. "
             "Coverage: the share of all cases of interest inside the box; density: the share of the box's cases "
             "that are of interest; quasi-p: one-sided binomial test of each limit (small: the limit matters).", "",
             "![Peeling trajectory](peeling_trajectory.png)", "", "![Chosen box](box.png)", "", "```",
             discovery_text(d), "```", "", "Tables: `trajectory`, `box`, `cases` (.parquet and .csv).", "", *extra]
    (out / "discovery.md").write_text("\n".join(lines), encoding="utf-8")
    write_html(out / "discovery.md", title=f"Scenario discovery: {title}")
    return {"results": str(results_path), "what": d.what, "where": d.where, "chosen": int(d.result.chosen),
            "cases": int(len(d.cases)), "of_interest": int(np.sum(d.cases["of_interest"]))}


__all__ = ["Discovery", "discover", "discovery_text", "write_discovery"]
