"""The tidy time series of every shipped scenario at seeds 1-3, held by content hashes.

A change of the code that is meant to leave the model's results alone (a refactoring, an
optimization) must leave these hashes alone. A change of the model changes them on purpose:
then regenerate them with `python tests/model/test_identical_outputs.py` and say why in the
commit. The hash is of the table's content (CSV with 17 significant digits), not of the
Parquet bytes, so that it does not depend on the pyarrow version.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pytest

import diaspora_sim as ds

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
HASHES = {
    "baseline_2022/1": "f32911ea0f81e948",
    "baseline_2022/2": "8cb7a9abc41abd2b",
    "baseline_2022/3": "02460f56dce8ba9d",
    "it_fast_track/1": "aa7e3077a37aa676",
    "it_fast_track/2": "0c847beed3bc088a",
    "it_fast_track/3": "3721cab559927666",
    "kremlin_it_lure/1": "f31f092fc8d09e45",
    "kremlin_it_lure/2": "159852a683bdb407",
    "kremlin_it_lure/3": "1df01db310e55bb7",
    "nansen_passport/1": "1ea761c00e49a69e",
    "nansen_passport/2": "750fddcea10e1bdd",
    "nansen_passport/3": "8cb8af7ae06f9222",
    "near_abroad_crackdown/1": "dbace028278c0256",
    "near_abroad_crackdown/2": "29fd79ce86735c30",
    "near_abroad_crackdown/3": "403585e0d89927a7",
    "open_eu/1": "79e14eea8f8de3a6",
    "open_eu/2": "817d007f922f49b8",
    "open_eu/3": "e882837ee809f6a4",
    "restrictive_eu/1": "95a4505150c31fa7",
    "restrictive_eu/2": "1ed163c1bccf191b",
    "restrictive_eu/3": "81f0ba7ced018803",
}


def content_hash(table: pa.Table) -> str:
    """SHA-256 (16 hex digits) of the table's rows as CSV with 17 significant digits."""
    df = table.to_pandas()
    for c in ("host", "category", "metric"):
        df[c] = df[c].astype(str)
    return hashlib.sha256(df.to_csv(index=False, float_format="%.17g").encode()).hexdigest()[:16]


def test_every_shipped_scenario_is_held() -> None:
    assert sorted({k.split("/")[0] for k in HASHES}) == [p.stem for p in SCENARIOS]


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_time_series_are_unchanged(path: Path) -> None:
    got = {f"{path.stem}/{seed}": content_hash(ds.run(path, seed=seed).table) for seed in (1, 2, 3)}
    assert got == {k: v for k, v in HASHES.items() if k.startswith(path.stem + "/")}


if __name__ == "__main__":  # print the hashes of the current code
    print(json.dumps({f"{p.stem}/{s}": content_hash(ds.run(p, seed=s).table) for p in SCENARIOS for s in (1, 2, 3)},
                     indent=1))
