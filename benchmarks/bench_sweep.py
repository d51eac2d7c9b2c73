"""Sweep throughput: runs per minute of the baseline at its default scale, with 1 and 2 workers.

Run:  python benchmarks/bench_sweep.py [--runs 40] [--workers 1,2] [--out benchmarks/out]

Each configuration runs in a fresh process: `sweep` of `--runs` replications of
scenarios/baseline_2022.yaml (default scale, 100 persons per agent, 60 months) with the local
process-pool executor into a temporary results folder. It reports the wall time from the
start of the sweep (worker start-up included) to the last file written, runs per minute, the
mean compute time of one run inside a worker, and the peak memory of the driving process.
The last configuration repeats the largest worker count with three times the runs: the
driving process's peak memory should not grow with the number of runs (results go to disk).
Figures go to `sweep.json` in the output folder.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline_2022.yaml"


def measure(runs: int, workers: int) -> dict:
    """One sweep in this process; returns its figures."""
    from diaspora_sim.experiments.plan import make_plan
    from diaspora_sim.experiments.spec import Experiment
    from diaspora_sim.experiments.sweep import run_sweep

    plan = make_plan(Experiment(scenarios=[str(BASELINE)], replications=runs, seed=0), name="bench")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        report = run_sweep(plan, Path(tmp) / "out", executor="local", workers=workers, progress=False)
        wall = time.perf_counter() - t0
        log = [json.loads(line) for line in (Path(tmp) / "out" / "log.jsonl").read_text().splitlines()]
    assert report.ok, report.failed
    seconds = [e["seconds"] for e in log if e["status"] == "ok"]
    return {
        "runs": runs,
        "workers": workers,
        "wall_s": wall,
        "runs_per_min": 60 * runs / wall,
        "mean_run_s": sum(seconds) / len(seconds),
        "driver_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "scale": plan.scenarios["baseline_2022"].data["run"]["scale"],
        "months": plan.scenarios["baseline_2022"].months,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="runs per configuration")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    counts = [int(w) for w in args.workers.split(",")]
    configs = [(args.runs, w) for w in counts] + [(3 * args.runs, max(counts))]
    rows = []
    for runs, workers in configs:
        proc = subprocess.run([sys.executable, __file__, "--child", str(runs), str(workers)],
                              capture_output=True, text=True, check=True)
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"{workers} worker(s), {runs:4d} runs: {row['wall_s']:6.1f} s wall, {row['runs_per_min']:6.1f} runs/min, "
              f"{row['mean_run_s']:.2f} s per run in a worker, driver peak RSS {row['driver_peak_rss_mib']:.0f} MiB")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    import os

    doc = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
           "results": rows}
    (out / "sweep.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out / 'sweep.json'}")


if __name__ == "__main__":
    main()
