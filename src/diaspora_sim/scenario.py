"""Loading scenario files: safe YAML, `extends`, `--set` overrides, clear errors, timeline epochs.

A scenario file is plain YAML read with ``yaml.SafeLoader`` (no tags that build Python objects,
so a file can never execute code). ``extends: base.yaml`` deep-merges the file over its base;
mappings merge key by key, everything else is replaced, except that the events listed under
``timeline_append`` are added after the inherited timeline. Errors name the file, the line where
the parser can give it, the field path, what was expected and what was found.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from .schema import CATEGORIES, Run, Scenario, month_name, month_number


@dataclass
class Problem:
    """One thing wrong with a scenario."""

    path: str
    message: str
    file: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        field_path = self.path or "(top level)"
        return f"{where}: {field_path}: {self.message}" if where else f"{field_path}: {self.message}"


@dataclass
class ScenarioError(Exception):
    """A scenario cannot be used; carries every problem found."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        n = len(self.problems)
        head = f"invalid scenario ({n} problem{'s' if n != 1 else ''}):"
        return "\n".join([head, *("  " + str(p) for p in self.problems)])


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


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (libyaml when available), refusing duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key]})", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def read_yaml(
    path: Path, what: str = "scenario", error: type[ScenarioError] = ScenarioError, empty_ok: bool = True
) -> tuple[dict[str, Any], yaml.Node | None]:
    """The mapping in YAML file `path` and its node tree (for line numbers), read with the safe
    loader (duplicate keys refused). An unreadable, malformed or non-mapping file raises `error`
    naming the file and line; an empty file is an empty mapping if `empty_ok`.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error([Problem("", f"cannot read file: {exc.strerror}", str(path))]) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise error([Problem("", f"malformed YAML: {reason}", str(path), line)]) from None
    finally:
        loader.dispose()
    if data is None and empty_ok:
        data = {}
    if not isinstance(data, dict):
        found = "an empty file" if data is None else type(data).__name__
        raise error([Problem("", f"expected a mapping of {what} fields, found {found}", str(path), 1)])
    return data, node


def _model_fields_at(root: type[BaseModel], parts: list[str]) -> list[str]:
    """The field names of the model at `parts` below `root` (empty if there is none)."""
    model: Any = root
    for part in parts:
        if part.isdigit():
            continue
        info = getattr(model, "model_fields", {}).get(part)
        if info is None:
            return []
        model = info.annotation
        for _ in range(3):  # unwrap list[...] / X | None down to a model class
            args = [a for a in getattr(model, "__args__", ()) if a is not type(None)]
            if isinstance(model, type) and issubclass(model, BaseModel) or not args:
                break
            model = args[0]
    return list(getattr(model, "model_fields", {}))


def schema_problems(exc: ValidationError, root: type[BaseModel], file: str, node: yaml.Node | None) -> list[Problem]:
    """The problems of a pydantic error on a YAML file validated as `root`, with file, line and field path."""
    problems = []
    for err in exc.errors(include_url=False):
        parts = [str(p) for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
        message, found = err["msg"].removeprefix("Value error, "), err.get("input")
        if err["type"] == "missing":
            message = "required field is missing"
        elif err["type"] == "extra_forbidden":
            valid = _model_fields_at(root, parts[:-1])
            close = difflib.get_close_matches(parts[-1], valid, n=1)
            message = "unknown field" + (f"; did you mean {close[0]!r}?" if close else "")
            message += f" (expected one of: {', '.join(valid)})" if valid else ""
        elif not isinstance(found, dict | list) and err["type"] != "value_error":
            message += f" (found {found!r})"
        where = parts[:-1] if err["type"] == "missing" else parts
        problems.append(Problem(".".join(parts), message, file, line_of(node, where) or 1))
    return problems


def _parse(path: Path) -> _Source:
    data, node = read_yaml(path)
    return _Source(path, data, node)


def _match(node: yaml.Node | None, parts: list[str]) -> tuple[int | None, int]:
    """Line (1-based) of the deepest node along `parts` in the tree, and how many parts matched."""
    line, depth = None, 0
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                return line, depth
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            return line, depth
        depth += 1
    return line, depth


def line_of(node: yaml.Node | None, parts: list[str]) -> int | None:
    """Line (1-based) of the deepest node along `parts` that exists in the tree."""
    return _match(node, parts)[0]


def _locate(sources: list[_Source], parts: list[str]) -> tuple[str, int | None]:
    """The file and line that define `parts` most precisely (the most derived file on ties)."""
    best: tuple[str, int | None, int] = (str(sources[0].path) if sources else "", None, 0)
    for src in sources:
        here = parts
        if src.timeline_offset is not None and parts[:1] == ["timeline"] and len(parts) > 1 and parts[1].isdigit():
            index = int(parts[1]) - src.timeline_offset
            if index >= 0:
                here = ["timeline_append", str(index), *parts[2:]]
        line, depth = _match(src.node, here)
        if line is not None and depth > best[2]:
            best = (str(src.path), line, depth)
    return best[0], best[1]


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
        raise ScenarioError([Problem("extends", f"cycle in extends: {cycle}", str(seen[-1]))])
    src = _parse(path)
    data = dict(src.data)
    parent = data.pop("extends", None)
    appended = data.pop("timeline_append", None)
    if appended is not None and not isinstance(appended, list):
        raise ScenarioError([Problem(
            "timeline_append", f"expected a list of events, found {type(appended).__name__}", str(path),
            line_of(src.node, ["timeline_append"]),
        )])
    if parent is None:
        return _append_timeline(data, appended, src), [src]
    if not isinstance(parent, str):
        raise ScenarioError(
            [Problem("extends", f"expected a file name, found {parent!r}", str(path), line_of(src.node, ["extends"]))]
        )
    parent_path = path.parent / parent
    if parent_path.resolve() in (*seen, path):
        cycle = " -> ".join(str(p) for p in (*seen, path, parent_path.resolve()))
        raise ScenarioError(
            [Problem("extends", f"cycle in extends: {cycle}", str(path), line_of(src.node, ["extends"]))]
        )
    if not parent_path.exists():
        raise ScenarioError(
            [Problem("extends", f"base scenario {parent_path} does not exist", str(path), line_of(src.node, ["extends"]))]
        )
    base, sources = _load_chain(parent_path, (*seen, path))
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
# Dotted paths
# --------------------------------------------------------------------------------------------


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `value` at the dotted path in nested dicts/lists, creating mappings as needed."""
    parts = dotted.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise KeyError(f"{'.'.join(parts[: i + 1])}: no list item {part!r}")
            node = node[int(part)]
            continue
        if not isinstance(node, dict):
            raise KeyError(f"{'.'.join(parts[:i])} is a value, not a mapping")
        nxt = node.get(part)
        if isinstance(nxt, int | float) and not isinstance(nxt, bool) and i == len(parts) - 2:
            nxt = node[part] = {"default": nxt}  # per-category scalar gets one category changed
        elif nxt is None:
            nxt = node[part] = {}
        node = nxt
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise KeyError(f"{dotted}: no list item {last!r}")
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise KeyError(f"{'.'.join(parts[:-1])} is a value, not a mapping")


def parse_assignment(text: str) -> tuple[str, Any]:
    """Split a ``PATH=VALUE`` override; VALUE is read as YAML (``true``, ``0.5``, ``[a, b]``)."""
    if "=" not in text:
        raise ScenarioError([Problem("--set", f"expected PATH=VALUE, found {text!r}")])
    path, raw = text.split("=", 1)
    path = path.strip()
    if not path:
        raise ScenarioError([Problem("--set", f"empty path in {text!r}")])
    try:
        return path, yaml.safe_load(raw)
    except yaml.YAMLError:
        return path, raw


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _loc(loc: tuple[Any, ...]) -> list[str]:
    # pydantic adds the name of a function validator or union branch to `loc`; drop those.
    return [str(p) for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]


def _fields_at(parts: list[str]) -> list[str]:
    """Field names of the schema class found at the dotted path `parts` (empty if none)."""
    model: Any = Scenario
    for part in parts:
        fields = getattr(model, "model_fields", None)
        if fields is not None:
            if part not in fields:
                return []
            model = fields[part].annotation
        elif get_origin(model) in (dict, list):
            model = get_args(model)[-1]
        else:
            return []
        while get_origin(model) is not None and get_origin(model) not in (dict, list):
            model = next((a for a in get_args(model) if a is not type(None)), None)
    if get_origin(model) in (dict, list):
        return []
    return list(getattr(model, "model_fields", {}))


def _problems_from(
    exc: ValidationError, sources: list[_Source], prefix: str = "", overrides: dict[str, str] | None = None
) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        parts = _loc(err["loc"])
        path = ".".join(parts)
        found = err.get("input")
        message = err["msg"]
        if err["type"] == "missing":
            message = "required field is missing"
        elif err["type"] == "extra_forbidden":
            valid = [f for f in _fields_at(parts[:-1]) if f != "default"]
            close = difflib.get_close_matches(parts[-1], valid, n=1)
            message = "unknown field" + (f"; did you mean {close[0]!r}?" if close else "")
            if valid:
                message += f" (expected one of: {', '.join(valid)})"
        elif not isinstance(found, dict | list):
            message += f" (found {found!r})"
        setter = next((k for k in (overrides or {}) if path == k or path.startswith(k + ".")
                       or k.startswith(path + ".")), None)
        if setter is not None:
            problems.append(Problem(prefix + path, f"{message} [from --set {overrides[setter]!r}]", "--set"))
            continue
        # a missing field is reported where its parent is written (a replaced list hides the base's)
        where = parts[:-1] if err["type"] == "missing" else parts
        file, line = _locate(sources, where) if where else ((str(sources[0].path) if sources else ""), None)
        problems.append(Problem(prefix + path, message, file, line))
    return problems


def _check_semantics(sc: Scenario) -> list[Problem]:
    """Cross-field rules the schema cannot express: dates inside the run, known hosts and groups."""
    problems = []
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


def event_targets(sc: Scenario, index: int) -> list[str] | None:
    """Host codes an event applies to, or None when its paths start at the scenario root."""
    ev = sc.timeline[index]
    if ev.hosts is None and ev.groups is None:
        return None
    targets = list(ev.hosts or [])
    for code, host in sc.hosts.items():
        if set(host.groups) & set(ev.groups or []) and code not in targets:
            targets.append(code)
    return targets


def apply_event(raw: dict[str, Any], sc: Scenario, index: int) -> None:
    """Apply timeline event `index` of `sc` to the raw scenario data `raw` in place."""
    ev = sc.timeline[index]
    targets = event_targets(sc, index)
    for key, value in ev.set.items():
        if targets is None:
            if key.split(".")[0] in ("timeline", "run", "population"):
                raise KeyError(f"{key}: events may change hosts, russia, behaviour and integration only")
            set_path(raw, key, value)
        else:
            for code in targets:
                set_path(raw, f"hosts.{code}.{key}", value)


@dataclass
class Epoch:
    """The policy in force from month offset `start` (0 = the run's first month) on."""

    start: int
    scenario: Scenario
    events: list[str]


def epochs(sc: Scenario) -> list[Epoch]:
    """The scenario's policy over time: one validated Scenario per month in which events apply.

    Events apply in date order (file order within a month). Raises ScenarioError naming the
    event when an event's change does not fit the schema.
    """
    start = month_number(sc.run.start)
    order = sorted(range(len(sc.timeline)), key=lambda i: (month_number(sc.timeline[i].date), i))
    result = [Epoch(0, sc, [])]
    raw = sc.model_dump(mode="json", exclude_none=True)
    current = sc
    for i in order:
        ev = sc.timeline[i]
        offset = month_number(ev.date) - start
        try:
            apply_event(raw, sc, i)
            current = Scenario.model_validate(raw)
        except KeyError as exc:
            raise ScenarioError([Problem(f"timeline.{i}.set", f"event {ev.name!r}: {exc.args[0]}")]) from None
        except ValidationError as exc:
            problems = _problems_from(exc, [], prefix="")
            for p in problems:
                p.message = f"event {ev.name!r} ({ev.date}) makes {p.path} invalid: {p.message}"
                p.path = f"timeline.{i}.set"
            raise ScenarioError(problems) from None
        if result[-1].start == offset:
            result[-1] = Epoch(offset, current, [*result[-1].events, ev.name])
        else:
            result.append(Epoch(offset, current, [ev.name]))
    return result


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
        raise ScenarioError(_problems_from(exc, sources, overrides=overrides)) from None
    problems = _check_semantics(sc)
    if not problems:
        try:
            epochs(sc)
        except ScenarioError as exc:
            problems = exc.problems
    if problems:
        for p in problems:
            if not p.file and sources:
                p.file, p.line = _locate(sources, p.path.split("."))
        raise ScenarioError(problems)
    return sc


def load_scenario(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Load, merge (`extends`), override (`PATH=VALUE` strings) and validate a scenario file."""
    data, sources = _load_chain(Path(path))
    applied: dict[str, str] = {}
    for text in overrides:
        key, value = parse_assignment(text)
        try:
            set_path(data, key, value)
        except KeyError as exc:
            raise ScenarioError([Problem(key, f"--set {text!r}: {exc.args[0]}", "--set")]) from None
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
        raise ScenarioError(_problems_from(exc, [], prefix="run.")) from None
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


__all__ = [
    "CATEGORIES",
    "Epoch",
    "Problem",
    "ScenarioError",
    "apply_event",
    "epochs",
    "json_schema",
    "line_of",
    "load_scenario",
    "read_yaml",
    "schema_problems",
    "set_path",
    "to_yaml",
    "validate",
    "with_run",
]
