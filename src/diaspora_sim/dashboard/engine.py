"""The dashboard's one adapter to the rest of diaspora_sim.

Every import of another diaspora_sim module is confined to this file, so a restructuring of the
package only has to re-point these few functions (the planned public API: ``ds.load_scenario(path,
set={...})``, ``ds.run(sc, seed=..., months=..., scale=...)`` with ``run.timeseries`` and
``run.summary``). Everything returned is plain Python, pandas or text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel

from .. import api
from ..core.errors import InputError
from ..model.model import DiasporaModel
from ..outputs.timeseries import timeseries_table
from ..scenario.loading import load_scenario, to_yaml
from ..scenario.paths import parse_assignment, set_path
from ..scenario.schema import CATEGORIES, Host, Scenario

__all__ = [
    "CATEGORIES",
    "FieldInfo",
    "RunResult",
    "ScenarioInfo",
    "error_text",
    "export_yaml",
    "field_info",
    "fingerprint",
    "make_model",
    "run_one",
    "scenario_info",
    "shipped_scenarios",
]

RATE_METRICS = ("return_rate", "integration_rate")
"""Metrics kept by category for host ALL."""
STOCK_METRIC = "stock"
"""Metric kept by host for category ALL."""


def shipped_scenarios() -> dict[str, Path]:
    """The scenario files shipped with the project, by file stem (sorted, baseline first)."""
    folder = Path(__file__).resolve().parents[3] / "scenarios"
    files = sorted(folder.glob("*.yaml"), key=lambda p: (not p.stem.startswith("baseline_2022"), p.stem))
    return {p.stem: p for p in files}


def error_text(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> str | None:
    """None if the scenario loads, else the message `python -m diaspora_sim check` prints."""
    try:
        load_scenario(path, list(overrides))
    except InputError as exc:
        return str(exc)
    except OSError as exc:
        return f"{path}: {exc.strerror or exc}"
    return None


def fingerprint(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> str:
    """A hash of the fully resolved scenario (same hash: same simulation for a given seed)."""
    sc = load_scenario(path, list(overrides))
    return hashlib.sha256(to_yaml(sc).encode()).hexdigest()


@dataclass
class FieldInfo:
    """What the schema says about one field."""

    path: str
    description: str
    unit: str
    kind: str
    """'bool', 'int', 'probability' or 'float'."""
    minimum: float | None = None
    maximum: float | None = None


def _annotation_kind(annotation: Any, metadata: list[Any]) -> tuple[str, float | None, float | None]:
    lo = next((getattr(m, "ge", None) for m in metadata if getattr(m, "ge", None) is not None), None)
    hi = next((getattr(m, "le", None) for m in metadata if getattr(m, "le", None) is not None), None)
    name = getattr(annotation, "__name__", str(annotation))
    if annotation is bool:
        return "bool", None, None
    if annotation is int:
        return "int", lo, hi
    if name == "ProbByCategory" or (lo == 0.0 and hi == 1.0):
        return "probability", 0.0, 1.0
    return "float", lo, hi


_UNITS = re.compile(r"\b(USD/month|USD|months|years|logit units|millions|persons)\b|%")


def _unit(kind: str, description: str) -> str:
    """The unit as the schema's description states it."""
    if kind == "bool":
        return "yes/no"
    if kind == "probability":
        return "probability 0-1"
    found = _UNITS.search(description)
    if found:
        return found.group(0)
    return "utility (logit units)" if "utility" in description.lower() else ""


def field_info(path: str) -> FieldInfo:
    """Description, unit and kind of a field given by its dotted path from the scenario root
    (``hosts.DE.entry.visa_approval``) or from a host (``entry.visa_approval``).
    """
    parts = path.split(".")
    model: type[BaseModel] = Scenario
    if parts[0] == "hosts":
        parts = parts[2:]
        model = Host
    elif parts[0] not in Scenario.model_fields:
        model = Host
    for i, part in enumerate(parts):
        spec = model.model_fields[part]
        if i == len(parts) - 1:
            kind, lo, hi = _annotation_kind(spec.annotation, spec.metadata)
            desc = spec.description or ""
            return FieldInfo(path, desc, _unit(kind, desc), kind, lo, hi)
        model = spec.annotation  # type: ignore[assignment]
    raise KeyError(path)


def _plain(value: Any) -> Any:
    """A field value as plain data; a per-category value becomes one number if all agree."""
    if isinstance(value, BaseModel):
        data = value.model_dump(exclude_none=True)
        cats = [data.get(c) for c in CATEGORIES]
        if all(c is not None for c in cats) and set(data) <= set(CATEGORIES):
            return cats[0] if len(set(cats)) == 1 else {c: data[c] for c in CATEGORIES}
        return data
    return value


def _get(obj: Any, parts: list[str]) -> Any:
    for part in parts:
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    return obj


@dataclass
class ScenarioInfo:
    """What the page shows about a scenario."""

    path: str
    title: str
    hosts: dict[str, str]
    """Host code -> country name, in file order."""
    groups: dict[str, list[str]]
    """Host group -> host codes, in order of first appearance."""
    seed: int
    scale: float
    months: int
    start: str
    values: dict[str, Any] = field(default_factory=dict)
    """Baseline value of every dotted path asked for (per-category values as one number or a dict)."""
    events: dict[str, list[str]] = field(default_factory=dict)
    """Dotted path -> 'date: name' of the timeline events that later change it."""


def scenario_info(path: str | Path, paths: list[str] = ()) -> ScenarioInfo:
    """Load a scenario (raises InputError) and read the baseline values of `paths`
    (dotted paths from the root, e.g. ``hosts.DE.entry.visa_approval``, ``russia.it_lure``).
    """
    sc = load_scenario(path)
    groups: dict[str, list[str]] = {}
    for code, host in sc.hosts.items():
        for g in host.groups:
            groups.setdefault(g, []).append(code)
    values = {p: _plain(_get(sc, p.split("."))) for p in paths}
    events: dict[str, list[str]] = {}
    for ev in sc.timeline:
        targets = _event_hosts(sc, ev)
        for key in ev.set:
            changed = [f"hosts.{h}.{key}" for h in targets] if targets is not None else [key]
            for p in changed:
                if p in values:
                    events.setdefault(p, []).append(f"{ev.date}: {ev.name}")
    return ScenarioInfo(
        path=str(path), title=sc.title, hosts={c: h.name for c, h in sc.hosts.items()}, groups=groups,
        seed=sc.run.seed, scale=sc.run.scale, months=sc.run.months, start=sc.run.start, values=values, events=events,
    )


def _event_hosts(sc: Scenario, ev: Any) -> list[str] | None:
    if ev.hosts is None and ev.groups is None:
        return None
    chosen = set(ev.hosts or [])
    chosen |= {c for c, h in sc.hosts.items() if set(h.groups) & set(ev.groups or [])}
    return [c for c in sc.hosts if c in chosen]


def make_model(path: str | Path, overrides: list[str] = (), seed: int | None = None) -> DiasporaModel:
    """A fresh Mesa model of the scenario (for SolaraViz's step-by-step view)."""
    sc = load_scenario(path, list(overrides))
    return DiasporaModel(sc, rng=seed)


@dataclass
class RunResult:
    """One replication: tidy time series and the headline summary (as `run` writes them)."""

    seed: int
    timeseries: pd.DataFrame
    """date, host, category, metric, value: rates by category (host ALL) and stock by host (category ALL)."""
    summary: dict[str, Any]


def run_one(path: str, overrides: list[str], seed: int, scale: float | None = None,
            months: int | None = None) -> RunResult:
    """Run one replication exactly as ``python -m diaspora_sim run PATH --set ... --seed SEED
    [--scale S] [--months M]`` does (a top-level function, so a process pool can run it).
    """
    run = api.run(path, seed=seed, scale=scale, months=months, set=list(overrides))
    try:
        rates = timeseries_table(run.model, metrics=RATE_METRICS, hosts=["ALL"]).to_pandas()
        stock = timeseries_table(run.model, metrics=[STOCK_METRIC], categories=["ALL"]).to_pandas()
        result = run.summary
    finally:
        run.release()
    table = pd.concat([rates, stock], ignore_index=True)
    for col in ("host", "category", "metric"):
        table[col] = table[col].astype(str)
    table["date"] = pd.to_datetime(table["date"])
    return RunResult(seed=seed, timeseries=table, summary=result)


def export_yaml(path: str | Path, overrides: list[str], header: str = "") -> str:
    """A scenario file that `extends` the picked one and sets the overridden fields."""
    body: dict[str, Any] = {"extends": str(Path(path).resolve())}
    data: dict[str, Any] = {}
    for text in overrides:
        key, value = parse_assignment(text)
        set_path(data, key, value)
    body.update(data)
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)

