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
    "baseline_2022/1": "ad26010017d0876c",
    "baseline_2022/2": "0dc2fbec5f7c4145",
    "baseline_2022/3": "900285e7fe1ad3f0",
    "it_fast_track/1": "e410e05afc601182",
    "it_fast_track/2": "7013670b06cb0a53",
    "it_fast_track/3": "f86481f373035291",
    "kremlin_it_lure/1": "a838b2047ecf86db",
    "kremlin_it_lure/2": "2bae0e257ab4b90f",
    "kremlin_it_lure/3": "165818670ba03e4b",
    "nansen_passport/1": "96b2ffe7b263365b",
    "nansen_passport/2": "5dd08072beff2d39",
    "nansen_passport/3": "18679b80e66687c7",
    "near_abroad_crackdown/1": "08673279177cd7c7",
    "near_abroad_crackdown/2": "e80d915267f50b72",
    "near_abroad_crackdown/3": "0bbc5010f5049692",
    "open_eu/1": "b91ab5f3d894db31",
    "open_eu/2": "687d438097f9ffac",
    "open_eu/3": "d7544a8fc925f9c9",
    "restrictive_eu/1": "b48e4bee7f70890b",
    "restrictive_eu/2": "38454c0f83fe0eb1",
    "restrictive_eu/3": "81b3d32bef92c68a",
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
