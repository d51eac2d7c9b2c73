"""Dotted field paths (`hosts.DE.stay.renewal_probability`) and `PATH=VALUE` overrides, as `--set` uses them.

Timeline events are addressed by index (``timeline.7.set.pressure.security_cooperation``) or by
name (``timeline[Kazakh arrests of exiles at Russia's request].set.pressure.security_cooperation``;
a unique case-insensitive part of the name is enough: ``timeline[kazakh arrests]``). The key
an event sets is its whole (dotted) key. :func:`resolve_event` is the one resolver of these paths,
used by ``--set`` (:func:`set_path`) and by experiment parameters.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..core.errors import InputError, Problem


def _is_index(part: str) -> bool:
    """Whether a path part is a list index: ASCII digits only ('²' and other digits are not)."""
    return part.isascii() and part.isdecimal()


def event_path(path: str) -> tuple[str, str] | None:
    """(`REF`, rest) of a timeline path ``timeline.REF...`` or ``timeline[REF]...``; None for other paths."""
    if path.startswith("timeline["):
        end = path.find("]")
        if end < 0 or (len(path) > end + 1 and path[end + 1] != "."):
            raise KeyError(f"{path}: expected timeline[EVENT NAME] followed by .FIELD")
        return path[9:end], path[end + 2:]
    if path.startswith("timeline.") and path.count(".") >= 2:
        ref, rest = path[9:].split(".", 1)
        return ref, rest
    return None


def resolve_event(events: list[dict[str, Any]], ref: str) -> int:
    """The index of the event `ref` names: an index, the exact name, or a unique case-insensitive part of a
    name. KeyError (naming the candidates) when there is none, or when the name is ambiguous.
    """
    listing = "; ".join(f"{i}: {e.get('name')!r} ({e.get('date')})" for i, e in enumerate(events))
    if _is_index(ref):
        if int(ref) >= len(events):
            raise KeyError(f"timeline.{ref}: no such event (the timeline has events 0 to {len(events) - 1})")
        return int(ref)
    exact = [i for i, e in enumerate(events) if e.get("name") == ref]
    found = exact or [i for i, e in enumerate(events) if ref.lower() in str(e.get("name", "")).lower()]
    if not found:
        raise KeyError(f"timeline[{ref}]: no event has that name; events: {listing}")
    if len(found) > 1:
        which = ", ".join(f"{i}: {events[i].get('name')!r} ({events[i].get('date')})" for i in found)
        raise KeyError(f"timeline[{ref}] is ambiguous: it names events {which}; give a longer part of the name")
    return found[0]


def _set_event(data: dict[str, Any], ref: str, rest: str, value: Any) -> None:
    """Set `rest` in the event `ref`; ``set.KEY`` is the value the event gives its whole (dotted) key."""
    events = data.get("timeline")
    if not isinstance(events, list):
        raise KeyError("the scenario has no timeline")
    index = resolve_event(events, ref)
    event = events[index]
    if rest.startswith("set.") and isinstance(event.get("set"), dict):
        key = rest[4:]
        if key not in event["set"]:
            others = [f"timeline.{i} ({e.get('name')!r})" for i, e in enumerate(events)
                      if isinstance(e.get("set"), dict) and key in e["set"]]
            raise KeyError(f"event timeline.{index} ({event.get('name')!r}) does not set {key!r}; it sets "
                           f"{', '.join(event['set'])}" + (f". Events that set {key!r}: {', '.join(others)}"
                                                           if others else ""))
        event["set"][key] = value
        return
    set_path(event, rest, value)


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `value` at the dotted path in nested dicts/lists, creating mappings as needed (timeline events:
    see the module docstring).
    """
    timeline = event_path(dotted)
    if timeline is not None:
        _set_event(data, *timeline, value)
        return
    parts = dotted.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            if not _is_index(part) or int(part) >= len(node):
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
        if not _is_index(last) or int(last) >= len(node):
            raise KeyError(f"{dotted}: no list item {last!r}")
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise KeyError(f"{'.'.join(parts[:-1])} is a value, not a mapping")


def parse_assignment(text: str) -> tuple[str, Any]:
    """Split a ``PATH=VALUE`` override; VALUE is read as YAML (``true``, ``0.5``, ``[a, b]``)."""
    if "=" not in text:
        raise InputError([Problem("--set", f"expected PATH=VALUE, found {text!r}")])
    path, raw = text.split("=", 1)
    path = path.strip()
    if not path:
        raise InputError([Problem("--set", f"empty path in {text!r}")])
    try:
        return path, yaml.safe_load(raw)
    except yaml.YAMLError:
        return path, raw
