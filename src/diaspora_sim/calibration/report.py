"""The outputs of a calibration: the posterior folder (particles, generations, summary tables,
summary markdown, figure, calibrated scenario; written atomically with ``core.files.write_folder``)
and the calibrated scenario, which ``extends`` the calibrated one with the posterior medians.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..core.files import write_folder
from ..plots.calibration import posterior_figure
from ..plots.validation import save_png
from ..scenario.loading import load_scenario
from ..scenario.schema import CATEGORIES
from .abc import ABCResult
from .screening import scale_text
from .setup import Setup, scenario_value

POSTERIOR = "posterior"
"""The kind of folder (core.files manifest) of a posterior."""


def made_text(meta: dict[str, Any]) -> str:
    """How many runs were made (and reused from an earlier call), for texts."""
    if not meta.get("runs_reused"):
        return f"{meta['runs_made']} runs made"
    return f"{meta['runs_made']} runs made, {meta['runs_reused']} reused from an earlier call"


def rel_path(path: Path) -> str:
    """A path relative to the current folder where possible (as shown in reports)."""
    try:
        return os.path.relpath(path.resolve(), Path.cwd())
    except ValueError:
        return str(path)


def round_sig(x: float, digits: int = 4) -> float:
    """`x` rounded to `digits` significant digits (the values written to the calibrated scenario)."""
    return float(f"{x:.{digits}g}")


def calibrated_data(setup: Setup, values: dict[str, float]) -> dict[str, Any]:
    """The body of the calibrated scenario: `extends` plus every calibrated path, nested."""
    body: dict[str, Any] = {}
    for name, paths in zip(setup.names, setup.written, strict=True):
        for pth in paths:
            node = body
            parts = pth.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = values[name]
    return body


def write_scenario(setup: Setup, values: dict[str, float], dest: Path, header: str) -> Path:
    """Write a scenario that `extends` the calibrated one and sets `values` (by parameter name); it is
    loaded and checked before it is renamed into place.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    base = os.path.relpath(setup.scenario_file.resolve(), dest.parent.resolve())
    doc = {"extends": base, **calibrated_data(setup, values)}
    text = header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    try:
        sc = load_scenario(tmp)
        for name, paths in zip(setup.names, setup.concrete, strict=True):
            for c in paths:
                node = scenario_value(sc, c.split("."))
                got = [getattr(node, k) for k in CATEGORIES] if hasattr(node, CATEGORIES[0]) else [node]
                if not all(math.isclose(float(g), values[name], rel_tol=1e-9, abs_tol=1e-12) for g in got):
                    raise RuntimeError(f"the calibrated scenario gives {c} = {got}, not {values[name]}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def scenario_header(setup: Setup, summary: pd.DataFrame, meta: dict[str, Any]) -> str:
    """The comment at the top of a calibrated scenario: how it was produced, the posterior, the fit."""
    a = setup.config.abc
    lines = [
        f"Calibrated: {setup.scenario_file.name} with the posterior medians of an ABC-SMC calibration to "
        f"{len(setup.in_sample)} in-sample",
        f"targets of {meta['targets_file']} (not used: the holdouts"
        + (f"; excluded: {', '.join(setup.config.targets.exclude)}" if setup.config.targets.exclude else "") + ").",
        "",
        f"Produced by: {meta['command']}",
        f"on {meta['date']} (diaspora_sim {meta['version']}, model code {meta['code_fingerprint']}): "
        f"{meta['simulations']} parameter vectors x {a.replicates} runs; {made_text(meta)} in {meta['seconds'] / 60:.1f} min",
        f"(seeds {setup.seeds[0]}-{setup.seeds[-1]}, scale {scale_text(a.scale)}, {meta['months']} months), "
        f"{len(meta['generations'])} generations of {a.particles} particles (stopped: {meta['stop_reason']}).",
        "",
        "Posterior median [90% credible interval] (prior range):",
    ]
    for r in summary.itertuples():
        lines.append(f"  {r.parameter}: {round_sig(r.median)} [{round_sig(r.q05, 3)}, {round_sig(r.q95, 3)}] "
                     f"({r.prior_low:g} to {r.prior_high:g})")
    lines += [
        "",
        f"Distance ({a.distance}, mean over {len(setup.in_sample)} in-sample targets, at the calibration seeds):",
        f"  {meta['distance_base']:.3f} with {setup.scenario_file.name}'s own values, {meta['distance_median']:.3f} "
        "with these medians.",
        f"Posterior samples and summary: {meta['posterior']}. Re-running the command gives the same values.",
    ]
    return "".join(f"# {ln}".rstrip() + "\n" for ln in lines)


def summary_markdown(setup: Setup, result: ABCResult, summary: pd.DataFrame, meta: dict[str, Any]) -> str:
    """The posterior summary as markdown."""
    a = setup.config.abc
    lines = [
        f"# Posterior: {setup.config.title or setup.params_file.name}",
        "",
        f"- command: `{meta['command']}`",
        f"- scenario `{setup.scenario_file}`; parameters `{setup.params_file}`; targets `{meta['targets_file']}`",
        f"- ABC-SMC: {a.particles} particles, tolerance = {a.quantile:g} quantile of the previous generation's "
        f"distances, kernel {a.kernel_scale:g} x weighted covariance, sampler seed {a.seed}; distance {a.distance}",
        f"- runs: seeds {setup.seeds[0]}-{setup.seeds[-1]} for every vector, scale {scale_text(a.scale)}, "
        f"{meta['months']} months; {meta['simulations']} vectors simulated ({meta['simulations'] * a.replicates} runs, "
        f"and {2 * a.replicates} runs to check the medians); {made_text(meta)} in {meta['seconds'] / 60:.1f} min",
        f"- stopped: {meta['stop_reason']}; effective sample size {result.ess:.0f}",
        "",
        "| parameter | paths | prior | scenario's own value | posterior median | 90% credible interval | mean | sd |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r, paths, base in zip(summary.itertuples(), setup.written, setup.base_values, strict=True):
        lines.append(f"| {r.parameter} | {', '.join(f'`{p}`' for p in paths)} | [{r.prior_low:g}, {r.prior_high:g}] "
                     f"| {base:g} | {round_sig(r.median)} | [{round_sig(r.q05, 3)}, {round_sig(r.q95, 3)}] "
                     f"| {round_sig(r.mean, 3)} | {round_sig(r.sd, 2)} |")
    lines += [
        "",
        "| generation | epsilon | vectors simulated | acceptance | ESS | median distance | min distance | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for h in result.generations:
        lines.append(f"| {h['generation']} | {h['epsilon']:.3f} | {h['simulations']} | {h['acceptance_rate']:.1%} "
                     f"| {h['ess']:.0f} | {h['median_distance']:.3f} | {h['min_distance']:.3f} | {h['seconds']:.0f} |")
    lines += [
        "",
        f"Distance at the calibration seeds: {meta['distance_base']:.3f} with the scenario's own values, "
        f"{meta['distance_median']:.3f} with the posterior medians (rounded as written), "
        f"{np.median(result.distances):.3f} median over the posterior particles.",
        "",
        f"In-sample targets ({len(setup.in_sample)}): {', '.join(t.id for t in setup.in_sample)}.",
        f"Holdout targets (not in the distance; their values are in particles.csv): "
        f"{', '.join(t.id for t in setup.holdout) or 'none'}.",
        "",
        "![posterior](posterior.png)",
        "",
    ]
    if setup.notes:
        lines += ["Notes:", "", *[f"- {n}" for n in setup.notes], ""]
    return "\n".join(lines)


def particles_table(setup: Setup, result: ABCResult) -> pd.DataFrame:
    """The posterior sample: particle, weight, distance, the parameters and every target's value."""
    parts = pd.DataFrame(result.particles, columns=setup.names)
    parts.insert(0, "particle", range(len(parts)))
    parts.insert(1, "weight", result.weights)
    parts.insert(2, "distance", result.distances)
    vals = result.values.drop(columns=["distance"], errors="ignore").reset_index(drop=True)
    return pd.concat([parts, vals], axis=1)


def summary_document(setup: Setup, result: ABCResult, summary: pd.DataFrame, medians: dict[str, float],
                     meta: dict[str, Any]) -> dict[str, Any]:
    """The content of summary.json: files, settings, seeds, each parameter's posterior and written value, targets."""
    return {
        "params_file": str(setup.params_file), "scenario": str(setup.scenario_file),
        "settings": setup.config.abc.model_dump(mode="json"), "seeds": setup.seeds,
        "parameters": [{**r, "paths": paths, "written_paths": wr, "scenario_value": base,
                        "written_value": medians[r["parameter"]]}
                       for r, paths, wr, base in zip(summary.to_dict("records"), setup.concrete, setup.written,
                                                     setup.base_values, strict=True)],
        "in_sample_targets": [t.id for t in setup.in_sample], "holdout_targets": [t.id for t in setup.holdout],
        "notes": setup.notes, "ess": result.ess, **meta,
    }


def write_posterior(setup: Setup, result: ABCResult, medians: dict[str, float], meta: dict[str, Any],
                    folder: Path) -> Path:
    """Write the posterior folder atomically (an earlier posterior there is replaced; anything else
    refused, as by core.files): particles.parquet/.csv, generations.csv, summary.csv/.json/.md,
    posterior.png and calibrated_scenario.yaml.
    """
    summary = result.summary()
    header = scenario_header(setup, summary, meta)

    def fill(tmp: Path) -> dict[str, Any]:
        parts = particles_table(setup, result)
        parts.to_parquet(tmp / "particles.parquet", index=False)
        parts.to_csv(tmp / "particles.csv", index=False)
        pd.DataFrame(result.generations).to_csv(tmp / "generations.csv", index=False)
        summary.to_csv(tmp / "summary.csv", index=False)
        save_png(posterior_figure(parts, summary, setup.base_values), tmp / "posterior.png", dpi=90)
        doc = summary_document(setup, result, summary, medians, meta)
        (tmp / "summary.json").write_text(json.dumps(doc, indent=1, default=float) + "\n", encoding="utf-8")
        (tmp / "summary.md").write_text(summary_markdown(setup, result, summary, meta), encoding="utf-8")
        # the folder's copy extends the scenario by a path valid from `folder` (a sibling of `tmp`)
        write_scenario(setup, medians, tmp / "calibrated_scenario.yaml", header)
        return {"params_file": str(setup.params_file), "scenario": str(setup.scenario_file)}

    return write_folder(Path(folder), fill, kind=POSTERIOR, overwrite=True, option="posterior folder")


__all__ = ["POSTERIOR", "calibrated_data", "made_text", "particles_table", "rel_path", "round_sig", "scenario_header",
           "summary_markdown", "write_posterior", "write_scenario"]
