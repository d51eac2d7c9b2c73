"""The counter-based random streams give statistically the same outcomes as the NumPy streams.

Issue 4 replaced the per-rule NumPy PCG64 arrays (one float32 per agent row and month) with
counter-based draws computed only for the rows a rule concerns (streams.draw). Every random
number changed, so runs are no longer identical to those before; this test shows the outcomes
are statistically equivalent. `tests/model/data/streams_reference.json` holds end-of-run outcomes of
the frozen baseline `tests/model/data/equivalence_baseline.yaml` over seeds 1-30 at scale 400, made
with the NumPy streams at commit a65eb9e (by `outcomes()` below). The same 30 seeds are run
now, and for every outcome the difference of means must be within 4 standard errors (Welch;
about 1 in 16,000 per outcome by chance alone) and the two samples must not differ by a
Kolmogorov-Smirnov test at the 0.1 % level.

A change of the model's rules changes the outcomes too: regenerate the reference then, from
the commit before the change, with `python tests/model/test_equivalence.py tests/model/data/streams_reference.json`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from diaspora_sim.model.model import DiasporaModel
from diaspora_sim.outputs.run_folder import summary
from diaspora_sim.scenario.loading import load_scenario, with_run

DATA = Path(__file__).resolve().parent / "data"
SCENARIO = DATA / "equivalence_baseline.yaml"
REFERENCE = DATA / "streams_reference.json"


def outcomes(seeds: range, scale: float = 400) -> dict[str, list[float]]:
    """End-of-run outcomes of the frozen baseline, one value per seed."""
    sc = load_scenario(SCENARIO)
    out: dict[str, list[float]] = {}
    for seed in seeds:
        m = DiasporaModel(with_run(sc, seed=seed, scale=scale)).run()
        sm = summary(m)
        row = {k: sm[k] for k in ("return_rate", "integration_rate", "stock_abroad", "without_status", "without_documents")}
        for cat, v in sm["by_category"].items():
            row[f"return_rate.{cat}"] = v["return_rate"]
            row[f"integration_rate.{cat}"] = v["integration_rate"]
        for h in ("GE", "AM", "KZ", "DE", "RS"):
            row[f"stock.{h}"] = sm["stock_by_host"][h]
        for k, v in row.items():
            out.setdefault(k, []).append(v)
        m.release()
    return out


@pytest.fixture(scope="module")
def samples() -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    return reference["values"], outcomes(range(1, 31), reference["scale"])


def test_reference_covers_the_outcomes(samples):
    old, new = samples
    assert set(old) == set(new) and len(old) == 20
    assert all(len(v) == 30 for v in (*old.values(), *new.values()))


@pytest.mark.parametrize("name", json.loads(REFERENCE.read_text(encoding="utf-8"))["values"])
def test_outcome_distribution_unchanged(samples, name):
    old, new = (np.asarray(s[name], float) for s in samples)
    se = np.sqrt(old.var(ddof=1) / len(old) + new.var(ddof=1) / len(new))
    assert abs(new.mean() - old.mean()) < 4 * se, f"{name}: {old.mean():.4g} before, {new.mean():.4g} now"
    assert stats.ks_2samp(old, new).pvalue > 0.001
    assert not np.array_equal(old, new)  # the draws did change: this compares distributions, not copies


if __name__ == "__main__":
    import subprocess

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    doc = {
        "what": "end-of-run outcomes of tests/model/data/equivalence_baseline.yaml, seeds 1-30, scale 400",
        "commit": commit, "scale": 400, "seeds": list(range(1, 31)), "values": outcomes(range(1, 31)),
    }
    Path(sys.argv[1]).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
