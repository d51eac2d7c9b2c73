"""Dotted field paths (`hosts.DE.stay.renewal_probability`) and `PATH=VALUE` overrides, as `--set` uses them."""

from __future__ import annotations

from typing import Any

import yaml

from ..core.errors import InputError, Problem


def _is_index(part: str) -> bool:
    """Whether a path part is a list index: ASCII digits only ('²' and other digits are not)."""
    return part.isascii() and part.isdecimal()


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `value` at the dotted path in nested dicts/lists, creating mappings as needed."""
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
