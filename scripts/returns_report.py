"""Return figures of a scenario over replications: the return rate at the end of each year, the
12-month cohort shares (abroad at the end of the cohort month, in Russia / in another host 12
months later), the integration rate and the secure statuses against the status facts, the
return reasons by category and year, and key stocks. Rates come with their mean and 95%
t-interval over the replications (seed noise at fixed parameters).

    python scripts/returns_report.py scenarios/baseline_2022.yaml --reps 5

The cohort shares are computed here from the state (a snapshot of locations), independently of
the recorded metrics cohort_returned_12m / cohort_moved_on_12m, which they cross-check.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy import stats

from diaspora_sim.model.metrics import METRICS
from diaspora_sim.model.model import DiasporaModel
from diaspora_sim.scenario.loading import load_scenario
from diaspora_sim.scenario.schema import CATEGORIES, month_number

REASONS = ("returns_voluntary", "returns_status", "returns_money", "deported", "extradited")


def one_run(sc, seed: int, cohort: str = "2023-07") -> dict:
    """The figures of one replication (stopped at the end of 2025)."""
    m = DiasporaModel(sc, rng=seed)
    start = month_number(sc.run.start)
    t0 = month_number(cohort) - start
    end25 = month_number("2025-12") - start
    last = month_number("2026-02") - start  # Georgia's permit count of February 2026
    H = m.n_hosts
    snap = None
    out = {}
    while m.running:
        m.step()
        t = m.month - 1
        if t == t0:
            snap = m.state.location.copy()
        if t == t0 + 12 and snap is not None:
            loc = m.state.location[: len(snap)]
            coh = snap < H
            out["cohort_n"] = coh.sum()
            out["cohort_ru"] = (loc[coh] == H).mean()
            out["cohort_moved"] = ((loc[coh] < H) & (loc[coh] != snap[coh])).mean()
            cat = m.state.category[: len(snap)][coh]
            out["cohort_ru_by_cat"] = [(loc[coh][cat == c] == H).mean() for c in range(len(CATEGORIES))]
        if t == last:
            break
    d = m.recorder.data
    C = len(CATEGORIES)
    for y in (2022, 2023, 2024, 2025):
        t = month_number(f"{y}-12") - start
        out[f"return_rate_{y}"] = d["return_rate"][t, H + 1, C]
        out[f"integration_rate_{y}"] = d["integration_rate"][t, H + 1, C]
    out["return_rate_2025_cat"] = d["return_rate"][end25, H + 1, :C]
    out["integration_rate_2025_cat"] = d["integration_rate"][end25, H + 1, :C]
    names = list(m.host_codes)
    for code, month in (("KZ", "2023-01"), ("GE", "2022-10"), ("AM", "2022-12"), ("IL", "2022-12"),
                        ("US", "2025-12"), ("LV", "2025-12"), ("TR", "2023-12")):
        if code in names:
            out[f"stock_{code}_{month}"] = d["stock"][month_number(month) - start, names.index(code), C]
    for code, month in (("KZ", "2023-01"), ("ME", "2022-10"), ("ME", "2025-10"), ("GE", "2026-02")):
        out[f"secure_{code}_{month}"] = d["secure_status"][month_number(month) - start, names.index(code), C]
    il = names.index("IL")
    out["il_arrivals_2022"] = np.nansum(d["arrivals"][: month_number("2022-12") - start + 1, il, C])
    out["returns_by_host"] = {h: np.nansum(d["returns"][: end25 + 1, k, C]) for k, h in enumerate(names)}
    if "returns_money" in METRICS:
        years = {}
        for y in (2022, 2023, 2024, 2025):
            lo, hi = month_number(f"{y}-01") - start, month_number(f"{y}-12") - start
            lo = max(lo, 0)
            years[y] = {r: np.nansum(d[r][lo: hi + 1, H + 1, :C], axis=0) for r in REASONS}
        out["reasons"] = years
    return out


def main() -> None:
    """Print the figures, means over the replications."""
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--set", action="append", default=[], help="override, as in `run --set path=value`")
    a = ap.parse_args()
    sc = load_scenario(a.scenario, a.set)
    runs = [one_run(sc, a.seed + k) for k in range(a.reps)]

    def mean(key):
        return np.mean([r[key] for r in runs], axis=0)

    def ci(key: str) -> str:
        """Mean and 95% t-interval over the replications."""
        x = np.array([r[key] for r in runs], float)
        half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)) if len(x) > 1 else np.nan
        return f"{x.mean():.3f} [{x.mean() - half:.3f}, {x.mean() + half:.3f}]"

    print(f"{a.reps} replications (seeds {a.seed}-{a.seed + a.reps - 1}); mean [95% t-interval over replications]")
    for y in (2022, 2023, 2024, 2025):
        print(f"end of {y}: return rate {ci(f'return_rate_{y}')}, integration rate {ci(f'integration_rate_{y}')}")
    print("integration rate end 2025 by category: "
          + ", ".join(f"{c} {v:.3f}" for c, v in zip(CATEGORIES, mean('integration_rate_2025_cat'), strict=True)))
    print("secure status (persons): " + ", ".join(
        f"{k[7:]} {mean(k):,.0f}" for k in runs[0] if k.startswith("secure_"))
        + " (facts: KZ 36,000 permits of 150,000 in Jan 2023; ME 13,500 permit holders Oct 2022, 21,153 Oct 2025;"
        " GE about 32,000 Feb 2026)")
    print("return rate end 2025 by category: "
          + ", ".join(f"{c} {v:.3f}" for c, v in zip(CATEGORIES, mean('return_rate_2025_cat'), strict=True)))
    print(f"cohort abroad 2023-07 (n agents {mean('cohort_n'):.0f}): in Russia 12 months later {ci('cohort_ru')} "
          f"(OutRush 0.08), in another host {ci('cohort_moved')} (0.21); in Russia by category "
          + ", ".join(f"{c} {v:.3f}" for c, v in zip(CATEGORIES, mean('cohort_ru_by_cat'), strict=True)))
    for k in runs[0]:
        if k.startswith(("stock_", "il_arrivals")):
            print(f"{k}: {mean(k):,.0f}")
    by_host = {h: np.mean([r['returns_by_host'][h] for r in runs]) for h in runs[0]['returns_by_host']}
    total = sum(by_host.values())
    print("returns 2022-2025 by host (share): " + ", ".join(
        f"{h} {v / total:.2f}" for h, v in sorted(by_host.items(), key=lambda x: -x[1]) if v / total >= 0.01))
    if "reasons" in runs[0]:
        print("\nreturn reasons, share of returns (ALL hosts), by year and category:")
        print("| year | category | returns | " + " | ".join(REASONS) + " |")
        print("|---|---|---|" + "---|" * len(REASONS))
        for y in (2022, 2023, 2024, 2025):
            tab = {r: np.mean([run["reasons"][y][r] for run in runs], axis=0) for r in REASONS}
            for c in [*range(len(CATEGORIES)), None]:
                vals = {r: (tab[r].sum() if c is None else tab[r][c]) for r in REASONS}
                tot = sum(vals.values())
                name = "ALL" if c is None else CATEGORIES[c]
                shares = " | ".join(f"{vals[r] / tot:.2f}" if tot else "-" for r in REASONS)
                print(f"| {y} | {name} | {tot:,.0f} | {shares} |")


if __name__ == "__main__":
    main()
