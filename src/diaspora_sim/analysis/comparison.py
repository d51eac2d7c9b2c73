"""Statistics of replicated runs: confidence intervals, paired differences, effect sizes,
replications needed, sensitivity indices, and the markdown comparison report.

Conventions (docs/experiments.md):

- An *arm* is a scenario at one parameter point. Replicate ``r`` of every arm ran with the
  same seed (common random numbers), so two arms are compared through the paired
  differences ``d_r = x_arm,r - x_ref,r``.
- Means have two-sided t-intervals ``mean ± t(1 - alpha/2, n - 1) * sd / sqrt(n)`` over
  replications; the paired difference has the same interval over the ``d_r``.
- Effect sizes: Cohen's ``d_z = mean(d) / sd(d)`` (paired; large under common random
  numbers because the pairing removes most of the noise) and the Vargha-Delaney
  ``A12 = P(X_arm > X_ref) + P(X_arm = X_ref) / 2`` over all pairs of replications (0.5: no
  difference; 0.29 and 0.71 are conventionally "large").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as st

from ..experiments.folder import results_error
from ..experiments.results import Results
from ..scenario.schema import CATEGORIES

RATES = ("return_rate", "integration_rate")
RATE_LABELS = {"return_rate": "Return rate", "integration_rate": "Integration rate"}


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------


def t_quantile(n: int, confidence: float = 0.95) -> float:
    """The t quantile of a two-sided interval over `n` values (NaN when n < 2)."""
    return float(st.t.ppf(0.5 + confidence / 2, n - 1)) if n >= 2 else math.nan


def mean_ci(values: Any, confidence: float = 0.95) -> dict[str, float]:
    """Mean of replications with its t-interval: n, mean, sd, half (half-width), low, high."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    mean = float(x.mean()) if n else math.nan
    sd = float(x.std(ddof=1)) if n >= 2 else math.nan
    half = t_quantile(n, confidence) * sd / math.sqrt(n) if n >= 2 else math.nan
    return {"n": n, "mean": mean, "sd": sd, "half": half, "low": mean - half, "high": mean + half}


def vargha_delaney_a12(x: Any, y: Any) -> float:
    """Probability that a value of `x` exceeds one of `y` (ties count half); 0.5 means no difference."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    m, n = len(x), len(y)
    if not m or not n:
        return math.nan
    ranks = st.rankdata(np.concatenate([x, y]))
    return float((ranks[:m].sum() / m - (m + 1) / 2) / n)


def paired_difference(x: Any, y: Any, confidence: float = 0.95) -> dict[str, float]:
    """Paired difference ``x - y`` (same replicates in the same order): its mean and t-interval,
    Cohen's d_z, Cohen's d with the pooled sd of x and y (comparable to unpaired designs) and A12.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    out = mean_ci(x - y, confidence)
    sd, mean = out["sd"], out["mean"]
    if len(x) < 2:
        d_z = math.nan
    elif sd > 0:
        d_z = mean / sd
    else:
        d_z = 0.0 if mean == 0 else math.copysign(math.inf, mean)
    pooled = math.sqrt((x.var(ddof=1) + y.var(ddof=1)) / 2) if len(x) >= 2 else math.nan
    d = mean / pooled if pooled and pooled > 0 else (0.0 if mean == 0 else math.nan)
    return {**out, "d_z": d_z, "d": d, "a12": vargha_delaney_a12(x, y)}


def replications_needed(sd: float, half_width: float, confidence: float = 0.95) -> int:
    """Smallest number of replications whose t-interval half-width is at most `half_width` when the
    sd of one replication is `sd` (estimate it from a pilot: the `sd` of :func:`mean_ci`, or of the
    paired differences for a comparison).
    """
    if half_width <= 0:
        raise ValueError("half_width must be positive")
    if not math.isfinite(sd):
        raise ValueError("sd must be a finite number (a pilot of at least 2 replications)")
    if sd == 0:
        return 2
    z = st.norm.ppf(0.5 + confidence / 2)
    n = max(2, math.ceil((z * sd / half_width) ** 2))
    while t_quantile(n, confidence) * sd / math.sqrt(n) > half_width:
        n += 1
    return n


# --------------------------------------------------------------------------------------------
# Arms and values from a results folder
# --------------------------------------------------------------------------------------------


@dataclass
class Arm:
    """A scenario at one parameter point."""

    scenario: str
    point: int
    values: dict[str, Any]
    label: str


def arms_of(results: Results, scenarios: list[str] | None = None) -> list[Arm]:
    """The arms of a results folder, scenarios in the given (or the experiment's) order, then points."""
    names = scenarios or results.scenarios
    for name in names:
        if name not in results.manifest["scenarios"]:
            raise results_error(f"no scenario {name!r} in {results.path}; it has: {', '.join(results.scenarios)}")
    points = results.manifest["points"]
    arms = []
    for name in names:
        for k, values in enumerate(points):
            label = name if len(points) == 1 else f"{name} [" + ", ".join(f"{p}={_fmt_value(v)}" for p, v in values.items()) + "]"
            arms.append(Arm(name, k, values, label))
    return arms


def _fmt_value(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def available_dates(results: Results) -> list[date]:
    """The months present in the runs (read from one completed run)."""
    if not results.completed:
        raise results_error(f"{results.path} has no completed runs")
    one = sorted(results.completed)[0]
    table = results._files("runs", {one})
    import pyarrow.parquet as pq

    dates = pq.read_table(table[0], columns=["date"]).column("date").to_pylist()
    return sorted(set(dates))


def default_dates(dates: list[date]) -> list[date]:
    """The last month and the months 12 and 24 months before it, where simulated (else the middle month)."""
    end = dates[-1]
    picks = []
    for back in (24, 12):
        y, m = divmod(end.year * 12 + end.month - 1 - back, 12)
        d = date(y, m + 1, 1)
        if d in dates:
            picks.append(d)
    if not picks and len(dates) > 2:
        picks.append(dates[len(dates) // 2])
    return [*picks, end]


def parse_dates(text: str, dates: list[date]) -> list[date]:
    """Months from ``YYYY-MM,YYYY-MM``; InputError naming the simulated span if one is outside it."""
    out = []
    for item in text.split(","):
        item = item.strip()
        try:
            y, m = (int(x) for x in item.split("-"))
            d = date(y, m, 1)
        except ValueError:
            raise results_error(f"--dates: expected months as YYYY-MM, found {item!r}") from None
        if d not in dates:
            raise results_error(f"--dates: {item} was not simulated; the runs span "
                               f"{dates[0]:%Y-%m} to {dates[-1]:%Y-%m}")
        out.append(d)
    return sorted(set(out))


def rate_values(results: Results, arms: list[Arm], dates: list[date] | None,
                categories: list[str] | None = None) -> pd.DataFrame:
    """Return and integration rates of every completed run of the arms (host ALL):
    columns scenario, point, replicate, seed, date, category, metric, value.
    """
    table = results.timeseries(
        metrics=list(RATES), hosts=["ALL"], categories=categories, dates=dates,
        scenarios=sorted({a.scenario for a in arms}),
        columns=["scenario", "point", "replicate", "seed", "date", "category", "metric", "value"],
    )
    if table.num_rows == 0:
        raise results_error(f"{results.path} has no return_rate / integration_rate rows at host ALL: the experiment's "
                           "outputs must keep metrics return_rate and integration_rate and host ALL")
    df = table.to_pandas()
    df["date"] = pd.to_datetime(df["date"])
    keep = {(a.scenario, a.point) for a in arms}
    return df[[k in keep for k in zip(df["scenario"], df["point"], strict=True)]]


def describe(values: pd.DataFrame, arms: list[Arm], confidence: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per arm, metric, category and date: mean with CI; and the paired difference of every arm
    to the first arm (the reference), matched on the seed, with its CI and effect sizes.
    """
    label = {(a.scenario, a.point): a.label for a in arms}
    values = values.assign(arm=[label[k] for k in zip(values["scenario"], values["point"], strict=True)])
    keys = ["metric", "category", "date"]
    rows = []
    for (arm, *key), grp in values.groupby(["arm", *keys], sort=False):
        rows.append({"arm": arm, **dict(zip(keys, key, strict=True)), **mean_ci(grp["value"], confidence)})
    levels = pd.DataFrame(rows)
    ref = arms[0].label
    wide = values.pivot_table(index=[*keys, "seed"], columns="arm", values="value", aggfunc="first")
    diffs = []
    for arm in [a.label for a in arms[1:]]:
        if arm not in wide or ref not in wide:
            continue
        for key, grp in wide[[arm, ref]].groupby(level=keys, sort=False):
            diffs.append({"arm": arm, "reference": ref, **dict(zip(keys, key, strict=True)),
                          **paired_difference(grp[arm].to_numpy(), grp[ref].to_numpy(), confidence)})
    order = {a.label: i for i, a in enumerate(arms)}
    levels = levels.sort_values(["metric", "date", "category", "arm"], key=lambda s: s.map(order) if s.name == "arm" else s)
    diffs_df = pd.DataFrame(diffs)
    return levels.reset_index(drop=True), diffs_df.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Sensitivity indices (Sobol, Morris designs)
# --------------------------------------------------------------------------------------------


def sensitivity(results: Results, metric: str = "return_rate") -> pd.DataFrame | None:
    """Sobol (S1, ST) or Morris (mu*, sigma) indices of an end-of-run metric, per scenario, from
    the mean over replications at each design point. None for grid and LHS designs; scenarios
    with incomplete points are left out.
    """
    from ..experiments.plan import Experiment, design_points

    exp = Experiment.model_validate(results.manifest["experiment"])
    method = exp.design.method
    if method not in ("sobol", "morris"):
        return None
    from SALib.analyze import morris, sobol

    _, matrix = design_points(exp)
    problem = {"num_vars": len(exp.parameters), "names": [p.name for p in exp.parameters],
               "bounds": [list(p.range) for p in exp.parameters]}
    summ = results.summary(columns=["scenario", "point", metric])
    seed = exp.seed if exp.design.seed is None else exp.design.seed
    rows = []
    for scen in results.scenarios:
        means = summ[summ["scenario"] == scen].groupby("point")[metric].mean()
        if len(means) < len(matrix) or means.isna().any():
            continue
        y = means.sort_index().to_numpy()
        if method == "sobol":
            res = sobol.analyze(problem, y, calc_second_order=exp.design.second_order, seed=seed)
            for i, name in enumerate(problem["names"]):
                rows.append({"scenario": scen, "parameter": name, "S1": res["S1"][i], "S1_conf": res["S1_conf"][i],
                             "ST": res["ST"][i], "ST_conf": res["ST_conf"][i]})
        else:
            res = morris.analyze(problem, matrix, y, num_levels=exp.design.levels, seed=seed)
            for i, name in enumerate(problem["names"]):
                rows.append({"scenario": scen, "parameter": name, "mu_star": res["mu_star"][i],
                             "mu_star_conf": res["mu_star_conf"][i], "sigma": res["sigma"][i]})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Text: the `results` summary
# --------------------------------------------------------------------------------------------


def _pct(v: float) -> str:
    return "n/a" if v is None or not math.isfinite(v) else f"{100 * v:.1f}%"


def _pm(half: float) -> str:
    return "" if not math.isfinite(half) else f" ± {100 * half:.2f}"


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
    from ..experiments.sweep import code_fingerprint

    code = m["code_fingerprint"]
    lines.append(f"  model code {code}" + ("" if code == code_fingerprint() else
                                            f" (this installation: {code_fingerprint()}, different)"))
    for w in m.get("warnings", []):
        lines.append(f"  warning: {w}")
    summ = results.summary()
    if len(summ):
        arms = arms_of(results)
        width = max(len(a.label) for a in arms) + 2
        ci = f"({confidence:.0%} CI)"
        head = f"{'':{width}}{'n':>5}  {'return rate ' + ci:<24}{'integration rate ' + ci:<24}"
        lines += ["", f"end of run ({summ['date'].max():%Y-%m}):", head]
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
        for metric in RATES:
            sens = sensitivity(results, metric)
            if sens is not None and len(sens):
                lines += ["", f"sensitivity of the end-of-run {metric} ({exp['design']['method']}):",
                          sens.to_string(index=False, float_format=lambda v: f"{v:.3f}")]
    if failed:
        lines += ["", f"failed runs ({len(failed)}; tracebacks in {results.path / 'failed'}):"]
        for doc in failed[:10]:
            last = [ln for ln in doc["error"].strip().splitlines() if ln.strip()][-1:] or ["?"]
            lines.append(f"  {doc['run_id']} {doc['scenario']} point {doc['point']} replicate {doc['replicate']}: "
                         f"{last[0].strip()}")
    lines += ["", f"tables: {results.path}/summary/*.parquet (a row per run), {results.path}/runs/*.parquet "
                  "(tidy time series); see docs/experiments.md"]
    return "\n".join(line.rstrip() for line in lines)


# --------------------------------------------------------------------------------------------
# The comparison report
# --------------------------------------------------------------------------------------------


@dataclass
class Comparison:
    """Everything the comparison report shows."""

    results: Results
    arms: list[Arm]
    dates: list[pd.Timestamp]
    levels: pd.DataFrame
    diffs: pd.DataFrame
    series: pd.DataFrame
    series_diffs: pd.DataFrame
    needed: pd.DataFrame
    confidence: float
    target: float
    replications: int

    def report(self, out: str | Path) -> Path:
        """Write the comparison report folder `out` (see :func:`write_report`); the path of report.md."""
        return write_report(self, Path(out))


def compare(results: Results, scenarios: list[str] | None = None, dates: list[date] | None = None,
            confidence: float = 0.95, target: float = 0.005) -> Comparison:
    """Statistics of the arms at `dates` (default: :func:`default_dates`) and over time (all categories)."""
    arms = arms_of(results, scenarios)
    if len(arms) > 40:
        raise results_error(f"{len(arms)} arms (scenarios x points) are too many for one report; "
                           "name the scenarios to compare, or read the tables directly")
    available = available_dates(results)
    dates = dates or default_dates(available)
    levels, diffs = describe(rate_values(results, arms, dates), arms, confidence)
    series_values = rate_values(results, arms, None, categories=["ALL"])
    series, series_diffs = describe(series_values, arms, confidence)
    end = pd.Timestamp(max(dates))
    rows = []
    for arm in arms:
        for metric in RATES:
            row: dict[str, Any] = {"arm": arm.label, "metric": metric}
            lv = levels[(levels.arm == arm.label) & (levels.metric == metric) & (levels.category == "ALL")
                        & (levels.date == end)]
            if len(lv) and math.isfinite(lv.sd.iloc[0]):
                row.update(n=int(lv.n.iloc[0]), sd=lv.sd.iloc[0],
                           needed_mean=replications_needed(lv.sd.iloc[0], target, confidence))
            df = diffs[(diffs.arm == arm.label) & (diffs.metric == metric) & (diffs.category == "ALL")
                       & (diffs.date == end)] if len(diffs) else diffs
            if len(df) and math.isfinite(df.sd.iloc[0]):
                row.update(sd_diff=df.sd.iloc[0], needed_diff=replications_needed(df.sd.iloc[0], target, confidence))
            rows.append(row)
    reps = int(levels["n"].max()) if len(levels) else 0
    return Comparison(results, arms, [pd.Timestamp(d) for d in dates], levels, diffs, series, series_diffs,
                      pd.DataFrame(rows), confidence, target, reps)


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
    return "\n".join(lines)


def write_report(cmp: Comparison, out: Path) -> Path:
    """Write the report folder `out` (report.md, figures as PNG, tables as CSV) atomically; an earlier
    comparison report there is replaced, anything else refused (core.files). Returns report.md's path.
    """
    from ..core.files import write_folder

    write_folder(Path(out), lambda tmp: _fill_report(cmp, tmp), kind="comparison-report", overwrite=True,
                 option="report folder")
    return Path(out) / "report.md"


def _fill_report(cmp: Comparison, out: Path) -> dict[str, Any]:
    from ..plots import figures as plots

    m = cmp.results.manifest
    exp = m["experiment"]
    end = cmp.dates[-1]
    ref = cmp.arms[0].label
    n = cmp.replications
    conf = f"{cmp.confidence:.0%}"
    n_label = f"mean of n = {n} replications, {conf} CI"
    cmp.levels.to_csv(out / "levels.csv", index=False)
    cmp.diffs.to_csv(out / "differences.csv", index=False)
    cmp.series.to_csv(out / "levels_over_time.csv", index=False)
    cmp.needed.to_csv(out / "replications_needed.csv", index=False)
    labels = [a.label for a in cmp.arms]
    figures = {
        "rates_over_time.png": plots.ci_timeseries(cmp.series, labels, out / "rates_over_time.png", n_label=n_label),
        "rates_by_category.png": plots.ci_bars_by_category(
            cmp.levels[cmp.levels.date == end], labels, out / "rates_by_category.png",
            n_label=f"{end:%Y-%m}, {n_label}"),
    }
    if len(cmp.arms) > 1 and len(cmp.diffs):
        figures["differences.png"] = plots.differences_to_reference(
            cmp.series_diffs, cmp.diffs[cmp.diffs.date == end], labels, out / "differences.png",
            n_label=f"paired over n = {n} common seeds, {conf} CI", date_label=f"{end:%Y-%m}")
    scen = m["scenarios"]
    first = next(iter(scen.values()))
    lines = [f"# Comparison: {exp.get('title') or m['name']}", ""]
    if exp.get("description"):
        lines += [exp["description"].strip(), ""]
    lines += [
        f"- **Arms**: {len(cmp.arms)} ({', '.join(labels)}); reference: **{ref}**.",
        f"- **Replications**: {n} per arm, seeds {exp['seed']} to {exp['seed'] + exp['replications'] - 1}; replicate r "
        f"has seed {exp['seed']} + r in every arm (common random numbers), so differences are paired by seed.",
        f"- **Runs**: scale {first['scale']:g} persons per agent, {first['months']} months; results in "
        f"`{cmp.results.path}`; model code {m['code_fingerprint']}, diaspora_sim {m['versions']['diaspora_sim']}, "
        f"Mesa {m['versions']['mesa']}.",
        f"- **Intervals** are {conf} t-intervals over replications. They measure the Monte Carlo uncertainty "
        "of the model's mean outcome under the scenarios' assumptions, not the uncertainty of the assumptions.",
        "- **Rates** (docs/metrics.md): return rate = persons in Russia after leaving / persons who ever left; "
        "integration rate = persons abroad with a secure status and integration above the threshold / persons who ever "
        "left. Differences are in percentage points (pp).",
        "",
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
    lines += ["", "![Rates over time](rates_over_time.png)", "", "![Rates by category](rates_by_category.png)", ""]
    if "differences.png" in figures:
        lines += ["![Differences to the reference](differences.png)", ""]
    for metric in RATES:
        lines += [f"## {RATE_LABELS[metric]} by category", ""]
        for d in cmp.dates:
            lines += [f"### {RATE_LABELS[metric]}, {d:%Y-%m}: mean [{conf} CI]", "",
                      "| category | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
            for cat in [*CATEGORIES, "ALL"]:
                cells = [_cell(_lookup(cmp.levels, arm=a, metric=metric, category=cat, date=d)) for a in labels]
                lines.append(f"| {cat} | " + " | ".join(cells) + " |")
            lines.append("")
            if len(labels) > 1 and len(cmp.diffs):
                lines += [f"Paired difference to {ref}, pp [{conf} CI] (d_z; A12):", "",
                          "| category | " + " | ".join(labels[1:]) + " |", "|---" * len(labels) + "|"]
                for cat in [*CATEGORIES, "ALL"]:
                    cells = []
                    for a in labels[1:]:
                        df = _lookup(cmp.diffs, arm=a, metric=metric, category=cat, date=d)
                        cells.append("n/a" if df is None else
                                     f"{_cell(df, diff=True)} ({_effect(df['d_z'])}; {_effect(df['a12'])})")
                    lines.append(f"| {cat} | " + " | ".join(cells) + " |")
                lines.append("")
    lines += [f"## Replications needed for a {conf} CI half-width of ±{100 * cmp.target:.2g} pp ({end:%Y-%m}, all "
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
    lines += ["", "## Method", "",
              "Each arm ran the same replications (seeds); the difference of an arm to the reference is computed "
              "per seed, and its interval is the t-interval of those paired differences. d_z is the mean paired "
              "difference divided by its sd; A12 is the probability that a run of the arm exceeds a run of the "
              "reference (0.5: no difference). No correction for multiple comparisons is applied. Tables as CSV: "
              "`levels.csv`, `differences.csv`, `levels_over_time.csv`, `replications_needed.csv`.", ""]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")
    return {"results": str(cmp.results.path)}


def _finite(v: Any) -> bool:
    return v is not None and isinstance(v, int | float) and math.isfinite(v)


def _int(v: Any) -> str:
    return f"{int(v)}" if _finite(v) else ""


__all__ = [
    "Arm",
    "Comparison",
    "arms_of",
    "compare",
    "default_dates",
    "describe",
    "headline_text",
    "mean_ci",
    "paired_difference",
    "parse_dates",
    "replications_needed",
    "results_text",
    "sensitivity",
    "t_quantile",
    "vargha_delaney_a12",
    "write_report",
]
