"""Where a full-population run spends its time, by part of the month.

Run:  python benchmarks/profile_breakdown.py [--scale 1]

Times each part of `DiasporaModel.step` (wall seconds summed over the run) and the garbage
collector. The choice model is timed inside the rules that call it (outflow, Russia,
decisions), so its line overlaps theirs.
"""

from __future__ import annotations

import argparse
import collections
import gc
import time
from pathlib import Path

from diaspora_sim.model import metrics as metrics
from diaspora_sim.model import model as model_module
from diaspora_sim.model import rules as rules
from diaspora_sim.model.rules import choice
from diaspora_sim.scenario.loading import load_scenario, with_run

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline_2022.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="persons per agent (1: the full population)")
    args = parser.parse_args()

    spent: collections.Counter[str] = collections.Counter()

    def timed(owner: object, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return inner(*a, **k)
            finally:
                spent[label] += time.perf_counter() - t

        setattr(owner, name, wrapper)

    timed(model_module.DiasporaModel, "_add_agents", "Mesa agents created")
    # The choice is patched in its module, where outflow, russia and decisions look it up.
    timed(choice, "decide", "choice model (inside the rules that call it)")
    for name in ("outflow", "persons_month", "russia", "decisions", "peer_rates"):  # as DiasporaModel.step calls them
        timed(rules, name, f"rules.{name}")
    timed(metrics.Recorder, "record", "metrics recorded")
    collecting = {"since": 0.0, "total": 0.0}

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            collecting["since"] = time.perf_counter()
        else:
            collecting["total"] += time.perf_counter() - collecting["since"]

    sc = load_scenario(BASELINE)
    model_module.DiasporaModel(with_run(sc, scale=5000, months=14)).run().release()  # load the kernels
    spent.clear()
    gc.callbacks.append(on_gc)
    started = time.perf_counter()
    model = model_module.DiasporaModel(with_run(sc, scale=args.scale))
    spent["construction (population drawn)"] = time.perf_counter() - started
    model.run()
    total = time.perf_counter() - started
    gc.callbacks.remove(on_gc)
    print(f"scale {args.scale:g}: {total:.2f} s, {model.agent_steps:,} agent-steps, "
          f"{1e9 * total / model.agent_steps:.0f} ns per agent-step")
    for label, seconds in spent.most_common():
        print(f"  {label:46} {seconds:6.2f} s")
    print(f"  {'garbage collection (inside the above)':46} {collecting['total']:6.2f} s")


if __name__ == "__main__":
    main()
