"""Loading scenario files: safe YAML, `extends`, `--set` overrides, clear errors, timeline epochs.

A scenario file is plain YAML read with ``yaml.SafeLoader`` (no tags that build Python objects,
so a file can never execute code). ``extends: base.yaml`` deep-merges the file over its base;
mappings merge key by key, everything else is replaced, except that the events listed under
``timeline_append`` are added after the inherited timeline. Errors name the file, the line where
the parser can give it, the field path, what was expected and what was found.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..core.errors import InputError, InputWarning, Problem, pydantic_problems
from ..core.safe_yaml import line_of, match_node, read_yaml
from .paths import parse_assignment, set_path
from .schema import MAX_AGENTS, Run, Scenario, month_name, month_number
from .timeline import epochs

# --------------------------------------------------------------------------------------------
# Raw YAML with line numbers
# --------------------------------------------------------------------------------------------


@dataclass
class _Source:
    """A parsed file: its data and its node tree (for line numbers)."""

    path: Path
    data: dict[str, Any]
    node: yaml.Node | None
    timeline_offset: int | None = None  # merged timeline index of this file's first `timeline_append` event


def _parse(path: Path) -> _Source:
    data, node = read_yaml(path)
    return _Source(path, data, node)


def _locate(sources: list[_Source], parts: list[str]) -> tuple[str, int | None]:
    """The file and line that define `parts` most precisely (the most derived file on ties)."""
    best: tuple[str, int | None, int] = (str(sources[0].path) if sources else "", None, 0)
    for src in sources:
        here = parts
        index_part = parts[1] if parts[:1] == ["timeline"] and len(parts) > 1 else ""
        if src.timeline_offset is not None and index_part.isascii() and index_part.isdecimal():
            index = int(parts[1]) - src.timeline_offset
            if index >= 0:
                here = ["timeline_append", str(index), *parts[2:]]
        line, depth = match_node(src.node, here)
        if line is not None and depth > best[2]:
            best = (str(src.path), line, depth)
    return best[0], best[1]


def _as_written(sources: list[_Source], file: str, path: str) -> str:
    """The field path as the user wrote it: an event that a file appends (timeline.N) is
    `timeline_append.K` of that file, K counted from its own first appended event.
    """
    parts = path.split(".")
    src = next((s for s in sources if str(s.path) == file), None)
    if src is None or src.timeline_offset is None or parts[0] != "timeline" or len(parts) < 2:
        return path
    if not (parts[1].isascii() and parts[1].isdecimal()) or int(parts[1]) < src.timeline_offset:
        return path
    return ".".join(["timeline_append", str(int(parts[1]) - src.timeline_offset), *parts[2:]])


def _merge(base: Any, over: Any) -> Any:
    """Deep merge: mappings merge key by key, anything else in `over` replaces `base`."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = _merge(base[key], value) if key in base else value
        return out
    # A per-category value may be a number in one file and a mapping in the other.
    if isinstance(over, dict) and isinstance(base, int | float) and not isinstance(base, bool):
        return _merge({"default": base}, over)
    return copy.deepcopy(over)


def _load_chain(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[_Source]]:
    """The merged raw data of `path` and its `extends` ancestors, most derived source first."""
    path = path.resolve()
    if path in seen:
        cycle = " -> ".join(str(p) for p in (*seen, path))
        raise InputError([Problem("extends", f"cycle in extends: {cycle}", str(seen[-1]))])
    src = _parse(path)
    data = dict(src.data)
    parent = data.pop("extends", None)
    appended = data.pop("timeline_append", None)
    if appended is not None and not isinstance(appended, list):
        raise InputError([Problem(
            "timeline_append", f"expected a list of events, found {type(appended).__name__}", str(path),
            line_of(src.node, ["timeline_append"]),
        )])
    if parent is None:
        return _append_timeline(data, appended, src), [src]
    if not isinstance(parent, str):
        raise InputError(
            [Problem("extends", f"expected a file name, found {parent!r}", str(path), line_of(src.node, ["extends"]))]
        )
    parent_path = path.parent / parent
    if parent_path.resolve() in (*seen, path):
        cycle = " -> ".join(str(p) for p in (*seen, path, parent_path.resolve()))
        raise InputError(
            [Problem("extends", f"cycle in extends: {cycle}", str(path), line_of(src.node, ["extends"]))]
        )
    if not parent_path.exists():
        raise InputError(
            [Problem("extends", f"base scenario {parent_path} does not exist", str(path), line_of(src.node, ["extends"]))]
        )
    base, sources = _load_chain(parent_path, (*seen, path))
    if isinstance(data.get("timeline"), list) and base.get("timeline"):
        warnings.warn(InputWarning(
            f"{path}:{line_of(src.node, ['timeline'])}: `timeline:` replaces the {len(base['timeline'])} events "
            f"inherited from {parent_path.name}; list new events under `timeline_append:` to keep them"), stacklevel=2)
    return _append_timeline(_merge(base, data), appended, src), [src, *sources]


def _append_timeline(data: dict[str, Any], appended: list[Any] | None, src: _Source) -> dict[str, Any]:
    """`data` with the events of `timeline_append` after its (inherited or own) timeline."""
    if appended is None:
        return data
    timeline = data.get("timeline") or []
    if not isinstance(timeline, list):
        return data  # the schema reports the malformed timeline
    src.timeline_offset = len(timeline)
    return {**data, "timeline": [*timeline, *copy.deepcopy(appended)]}


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _problems_from(
    exc: ValidationError, sources: list[_Source], prefix: str = "", overrides: dict[str, str] | None = None
) -> list[Problem]:
    """The problems of a pydantic error on merged scenario data: each located in the file that
    defines the field most precisely, or attributed to the `--set` override that caused it.
    """

    def locate(parts: list[str]) -> tuple[str, int | None]:
        if not parts:
            return (str(sources[0].path) if sources else ""), None
        return _locate(sources, parts)

    problems = pydantic_problems(exc, Scenario, locate, prefix)
    for p in problems:
        p.path = _as_written(sources, p.file, p.path)
        path = p.path[len(prefix):]
        setter = next((k for k in (overrides or {}) if path == k or path.startswith(k + ".")
                       or k.startswith(path + ".")), None)
        if setter is not None:
            p.message, p.file, p.line = f"{p.message} [from --set {overrides[setter]!r}]", "--set", None
    return problems


def _check_semantics(sc: Scenario) -> list[Problem]:
    """Cross-field rules the schema cannot express: dates inside the run, known hosts and groups."""
    problems = []
    agents = sum(round(w.size / sc.run.scale) for w in sc.population.waves)
    if agents > MAX_AGENTS:
        problems.append(Problem("run.scale", f"the waves' {sum(w.size for w in sc.population.waves):,.0f} persons at "
                                f"scale {sc.run.scale:g} make {agents:,} agents, more than the {MAX_AGENTS:,} one run may "
                                f"create (about 1 GiB per million); raise run.scale to at least "
                                f"{sum(w.size for w in sc.population.waves) / MAX_AGENTS:.3g}"))
    start = month_number(sc.run.start)
    end = start + sc.run.months - 1
    span = f"the run spans {sc.run.start} to {month_name(end)}"
    for i, wave in enumerate(sc.population.waves):
        for key in ("start", "end"):
            m = month_number(getattr(wave, key))
            if not start <= m <= end:
                problems.append(Problem(f"population.waves.{i}.{key}", f"{getattr(wave, key)} is outside the run ({span})"))
    groups = {g for h in sc.hosts.values() for g in h.groups}
    for i, ev in enumerate(sc.timeline):
        m = month_number(ev.date)
        if not start <= m <= end:
            problems.append(Problem(f"timeline.{i}.date", f"{ev.date} is outside the run ({span})"))
        for j, code in enumerate(ev.hosts or []):
            if code not in sc.hosts:
                problems.append(
                    Problem(f"timeline.{i}.hosts.{j}", f"unknown host {code!r}; known hosts: {', '.join(sc.hosts)}")
                )
        for j, grp in enumerate(ev.groups or []):
            if grp not in groups:
                problems.append(
                    Problem(f"timeline.{i}.groups.{j}", f"no host is in group {grp!r}; groups: {', '.join(sorted(groups))}")
                )
    return problems


def validate(
    data: dict[str, Any], sources: list[_Source] | None = None, overrides: dict[str, str] | None = None
) -> Scenario:
    """A Scenario from raw data, with every schema, cross-field and timeline problem reported.

    `overrides` maps the dotted paths set on the command line to their `PATH=VALUE` text, so
    that problems they cause are attributed to them rather than to a file.
    """
    sources = sources or []
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        raise InputError(_problems_from(exc, sources, overrides=overrides)) from None
    problems = _check_semantics(sc)
    if not problems:
        try:
            epochs(sc)
        except InputError as exc:
            problems = exc.problems
    if problems:
        for p in problems:
            if not p.file and sources:
                p.file, p.line = _locate(sources, p.path.split("."))
                p.path = _as_written(sources, p.file, p.path)
        raise InputError(problems)
    return sc


def load_scenario(path: str | Path, overrides: Sequence[str] | Mapping[str, Any] = ()) -> Scenario:
    """Load, merge (`extends`), override and validate a scenario file.

    `overrides` are `PATH=VALUE` strings as for `--set` (VALUE read as YAML), or a mapping of
    dotted paths to values (``{"run.seed": 4, "hosts.DE.stay.renewal_probability": 0.5}``).
    """
    data, sources = _load_chain(Path(path))
    applied: dict[str, str] = {}
    pairs = ([(k, v, f"{k}={v!r}") for k, v in overrides.items()] if isinstance(overrides, Mapping)
             else [(*parse_assignment(text), text) for text in overrides])
    for key, value, text in pairs:
        try:
            set_path(data, key, value)
        except KeyError as exc:
            raise InputError([Problem(key, f"--set {text!r}: {exc.args[0]}", "--set")]) from None
        applied[key] = text
    return validate(data, sources, applied)


def with_run(sc: Scenario, **changes: Any) -> Scenario:
    """The scenario with run settings (seed, scale, months) replaced; values are validated.

    Unlike `--set run.months=...`, a shorter run here keeps the timeline valid: events after
    the new end are simply not reached.
    """
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        return sc
    try:
        run = Run.model_validate({**sc.run.model_dump(), **changes})
    except ValidationError as exc:
        problems = _problems_from(exc, [], prefix="run.")
        for p in problems:  # given as options (--seed, --scale, --months), not by a file
            p.file = "--" + p.path.removeprefix("run.")
        raise InputError(problems) from None
    return sc.model_copy(update={"run": run})


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file, for editors: the schema plus the loader's keys
    `extends` and `timeline_append`. Nothing is required at the top level, since a file that
    `extends` another may say only what differs (the loader checks the merged result).
    """
    doc = Scenario.model_json_schema()
    doc.pop("required", None)
    doc["properties"]["extends"] = {
        "type": "string", "description": "Base scenario file (relative to this file) that this file overrides.",
    }
    doc["properties"]["timeline_append"] = {
        "type": "array", "items": {"$ref": "#/$defs/Event"},
        "description": "Events added after the inherited timeline (a `timeline` key replaces it instead).",
    }
    return doc


def to_yaml(sc: Scenario) -> str:
    """The fully resolved scenario as YAML (every default and inherited value written out)."""
    return yaml.safe_dump(sc.model_dump(mode="json", exclude_none=True), sort_keys=False, allow_unicode=True)
