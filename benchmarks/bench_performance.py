"""Performance benchmark: diaspora_sim at ~10k, ~100k and ~1M emigrants against Mesa's Boltzmann model.

Run:  python benchmarks/bench_performance.py [--sizes 100,10,1] [--out benchmarks/out]

For each population size (set by the run scale of the baseline scenario) it prints and stores
construction time, time per step, agent-steps per second, peak memory (each size runs in a
fresh subprocess, peak RSS from the OS; the compiled kernels are loaded by a small untimed run
first, and that one-time cost is reported as kernels_load_s) and the ratio of the per-agent-step cost of Mesa's own
Boltzmann wealth example (10,000 agents, 100 steps; timed in the same run) to ours. It also
times each shipped scenario at its default scale. Figures go to `performance.json` and
`scaling.png` in the output folder.

Agent-steps are the emigrants abroad or back in Russia that the model updates in a step.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline_2022.yaml"


def measure_model(scale: float, months: int) -> dict:
    """One baseline run at `scale` in this process; returns its figures."""
    from diaspora_sim import DiasporaModel, load_scenario
    from diaspora_sim.scenario.loading import with_run

    # Load (or, on a first run, compile) the numba kernels first: a one-time cost per process,
    # reported apart from the run.
    t0 = time.perf_counter()
    DiasporaModel(with_run(load_scenario(BASELINE), scale=5000, months=14)).run().release()
    warmup = time.perf_counter() - t0

    sc = with_run(load_scenario(BASELINE), scale=scale, months=months)
    t0 = time.perf_counter()
    model = DiasporaModel(sc)
    construct = time.perf_counter() - t0
    t1 = time.perf_counter()
    model.run()
    steps = time.perf_counter() - t1
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "scale": scale,
        "emigrants": int(len(model.state.category)),
        "months": months,
        "kernels_load_s": warmup,
        "construct_s": construct,
        "steps_s": steps,
        "wall_s": construct + steps,
        "step_ms": 1000 * steps / months,
        "agent_steps": model.agent_steps,
        "agent_steps_per_s": model.agent_steps / (construct + steps),
        "ns_per_agent_step": 1e9 * (construct + steps) / model.agent_steps,
        "peak_rss_mib": peak_kib / 1024,
        "return_rate": model.return_rate,
    }


def measure_boltzmann(n: int = 10_000, steps: int = 100, side: int = 100) -> dict:
    """Mesa's Boltzmann wealth example (shipped as mesa.examples), construction included."""
    import mesa
    from mesa.examples import BoltzmannWealth

    t0 = time.perf_counter()
    try:  # Mesa 3.3: keyword parameters
        model = BoltzmannWealth(n=n, width=side, height=side, seed=42)
    except TypeError:  # Mesa 3.5+: parameters come in a Scenario object
        from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario

        model = BoltzmannWealth(BoltzmannScenario(n=n, width=side, height=side, rng=42))
    for _ in range(steps):
        model.step()
    wall = time.perf_counter() - t0
    return {
        "mesa_version": mesa.__version__,
        "agents": n,
        "steps": steps,
        "grid": f"{side}x{side}",
        "wall_s": wall,
        "ns_per_agent_step": 1e9 * wall / (n * steps),
    }


def measure_scenarios() -> dict:
    """Wall time of each shipped scenario at its default scale (construction and steps), after
    one untimed run that loads the compiled kernels.
    """
    from diaspora_sim import DiasporaModel, load_scenario

    DiasporaModel(load_scenario(BASELINE)).run().release()
    out = {}
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        sc = load_scenario(path)
        t0 = time.perf_counter()
        model = DiasporaModel(sc).run()
        out[path.stem] = {"wall_s": time.perf_counter() - t0, "emigrants": int(len(model.state.category))}
        model.release()
    return out


def _child(args: argparse.Namespace) -> None:
    print(json.dumps(measure_model(args.child, args.months)))


def main() -> None:
    """Run every measurement, print a table, write JSON and the scaling plot."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,10,1", help="comma-separated run scales (persons per agent)")
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    parser.add_argument("--child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        return _child(args)

    ref = measure_boltzmann()
    print(f"Mesa {ref['mesa_version']} Boltzmann wealth, {ref['agents']} agents x {ref['steps']} steps: "
          f"{ref['wall_s']:.2f} s, {ref['ns_per_agent_step']:.0f} ns per agent-step")
    rows = []
    header = f"{'scale':>6} {'emigrants':>10} {'construct s':>12} {'step ms':>9} {'wall s':>8} " \
             f"{'agent-steps/s':>14} {'ns/agent-step':>14} {'x cheaper than Mesa':>20} {'peak MiB':>9}"
    print(header)
    for scale in [float(s) for s in args.sizes.split(",")]:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(scale), "--months", str(args.months)],
            capture_output=True, text=True, check=True,
        )
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        row["ratio_vs_mesa"] = ref["ns_per_agent_step"] / row["ns_per_agent_step"]
        rows.append(row)
        print(f"{row['scale']:>6g} {row['emigrants']:>10,} {row['construct_s']:>12.2f} {row['step_ms']:>9.1f} "
              f"{row['wall_s']:>8.2f} {row['agent_steps_per_s']:>14,.0f} {row['ns_per_agent_step']:>14.0f} "
              f"{row['ratio_vs_mesa']:>20.1f} {row['peak_rss_mib']:>9.0f}")
    scenarios = measure_scenarios()
    print("default-scale runs: " + ", ".join(f"{k} {v['wall_s']:.2f} s" for k, v in scenarios.items()))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": __import__("os").cpu_count()},
        "mesa_reference": ref,
        "sizes": rows,
        "default_scale_scenarios": scenarios,
    }
    (out / "performance.json").write_text(json.dumps(result, indent=2) + "\n")
    _plot(rows, ref, out / "scaling.png")
    print(f"wrote {out / 'performance.json'} and {out / 'scaling.png'}")


def _plot(rows: list[dict], ref: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["emigrants"] for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    axes[0].loglog(n, [r["wall_s"] for r in rows], "o-", label="wall time, 60 months")
    lo = rows[0]
    axes[0].loglog(n, [lo["wall_s"] * k / lo["emigrants"] for k in n], "--", color="grey", label="linear in population")
    axes[0].set_xlabel("emigrants")
    axes[0].set_ylabel("seconds")
    axes[0].legend()
    axes[0].grid(alpha=0.3, which="both")
    axes[1].semilogx(n, [r["ns_per_agent_step"] for r in rows], "o-", label="diaspora_sim")
    axes[1].axhline(ref["ns_per_agent_step"], color="red", ls="--", label=f"Mesa Boltzmann ({ref['agents']} agents)")
    axes[1].set_yscale("log")
    axes[1].set_xlabel("emigrants")
    axes[1].set_ylabel("ns per agent-step (construction included)")
    axes[1].legend()
    axes[1].grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
