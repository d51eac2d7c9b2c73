"""Text of results folders and comparisons: the `results` summary, the terminal headline of `compare`,
and the comparison report folder (report.md, figures, tables as CSV).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..core.files import write_folder
from ..core.hashing import code_fingerprint
from ..core.html import write_html
from ..experiments.results import Results
from ..plots.comparison import ci_bars_by_category, ci_timeseries, differences_to_reference, envelopes
from ..scenario.schema import CATEGORIES
from .arms import RATES, arms_of
from .sensitivity import sensitivity
from .statistics import mean_ci

if TYPE_CHECKING:
    from .comparison import Comparison

RATE_LABELS = {"return_rate": "Return rate", "integration_rate": "Integration rate"}


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


def _pct(v: float) -> str:
    return "n/a" if v is None or not math.isfinite(v) else f"{100 * v:.1f}%"


def _pm(half: float) -> str:
    return "" if not math.isfinite(half) else f" ± {100 * half:.2f}"


def _cell(row: pd.Series | None, diff: bool = False) -> str:
    if row is None or not math.isfinite(row["mean"]):
        return "n/a"
    if diff:
        mean, low, high = (_signed(100 * row[k]) for k in ("mean", "low", "high"))
        return mean if low == "n/a" else f"{mean} [{low}, {high}]"
    if not math.isfinite(row["half"]):
        return f"{100 * row['mean']:.1f}%"
    return f"{100 * row['mean']:.1f}% [{100 * row['low']:.1f}, {100 * row['high']:.1f}]"


def _signed(v: float) -> str:
    """Percentage points with a sign; no "-0.00"."""
    if not math.isfinite(v):
        return "n/a"
    return f"{0.0 if abs(v) < 0.005 else v:+.2f}"


def _effect(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return "±inf" if math.isinf(v) else f"{v:.2f}"


def _lookup(df: pd.DataFrame, **where: Any) -> pd.Series | None:
    if not len(df):
        return None
    mask = np.ones(len(df), bool)
    for k, v in where.items():
        mask &= (df[k] == v).to_numpy()
    return df[mask].iloc[0] if mask.any() else None


def _finite(v: Any) -> bool:
    return v is not None and isinstance(v, int | float) and math.isfinite(v)


def _int(v: Any) -> str:
    return f"{int(v)}" if _finite(v) else ""


# --------------------------------------------------------------------------------------------
# The `results` summary
# --------------------------------------------------------------------------------------------


def results_text(results: Results, max_rows: int = 30, confidence: float = 0.95) -> str:
    """A plain-text summary of a results folder: progress, end-of-run rates per arm, failures."""
    m = results.manifest
    runs = results.runs
    failed = results.failed()
    pending = len(runs) - int(runs["done"].sum()) - len(failed)
    exp = m["experiment"]
    lines = [f"{results.path}: experiment {m['name']}" + (f" ({exp['title']})" if exp.get("title") else ""),
             f"  {len(runs)} runs planned: {int(runs['done'].sum())} done, {len(failed)} failed, {pending} not run",
             f"  {len(m['scenarios'])} scenarios x {len(m['points'])} points x {exp['replications']} replications; "
             f"seeds {exp['seed']} to {exp['seed'] + exp['replications'] - 1} (replicate r: seed {exp['seed']} + r)"]
    code = m["code_fingerprint"]
    lines.append(f"  model code {code}" + ("" if code == code_fingerprint() else
                                            f" (this installation: {code_fingerprint()}, different)"))
    for w in m.get("warnings", []):
        lines.append(f"  warning: {w}")
    summ = results.summary()
    if len(summ):
        lines += _arm_rates(results, summ, max_rows, confidence)
        for metric in RATES:
            sens = sensitivity(results, metric)
            if sens is not None and len(sens):
                lines += ["", f"sensitivity of the end-of-run {metric} ({exp['design']['method']}):",
                          sens.to_string(index=False, float_format=lambda v: f"{v:.3f}")]
    if failed:
        lines += _failures(results, failed)
    lines += ["", f"tables: {results.path}/summary/*.parquet (a row per run), {results.path}/runs/*.parquet "
                  "(tidy time series); see docs/experiments.md"]
    return "\n".join(line.rstrip() for line in lines)


def _arm_rates(results: Results, summ: pd.DataFrame, max_rows: int, confidence: float) -> list[str]:
    """The end-of-run return and integration rates of every arm, with their CIs (at most `max_rows` arms)."""
    arms = arms_of(results)
    width = max(len(a.label) for a in arms) + 2
    ci = f"({confidence:.0%} CI)"
    head = f"{'':{width}}{'n':>5}  {'return rate ' + ci:<24}{'integration rate ' + ci:<24}"
    lines = ["", f"end of run ({summ['date'].max():%Y-%m}):", head]
    shown = 0
    for arm in arms:
        sel = summ[(summ["scenario"] == arm.scenario) & (summ["point"] == arm.point)]
        if not len(sel):
            continue
        if shown == max_rows:
            lines.append(f"... ({len(arms) - shown} more arms: read summary/*.parquet)")
            break
        r = mean_ci(sel["return_rate"], confidence)
        i = mean_ci(sel["integration_rate"], confidence)
        lines.append(f"{arm.label:{width}}{r['n']:>5}  {_pct(r['mean']) + _pm(r['half']):<24}"
                     f"{_pct(i['mean']) + _pm(i['half']):<24}")
        shown += 1
    return lines


def _failures(results: Results, failed: list[dict[str, Any]]) -> list[str]:
    """The first failed runs, each with the last line of its traceback."""
    lines = ["", f"failed runs ({len(failed)}; tracebacks in {results.path / 'failed'}):"]
    for doc in failed[:10]:
        last = [ln for ln in doc["error"].strip().splitlines() if ln.strip()][-1:] or ["?"]
        lines.append(f"  {doc['run_id']} {doc['scenario']} point {doc['point']} replicate {doc['replicate']}: "
                     f"{last[0].strip()}")
    return lines


# --------------------------------------------------------------------------------------------
# The comparison: headline and report folder
# --------------------------------------------------------------------------------------------


def headline_text(cmp: Comparison) -> str:
    """The end-of-run table (all categories) as plain text, for the terminal."""
    end = cmp.dates[-1]
    ref = cmp.arms[0].label
    conf = f"{cmp.confidence:.0%}"
    rows = [["", f"return rate [{conf} CI]", f"diff to {ref} (pp)", f"integration rate [{conf} CI]", "diff (pp)"]]
    for arm in cmp.arms:
        cells = [arm.label]
        for metric in RATES:
            lv = _lookup(cmp.levels, arm=arm.label, metric=metric, category="ALL", date=end)
            df = _lookup(cmp.diffs, arm=arm.label, metric=metric, category="ALL", date=end)
            cells += [_cell(lv), "reference" if arm.label == ref else _cell(df, diff=True)]
        rows.append(cells)
    widths = [max(len(r[i]) for r in rows) + 2 for i in range(len(rows[0]))]
    lines = [f"{end:%Y-%m}, all categories, mean of n = {cmp.replications} replications per arm"]
    lines += ["".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    if cmp.posterior is not None and len(cmp.posterior):
        lines += ["", f"over the calibration posterior ({conf} intervals, pp):"]
        lines += [f"  {line}" for line in _posterior_lines(cmp, markdown=False)]
    return "\n".join(lines)


def _posterior_lines(cmp: Comparison, markdown: bool = True) -> list[str]:
    """The effects over the posterior at the last month (all categories): both intervals, shares, P(sign)."""
    end, conf = cmp.dates[-1], _conf(cmp)
    post = cmp.posterior
    sel = post[(post.category == "ALL") & (post.date == end)]
    head = ["arm", "metric", "effect (pp)", f"seed-only {conf} CI", f"posterior {conf} interval",
            "variance: parameters / seeds", "P(sign)"]
    rows = []
    for _, r in sel.iterrows():
        word = "raises" if r["sign"] == "+" else "lowers"
        rows.append([r["arm"], r["metric"], _signed(100 * r["mean"]),
                     f"[{_signed(100 * r['seed_low'])}, {_signed(100 * r['seed_high'])}]",
                     f"[{_signed(100 * r['posterior_low'])}, {_signed(100 * r['posterior_high'])}]",
                     f"{_share(r['share_parameter'])} / {_share(r['share_seed'])}",
                     f"P({r['arm']} {word} {r['metric']}) = {r['p_sign']:.2f}"])
    if markdown:
        return ["| " + " | ".join(head) + " |", "|---" * len(head) + "|", *("| " + " | ".join(r) + " |" for r in rows)]
    widths = [max(len(x[i]) for x in [head, *rows]) + 2 for i in range(len(head))]
    return ["".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [head, *rows]]


def _share(v: float) -> str:
    return "n/a" if not math.isfinite(v) else f"{100 * v:.0f}%"


def _posterior_section(cmp: Comparison) -> list[str]:
    """The report's section on effects over the calibration posterior."""
    post = cmp.results.manifest["posterior"]
    conf = _conf(cmp)
    return ["", f"## Effects over the calibration posterior, {cmp.dates[-1]:%Y-%m} (all categories)", "",
            f"Replication r of every arm ran at posterior draw r // {post['seeds_per_draw']} of `{post['dir']}` "
            f"({post['draws']} draws by weight, {post['seeds_per_draw']} seeds each) with seed r: the effect of an arm "
            "is paired on both the parameters and the seed.", "",
            f"- **seed-only {conf} CI**: the Monte Carlo error of the mean effect (seed noise within a draw only), "
            "the interval a comparison at fixed parameters reports.",
            f"- **posterior {conf} interval**: quantiles of the paired effects over draws and seeds; it combines "
            "parameter (posterior) and stochastic (seed) uncertainty.",
            "- **variance**: the share of the effect's variance due to the calibrated parameters and to the seeds "
            "(one-way random-effects decomposition over draws).",
            "- **P(sign)**: the share of posterior draws whose mean effect has the sign of the overall mean.", "",
            *_posterior_lines(cmp), "", "All months and categories: `posterior_effects.csv`.", ""]


def write_report(cmp: Comparison, out: Path) -> Path:
    """Write the report folder `out` (report.md, figures as PNG, tables as CSV) atomically; an earlier
    comparison report there is replaced, anything else refused (core.files). Returns report.md's path.
    """
    write_folder(Path(out), lambda tmp: _fill_report(cmp, tmp), kind="comparison-report", overwrite=True,
                 option="report folder")
    return Path(out) / "report.md"


def _fill_report(cmp: Comparison, out: Path) -> dict[str, Any]:
    """Write the tables, figures and report.md into the (temporary) folder `out`; the folder's manifest data."""
    cmp.levels.to_csv(out / "levels.csv", index=False)
    cmp.diffs.to_csv(out / "differences.csv", index=False)
    cmp.series.to_csv(out / "levels_over_time.csv", index=False)
    cmp.needed.to_csv(out / "replications_needed.csv", index=False)
    figures = _figures(cmp, out)
    lines = [*_intro(cmp), *_headline_table(cmp)]
    lines += ["", "![Rates over time](rates_over_time.png)", "", "![Rates by category](rates_by_category.png)", ""]
    if "differences.png" in figures:
        lines += ["![Differences to the reference](differences.png)", ""]
    lines += _small_groups(cmp)
    for metric in RATES:
        lines += [f"## {RATE_LABELS[metric]} by category", ""]
        for d in cmp.dates:
            lines += _category_tables(cmp, metric, d)
    if cmp.posterior is not None and len(cmp.posterior):
        cmp.posterior.to_csv(out / "posterior_effects.csv", index=False)
        lines += _posterior_section(cmp)
    if "envelopes.png" in figures:
        lines += ["", "![Envelopes of the runs](envelopes.png)", "",
                  "Envelopes: the median run and the band of 5% to 95% of the runs of each arm per month (what one "
                  "history could look like), beside the CI of the mean above.", ""]
    lines += [*_needed_table(cmp), *_method()]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")
    write_html(out / "report.md", title=f"Comparison: {cmp.results.manifest['name']}")
    return {"results": str(cmp.results.path)}


SMALL_GROUP = 30
"""Agents per run below which a category's rates are flagged as mostly noise."""


def _small_groups(cmp: Comparison) -> list[str]:
    """Agents behind each category (persons who ever left / persons per agent, mean over runs) at the last
    month, and a warning for the categories with fewer than SMALL_GROUP agents.
    """
    end = cmp.dates[-1]
    try:
        table = cmp.results.timeseries(metrics=["ever_left"], hosts=["ALL"], dates=[end.date()],
                                       scenarios=sorted({a.scenario for a in cmp.arms}),
                                       columns=["scenario", "category", "value"]).to_pandas()
    except InputError:
        return []
    if not len(table):
        return ["_Agents per category are not shown: the runs did not keep `ever_left`._", ""]
    scale = {n: s["scale"] for n, s in cmp.results.manifest["scenarios"].items()}
    agents = table.groupby(["scenario", "category"])["value"].mean().reset_index()
    agents["agents"] = agents["value"] / agents["scenario"].map(scale)
    small = agents[agents["agents"] < SMALL_GROUP]
    lines = [f"Agents behind the rates of each category, {end:%Y-%m} (mean per run; persons who ever left / persons "
             "per agent): " + "; ".join(f"{c} {a:.0f}" for c, a in agents.groupby("category", sort=False)["agents"]
                                        .min().items()) + " (smallest over the scenarios).", ""]
    if len(small):
        names = ", ".join(sorted(set(small["category"])))
        lines += [f"**Warning**: {names} rest on fewer than {SMALL_GROUP} agents per run; their rates move by whole "
                  "agents and are mostly noise. Read them only with a smaller scale (more agents) or many replications.",
                  ""]
    return lines


def _conf(cmp: Comparison) -> str:
    return f"{cmp.confidence:.0%}"


def _figures(cmp: Comparison, out: Path) -> dict[str, Path]:
    """The report's figures, by file name."""
    end, n, conf = cmp.dates[-1], cmp.replications, _conf(cmp)
    n_label = f"mean of n = {n} replications, {conf} CI"
    labels = [a.label for a in cmp.arms]
    figures = {
        "rates_over_time.png": ci_timeseries(cmp.series, labels, out / "rates_over_time.png", n_label=n_label),
        "rates_by_category.png": ci_bars_by_category(
            cmp.levels[cmp.levels.date == end], labels, out / "rates_by_category.png",
            n_label=f"{end:%Y-%m}, {n_label}"),
    }
    if cmp.series_values is not None and cmp.replications >= 2:
        figures["envelopes.png"] = envelopes(cmp.series_values, labels, out / "envelopes.png",
                                             n_label=f"{n} runs per arm: median and 5-95% of the runs")
    if len(cmp.arms) > 1 and len(cmp.diffs):
        figures["differences.png"] = differences_to_reference(
            cmp.series_diffs, cmp.diffs[cmp.diffs.date == end], labels, out / "differences.png",
            n_label=f"paired over n = {n} common seeds, {conf} CI", date_label=f"{end:%Y-%m}")
    return figures


def _intro(cmp: Comparison) -> list[str]:
    """Title, description and what the arms, replications, runs, intervals and rates are."""
    m = cmp.results.manifest
    exp = m["experiment"]
    labels = [a.label for a in cmp.arms]
    n, conf = cmp.replications, _conf(cmp)
    first = next(iter(m["scenarios"].values()))
    lines = [f"# Comparison: {exp.get('title') or m['name']}", ""]
    if exp.get("description"):
        lines += [exp["description"].strip(), ""]
    return lines + [
        f"- **Arms**: {len(cmp.arms)} ({', '.join(labels)}); reference: **{labels[0]}**.",
        f"- **Replications**: {n} per arm, seeds {exp['seed']} to {exp['seed'] + exp['replications'] - 1}; replicate r "
        f"has seed {exp['seed']} + r in every arm (common random numbers), so differences are paired by seed.",
        f"- **Runs**: scale {first['scale']:g} persons per agent, {first['months']} months; results in "
        f"`{cmp.results.path}`; model code {m['code_fingerprint']}, diaspora_sim {m['versions']['diaspora_sim']}, "
        f"Mesa {m['versions']['mesa']}.",
        f"- **Intervals** are {conf} t-intervals over replications. They measure the Monte Carlo uncertainty "
        "of the model's mean outcome under the scenarios' assumptions, not the uncertainty of the assumptions."
        + (" Here the replications ran over posterior draws, so they are the Monte Carlo error of the posterior "
           "mean; the section on effects over the calibration posterior gives the uncertainty of the effects."
           if m.get("posterior") else ""),
        "- **Rates** (docs/metrics.md): return rate = persons in Russia after leaving / persons who ever left; "
        "integration rate = persons abroad with a secure status and integration above the threshold / persons who ever "
        "left. Differences are in percentage points (pp).",
        "",
    ]


def _headline_table(cmp: Comparison) -> list[str]:
    """The end-of-run table (all categories) with differences to the reference and effect sizes."""
    end = cmp.dates[-1]
    labels = [a.label for a in cmp.arms]
    ref = labels[0]
    lines = [
        f"## Headline, {end:%Y-%m} (all categories)",
        "",
        f"| arm | return rate | Δ vs {ref} (pp) | d_z | A12 | integration rate | Δ (pp) | d_z | A12 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label in labels:
        cells = [label]
        for metric in RATES:
            lv = _lookup(cmp.levels, arm=label, metric=metric, category="ALL", date=end)
            df = _lookup(cmp.diffs, arm=label, metric=metric, category="ALL", date=end)
            if label == ref or df is None:
                cells += [_cell(lv), "reference" if label == ref else "n/a", "", ""]
            else:
                cells += [_cell(lv), _cell(df, diff=True), _effect(df["d_z"]), _effect(df["a12"])]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _category_tables(cmp: Comparison, metric: str, d: pd.Timestamp) -> list[str]:
    """Levels by category at month `d`, and the paired differences to the reference."""
    labels = [a.label for a in cmp.arms]
    conf = _conf(cmp)
    lines = [f"### {RATE_LABELS[metric]}, {d:%Y-%m}: mean [{conf} CI]", "",
             "| category | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for cat in [*CATEGORIES, "ALL"]:
        cells = [_cell(_lookup(cmp.levels, arm=a, metric=metric, category=cat, date=d)) for a in labels]
        lines.append(f"| {cat} | " + " | ".join(cells) + " |")
    lines.append("")
    if len(labels) > 1 and len(cmp.diffs):
        lines += [f"Paired difference to {labels[0]}, pp [{conf} CI] (d_z; A12):", "",
                  "| category | " + " | ".join(labels[1:]) + " |", "|---" * len(labels) + "|"]
        for cat in [*CATEGORIES, "ALL"]:
            cells = []
            for a in labels[1:]:
                df = _lookup(cmp.diffs, arm=a, metric=metric, category=cat, date=d)
                cells.append("n/a" if df is None else
                             f"{_cell(df, diff=True)} ({_effect(df['d_z'])}; {_effect(df['a12'])})")
            lines.append(f"| {cat} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _needed_table(cmp: Comparison) -> list[str]:
    """Replications needed for the target half-width, for the means and the paired differences."""
    end, n, conf = cmp.dates[-1], cmp.replications, _conf(cmp)
    lines = [f"## Replications needed for a {conf} CI half-width of ±{100 * cmp.target:.2g} pp ({end:%Y-%m}, all "
             "categories)", "",
             f"Estimated from the sd of these {n} replications (`analysis.replications_needed`). A paired "
             "difference needs fewer replications than a level when the pairing removes noise.", "",
             "| arm | metric | sd of a run (pp) | needed for the mean | sd of the paired difference (pp) | needed for the "
             "difference |", "|---|---|---|---|---|---|"]
    for _, row in cmp.needed.iterrows():
        sd_diff = row.get("sd_diff", math.nan)
        needed_diff = row.get("needed_diff", math.nan)
        lines.append(f"| {row['arm']} | {row['metric']} | {100 * row.get('sd', math.nan):.3f} | "
                     f"{_int(row.get('needed_mean'))} | "
                     f"{'' if not _finite(sd_diff) else format(100 * sd_diff, '.3f')} | {_int(needed_diff)} |")
    return lines


def _method() -> list[str]:
    return ["", "## Method", "",
            "Each arm ran the same replications (seeds); the difference of an arm to the reference is computed "
            "per seed, and its interval is the t-interval of those paired differences. d_z is the mean paired "
            "difference divided by its sd; A12 is the probability that a run of the arm exceeds a run of the "
            "reference (0.5: no difference). No correction for multiple comparisons is applied. Tables as CSV: "
            "`levels.csv`, `differences.csv`, `levels_over_time.csv`, `replications_needed.csv`.", ""]


__all__ = ["RATE_LABELS", "headline_text", "results_text", "write_report"]
