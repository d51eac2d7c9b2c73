"""Common random numbers: how much narrower is the CI of a paired scenario difference?

Run:  python benchmarks/bench_crn.py [--common results/eu_policy_compare] [--reps 30] [--workers 2]

For every shipped scenario against the baseline, the 95% CI half-width of the mean difference
of the end-of-run return and integration rates, over `--reps` replications:

- common seeds: scenario run r and baseline run r share seed r (how `sweep` and `compare` run);
- independent seeds: scenario run r has seed 1000 + r, paired with baseline run r.

The common-seed runs are experiments/eu_policy_compare.yaml (its results folder is reused, or
made); the independent ones are the same experiment with base seed 1000. Writes
`crn.json` to benchmarks/out and the figure docs/figures/crn_halfwidths.png.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = ROOT / "experiments" / "eu_policy_compare.yaml"


def sweep(seed: int, reps: int, out: Path, workers: int) -> None:
    from diaspora_sim.experiments.plan import make_plan
    from diaspora_sim.experiments.spec import load_experiment
    from diaspora_sim.experiments.sweep import run_sweep

    exp = load_experiment(EXPERIMENT).model_copy(update={"seed": seed, "replications": reps})
    report = run_sweep(make_plan(exp, EXPERIMENT), out, workers=workers)
    assert report.ok, report.failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--common", default=str(ROOT / "results" / "eu_policy_compare"),
                        help="results folder of experiments/eu_policy_compare.yaml (made if missing)")
    parser.add_argument("--independent", default=str(ROOT / "results" / "eu_policy_compare_seed1000"))
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    parser.add_argument("--figure", default=str(ROOT / "docs" / "figures" / "crn_halfwidths.png"))
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from diaspora_sim.analysis.statistics import paired_difference
    from diaspora_sim.experiments.results import Results

    sweep(0, args.reps, Path(args.common), args.workers)
    sweep(1000, args.reps, Path(args.independent), args.workers)
    columns = ["scenario", "replicate", "return_rate", "integration_rate"]
    common = Results.open(args.common).summary(columns=columns)
    independent = Results.open(args.independent).summary(columns=columns)
    common, independent = common[common.replicate < args.reps], independent[independent.replicate < args.reps]

    def series(df, scenario: str, metric: str):
        return df[df.scenario == scenario].sort_values("replicate")[metric].to_numpy()

    rows = []
    scenarios = [s for s in Results.open(args.common).scenarios if s != "baseline_2022"]
    for scen in scenarios:
        for metric in ("return_rate", "integration_rate"):
            base = series(common, "baseline_2022", metric)
            crn = paired_difference(series(common, scen, metric), base)
            ind = paired_difference(series(independent, scen, metric), base)
            rows.append({"scenario": scen, "metric": metric, "n": crn["n"], "difference_pp": 100 * crn["mean"],
                         "half_width_common_pp": 100 * crn["half"], "half_width_independent_pp": 100 * ind["half"],
                         "ratio": ind["half"] / crn["half"] if crn["half"] else float("inf")})
            print(f"{scen:<24}{metric:<18} diff {100 * crn['mean']:+6.2f} pp   CI half-width: common seeds "
                  f"{100 * crn['half']:.3f} pp, independent {100 * ind['half']:.3f} pp ({rows[-1]['ratio']:.1f}x)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "crn.json").write_text(json.dumps({"replications": args.reps, "rows": rows}, indent=2) + "\n")

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), sharey=True)
    for ax, metric, title in zip(axes, ("return_rate", "integration_rate"), ("Return rate", "Integration rate"),
                                 strict=True):
        sel = [r for r in rows if r["metric"] == metric]
        ys = range(len(sel))
        ax.barh([y + 0.2 for y in ys], [r["half_width_independent_pp"] for r in sel], height=0.4,
                color="0.65", label="independent seeds")
        ax.barh([y - 0.2 for y in ys], [r["half_width_common_pp"] for r in sel], height=0.4,
                color="C0", label="common seeds (CRN)")
        ax.set_yticks(list(ys), [r["scenario"] for r in sel])
        ax.invert_yaxis()
        ax.set_xlabel("95% CI half-width of the difference to the baseline (percentage points)")
        ax.set_title(f"{title} at the end of the run")
        ax.grid(alpha=0.3, axis="x")
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle(f"Paired scenario differences, n = {args.reps} replications: common vs independent seeds", fontsize=10)
    fig.tight_layout()
    Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.figure, dpi=100, metadata={"Software": None})
    print(f"wrote {out / 'crn.json'} and {args.figure}")


if __name__ == "__main__":
    main()
