"""Parameter paths of experiments: the dotted paths of ``--set`` with two additions.

``hosts.@GROUP.rest`` sets ``rest`` in every host of the group (``hosts.@eu...``), and
``timeline.N.set.KEY`` or ``timeline[NAME].set.KEY`` sets the value that event ``N`` (or the event
named ``NAME``) gives to its (dotted) key ``KEY``, for policies that a timeline event changes
during the run. Every path is set with :func:`diaspora_sim.scenario.paths.set_path`, the one
resolver of timeline paths (also used by ``--set``).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ..core.errors import InputError
from ..scenario.loading import validate
from ..scenario.paths import event_path, resolve_event, set_path
from .spec import Parameter


def expand_path(data: dict[str, Any], path: str) -> list[str]:
    """The concrete dotted paths `path` stands for in the scenario data (``hosts.@GROUP`` expanded, an event
    named ``timeline[NAME]`` resolved to its index, so both spellings give the same runs).
    """
    event = event_path(path)
    if event is not None:
        return [f"timeline.{resolve_event(data.get('timeline') or [], event[0])}.{event[1]}"]
    parts = path.split(".")
    if len(parts) >= 3 and parts[0] == "hosts" and parts[1].startswith("@"):
        group = parts[1][1:]
        hosts = data.get("hosts", {})
        codes = [code for code, host in hosts.items() if group in host.get("groups", [])]
        if not codes:
            groups = sorted({g for h in hosts.values() for g in h.get("groups", [])})
            raise KeyError(f"no host is in group {group!r}; groups: {', '.join(groups)}")
        return [".".join(["hosts", code, *parts[2:]]) for code in codes]
    return [path]


def apply_assignment(data: dict[str, Any], path: str, value: Any) -> None:
    """Set one concrete path (see module docstring) in raw scenario data; KeyError if it cannot be set."""
    parts = path.split(".")
    if parts[0] == "hosts" and len(parts) >= 3 and parts[1] not in data.get("hosts", {}):
        raise KeyError(f"unknown host {parts[1]!r}; known hosts: {', '.join(data.get('hosts', {}))}")
    set_path(data, path, value)


def indexed_event(data: dict[str, Any], path: str) -> str | None:
    """The name of the event a ``timeline.N...`` path addresses by index (None for other paths)."""
    event = event_path(path)
    if event is None or not event[0].isdecimal():
        return None
    events = data.get("timeline") or []
    return events[int(event[0])].get("name") if int(event[0]) < len(events) else None


def overriding_events(data: dict[str, Any], path: str) -> list[str]:
    """Timeline events that later overwrite the value at the concrete `path` (the sweep holds only before them)."""
    parts = path.split(".")
    found = []
    for i, ev in enumerate(data.get("timeline", [])):
        if ev.get("hosts") is None and ev.get("groups") is None:
            keys = [k.split(".") for k in ev["set"]]
            rel = parts
        elif parts[0] == "hosts" and len(parts) >= 3:
            host = data["hosts"].get(parts[1], {})
            if parts[1] not in (ev.get("hosts") or []) and not set(host.get("groups", [])) & set(ev.get("groups") or []):
                continue
            keys, rel = [k.split(".") for k in ev["set"]], parts[2:]
        else:
            continue
        if any(k[: len(rel)] == rel or rel[: len(k)] == k for k in keys):
            found.append(f"timeline.{i} ({ev['name']!r}, {ev['date']})")
    return found


def trial_values(p: Parameter) -> list[Any]:
    """Values a parameter is checked with: every grid value, or both ends and an interior point of a range."""
    if p.values is not None:
        return list(p.values)
    lo, hi = p.range
    values = [lo, lo + 0.37 * (hi - lo), hi]
    return [int(round(v)) for v in values] if p.integer else values


def path_problems(data: dict[str, Any], path: str, values: list[Any]) -> list[str]:
    """Problems (messages) of setting `path` to each of `values` in the scenario data; empty when fine."""
    messages: list[str] = []
    try:
        concrete = expand_path(data, path)
    except KeyError as exc:
        return [str(exc.args[0])]
    group = path.split(".")[1] if len(concrete) > 1 or concrete[0] != path else None
    for value in values:
        trial = copy.deepcopy(data)
        text = {c: f"{c}={json.dumps(value)}" for c in concrete}
        try:
            for c in concrete:
                apply_assignment(trial, c, value)
            validate(trial, overrides=text)
        except KeyError as exc:
            return [str(exc.args[0])]
        except InputError as exc:
            for p in exc.problems:
                msg = f"{p.path}: {p.message}" if p.path else p.message
                if group is not None:  # one message for the group, not one per host
                    for c in concrete:
                        msg = msg.replace(f"hosts.{c.split('.')[1]}.", f"hosts.{group}.")
                if isinstance(value, float) and not value.is_integer() and "integer" in p.message:
                    msg += "; set `integer: true` on the parameter"
                if msg not in messages:
                    messages.append(msg)
            break
    return messages


__all__ = ["apply_assignment", "expand_path", "indexed_event", "overriding_events", "path_problems", "trial_values"]
