"""The report of a validation: markdown tables, a headline for the terminal, and the report folder
(written atomically with ``core.files.write_folder``; figures from :mod:`diaspora_sim.plots.validation`).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.files import write_folder
from ..core.hashing import code_fingerprint
from ..experiments.plan import Plan
from ..plots.validation import FitTables, overview_figure, save_png, target_figure
from .fit import BAND, PREDICTORS, Validation, fmt


def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:+.0%}"


def fit_table(v: Validation, set_name: str) -> str:
    """Markdown table of the targets of one set ('in-sample', 'out-of-time', 'holdout', 'contested')."""
    lines = [
        f"| target | rel. | observed | model mean [{v.confidence:.0%} CI] | {BAND[0]:.0%}-{BAND[1]:.0%} band "
        "| rel. diff | verdict | constant | proportional |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in v.fit[v.fit["set"] == set_name].itertuples():
        u = r.unit
        lines.append(
            f"| `{r.target}` | {r.reliability} | {r.observed} | {fmt(r.mean, u)} [{fmt(r.ci_low, u)}, {fmt(r.ci_high, u)}] "
            f"| {fmt(r.band_low, u)} to {fmt(r.band_high, u)} | {_pct(r.rel_diff)} | {'**' if r.missed else ''}"
            f"{r.verdict}{'**' if r.missed else ''} | {fmt(r.constant_mean, u)} | {fmt(r.proportional_mean, u)} |"
        )
    return "\n".join(lines)


def score_table(v: Validation) -> str:
    """Markdown table of the ARD of the model and the baselines."""
    lines = [
        f"| targets | n | predictor | ARD of the means | ARD per replication, mean [{v.confidence:.0%} CI] "
        f"| baseline minus model [{v.confidence:.0%} CI] |",
        "|---|---|---|---|---|---|",
    ]
    for r in v.scores.itertuples():
        diff = "" if r.predictor == "model" else f"{r.minus_model:+.3f} [{r.minus_model_low:+.3f}, {r.minus_model_high:+.3f}]"
        if r.predictor != "model" and math.isfinite(r.minus_model_low):
            better = "model" if r.minus_model_low > 0 else ("baseline" if r.minus_model_high < 0 else None)
            diff += f" ({better} closer)" if better else " (no clear difference)"
        lines.append(f"| {r.set} | {r.targets} | {r.predictor} | {r.ard:.3f} | {r.ard_rep_mean:.3f} "
                     f"[{r.ard_rep_low:.3f}, {r.ard_rep_high:.3f}] | {diff} |")
    return "\n".join(lines)


def misses_text(v: Validation) -> str:
    """The targets the model misses, one line each."""
    if not len(v.misses):
        return "The model misses none of the targets."
    out = []
    by_id = {t.id: t for t in v.targets}
    for r in v.misses.itertuples():
        t = by_id[r.target]
        out.append(f"- `{r.target}` ({r.set}, reliability {r.reliability}): observed {r.observed}, model "
                   f"{fmt(r.mean, r.unit)} [{fmt(r.ci_low, r.unit)}, {fmt(r.ci_high, r.unit)}]: {r.verdict}. "
                   f"{t.description}")
    return "\n".join(out)


def headline(v: Validation) -> str:
    """A few lines for the terminal."""
    s = v.scores.set_index(["set", "predictor"])["ard"]
    lines = [f"{v.scenario}: {v.reps} replications, {len(v.targets)} targets "
             f"({sum(v.fit['set'] == 'in-sample')} in-sample, {sum(v.fit['set'] == 'out-of-time')} out-of-time, "
             f"{sum(v.fit['set'] == 'holdout')} holdout, {sum(v.fit['set'] == 'contested')} contested)"]
    for set_name in dict.fromkeys(v.scores["set"]):
        parts = ", ".join(f"{p} {s.get((set_name, p), math.nan):.3f}" for p in PREDICTORS)
        lines.append(f"  ARD {set_name}: {parts}")
    missed = list(v.misses["target"])
    lines.append(f"  missed ({len(missed)}): {', '.join(missed) if missed else 'none'}")
    return "\n".join(lines)


def run_meta(plan: Plan, results: Path, seconds: float, targets_file: str) -> dict[str, Any]:
    """What the report states about the runs: seeds, scale, months, start, folder, time, code."""
    spec = next(iter(plan.scenarios.values()))
    seeds = plan.seeds()
    return {"seeds": f"{seeds[0]}-{seeds[-1]}", "scale": f"{spec.data['run']['scale']:g}", "months": spec.months,
            "start": spec.data["run"]["start"], "results": str(results), "seconds": seconds,
            "targets_file": targets_file, "code_fingerprint": code_fingerprint()}


def report_markdown(v: Validation) -> str:
    """The report as markdown (figures referenced relative to the report folder)."""
    meta = v.meta
    ins = v.fit[v.fit["set"] == "in-sample"]
    lines = [
        f"# Validation of {v.scenario}",
        "",
        f"- command: `{meta.get('command', '')}`",
        f"- runs: {v.reps} replications (seeds {meta.get('seeds', '')}), scale {meta.get('scale', '')} persons per "
        f"agent, {meta.get('months', '')} months from {meta.get('start', '')}; results folder `{meta.get('results', '')}`; "
        f"model code {meta.get('code_fingerprint', '')}",
        f"- time: {meta.get('seconds', math.nan):.1f} s for the runs, {meta.get('report_seconds', math.nan):.1f} s "
        "for this report",
        f"- targets: `{meta.get('targets_file', '')}`; model value = mean over replications with its "
        f"{v.confidence:.0%} t-interval; band = {BAND[0]:.0%}-{BAND[1]:.0%} quantiles over replications; "
        f"a point target is matched within {v.tolerance:.0%}, a range target when the mean is inside it",
        "",
        "## Fit, in-sample targets",
        "",
        fit_table(v, "in-sample"),
        "",
        f"{int(ins['missed'].sum())} of {len(ins)} in-sample targets missed.",
        "",
        "## Out-of-time targets (observed after 2023-09)",
        "",
        fit_table(v, "out-of-time"),
        "",
        "## Holdout targets (not used by calibration)",
        "",
        fit_table(v, "holdout"),
        "",
        "## Contested claims (never fitted, in no ARD: the model beside the claim)",
        "",
        fit_table(v, "contested"),
        "",
        "## Overall score: ARD of the model and the naive baselines",
        "",
        "ARD = mean over the targets of |model - observed| / observed (0 inside a published range; "
        "distance to the violated bound outside). `constant`: every series frozen at its first-month value; "
        "`proportional`: each host keeps its first-month share of every total (module docstring of "
        "`diaspora_sim.validation.baselines`). Baseline minus model > 0: the model is closer to the observations.",
        "",
        score_table(v),
        "",
        "## Targets the model misses",
        "",
        misses_text(v),
        "",
    ]
    if v.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in v.notes], ""]
    lines += ["## Figures", "", "![targets](targets.png)", ""]
    lines += [f"- [`{t.id}`](figures/{t.id}.png)" for t in v.targets]
    return "\n".join(lines) + "\n"


def fit_tables(v: Validation) -> FitTables:
    """The tables the figures of a validation show."""
    targets = pd.DataFrame([{"target": t.id, "description": t.description,
                             "date": t.mapping.date if t.mapping is not None else None} for t in v.targets],
                           columns=["target", "description", "date"])
    return FitTables(targets, v.fit, v.series, v.values, BAND, v.confidence)


def write_figures(v: Validation, folder: Path) -> dict[str, Path]:
    """One figure per target in `folder` and the overview grid ``targets.png`` beside it (PNG)."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = fit_tables(v)
    out = {t.id: save_png(target_figure(tables, t.id), folder / f"{t.id}.png", dpi=90) for t in v.targets}
    title = f"{v.scenario}: model ({v.reps} replications) against the observed patterns (red titles: missed)"
    out["overview"] = save_png(overview_figure(tables, title), folder.parent / "targets.png", dpi=80)
    return out


def write_report(v: Validation, out: str | Path) -> Path:
    """Write the report folder (report.md, fit.csv, scores.csv, values.csv, series.csv, report.json,
    targets.png, figures/) atomically; an earlier validation report there is replaced, anything
    else refused (core.files).
    """

    def fill(tmp: Path) -> dict[str, Any]:
        started = time.perf_counter()
        v.fit.to_csv(tmp / "fit.csv", index=False)
        v.scores.to_csv(tmp / "scores.csv", index=False)
        v.values.to_csv(tmp / "values.csv", index=False)
        v.series.to_csv(tmp / "series.csv", index=False)
        write_figures(v, tmp / "figures")
        v.meta["report_seconds"] = time.perf_counter() - started
        (tmp / "report.md").write_text(report_markdown(v), encoding="utf-8")
        doc = {"scenario": v.scenario, "meta": v.meta, "tolerance": v.tolerance, "confidence": v.confidence,
               "notes": v.notes, "fit": json.loads(v.fit.to_json(orient="records")),
               "scores": json.loads(v.scores.to_json(orient="records"))}
        (tmp / "report.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        return {"scenario": v.scenario}

    return write_folder(Path(out), fill, kind="validation-report", overwrite=True, option="report folder")


__all__ = ["fit_table", "fit_tables", "headline", "misses_text", "report_markdown", "run_meta", "score_table",
           "write_figures", "write_report"]
