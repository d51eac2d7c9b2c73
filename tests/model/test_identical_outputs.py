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
    "baseline_2022/1": "18399dd502c00a25",
    "baseline_2022/2": "0a12fe233f1927a1",
    "baseline_2022/3": "dcff52dc43561b59",
    "it_fast_track/1": "92bf0444e4d8a93a",
    "it_fast_track/2": "986f59575c899bc7",
    "it_fast_track/3": "c75bf4282eb2d7ab",
    "kremlin_it_lure/1": "35a830aca06e4ac0",
    "kremlin_it_lure/2": "bd431bcd1c9e8495",
    "kremlin_it_lure/3": "3fd9f6d7d9f7925b",
    "nansen_passport/1": "c8963b7d19fb425e",
    "nansen_passport/2": "c11ea49b15deeb5b",
    "nansen_passport/3": "bb108e88d6a25b53",
    "near_abroad_crackdown/1": "301dcf931cd48b93",
    "near_abroad_crackdown/2": "f5e6a874eb0115d7",
    "near_abroad_crackdown/3": "01f013fd5c370fc3",
    "open_eu/1": "a95a0da686c12c66",
    "open_eu/2": "22885451746797b7",
    "open_eu/3": "c75c3aed795d7195",
    "restrictive_eu/1": "66bee28993c4db22",
    "restrictive_eu/2": "fb2e21631c6d9335",
    "restrictive_eu/3": "e8fd5c390055545f",
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
