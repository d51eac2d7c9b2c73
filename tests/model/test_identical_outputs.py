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
    "baseline_2022/1": "39853631557e3487",
    "baseline_2022/2": "0c8013b3c0395dc8",
    "baseline_2022/3": "7ff084d3efd0670f",
    "it_fast_track/1": "24fe83274cdee129",
    "it_fast_track/2": "893f98775b346353",
    "it_fast_track/3": "992ae1f2f1e67c29",
    "kremlin_it_lure/1": "ba57277679a04a63",
    "kremlin_it_lure/2": "eac968ffbcd2448e",
    "kremlin_it_lure/3": "ffcc80ff85b237d5",
    "nansen_passport/1": "759d5c97a5e2be0e",
    "nansen_passport/2": "fc45043733153cf3",
    "nansen_passport/3": "baf0c1d3dd303691",
    "near_abroad_crackdown/1": "f1be37339567abd8",
    "near_abroad_crackdown/2": "46376d003ad5dadb",
    "near_abroad_crackdown/3": "f227d84eb0c118ef",
    "open_eu/1": "7f6a222842d7b241",
    "open_eu/2": "d57352039875c421",
    "open_eu/3": "1c528e466728c67c",
    "restrictive_eu/1": "42d426ac5e8376c4",
    "restrictive_eu/2": "d59b7adbd1daedc7",
    "restrictive_eu/3": "58c2eb386e25aaeb",
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
