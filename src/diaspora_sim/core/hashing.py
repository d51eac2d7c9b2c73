"""Hashes: of JSON-able objects (run ids, scenario identities) and of the model's code."""

from __future__ import annotations

import json
from functools import cache
from hashlib import sha256
from pathlib import Path
from typing import Any

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
MODEL_CODE = ("scenario", "model", "outputs")
"""The packages whose code determines what a run computes and writes (the code fingerprint)."""


def sha_of(obj: Any) -> str:
    """SHA-256 (hex) of an object's canonical JSON (sorted keys, no spaces)."""
    return sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


@cache
def code_fingerprint() -> str:
    """SHA-256 (first 16 hex digits) of the source files of the scenario, model and outputs
    packages as this process first read them: two processes with the same fingerprint compute
    the same run from the same scenario and seed.
    """
    h = sha256()
    for package in MODEL_CODE:
        for path in sorted((PACKAGE_ROOT / package).rglob("*.py")):
            h.update(str(path.relative_to(PACKAGE_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]
