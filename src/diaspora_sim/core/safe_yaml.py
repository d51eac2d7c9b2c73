"""Reading YAML input files safely, with the line of every node for error messages.

Files are parsed with PyYAML's safe loader (libyaml when available): no tag can build a Python
object, so no input file can execute code. Duplicate keys are refused with their line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import InputError, Problem


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


def read_yaml(path: Path, what: str = "scenario", empty_ok: bool = True) -> tuple[dict[str, Any], yaml.Node | None]:
    """The mapping in YAML file `path` and its node tree (for line numbers). An unreadable,
    malformed or non-mapping file raises InputError naming the file and line; an empty file is
    an empty mapping if `empty_ok`. `what` names the kind of file in messages.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError([Problem("", f"cannot read file: {exc.strerror}", str(path))], what) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise InputError([Problem("", f"malformed YAML: {reason}", str(path), line)], what) from None
    finally:
        loader.dispose()
    if data is None and empty_ok:
        data = {}
    if not isinstance(data, dict):
        found = "an empty file" if data is None else type(data).__name__
        raise InputError([Problem("", f"expected a mapping of {what} fields, found {found}", str(path), 1)], what)
    return data, node


def match_node(node: yaml.Node | None, parts: list[str]) -> tuple[int | None, int]:
    """Line (1-based) of the deepest node along the field path `parts`, and how many parts matched."""
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
    return match_node(node, parts)[0]


def keys_at(node: yaml.Node | None, parts: list[str]) -> set[str]:
    """The keys written in the mapping at `parts` of the tree (empty if there is none); a part
    of digits indexes a sequence.
    """
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
        else:
            return set()
    return {k.value for k, _ in node.value} if isinstance(node, yaml.MappingNode) else set()


def file_locator(file: str | Path, node: yaml.Node | None):  # noqa: ANN201 - a core.errors.Locate
    """A `core.errors.Locate` for one file: its name and the line of a field path (1 if none)."""
    return lambda parts: (str(file), line_of(node, parts) or 1)
