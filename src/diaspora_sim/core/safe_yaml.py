"""Reading YAML input files safely, with the line of every node for error messages.

Files are parsed with PyYAML's safe loader (libyaml when available): no tag can build a Python
object, so no input file can execute code. Before parsing, a file must be a regular file (not
a pipe, device or folder) of at most `MAX_BYTES`, in UTF-8 (or UTF-16 with a byte-order mark,
as some editors save). While parsing, duplicate keys and keys that are not text are refused
with their line, and a document whose aliases would expand to more than `MAX_NODES` nodes is
refused before it is built (a "billion laughs" file cannot exhaust memory).
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError, Problem

MAX_BYTES = 4 * 1024 * 1024
"""Largest input file read (the shipped baseline scenario is about 25 kB)."""
MAX_NODES = 200_000
"""Most YAML nodes a document may expand to, aliases counted at every use."""


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (libyaml when available), refusing duplicate keys and keys that are not text."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                kind = "list" if isinstance(key_node, yaml.SequenceNode) else "mapping"
                raise yaml.constructor.ConstructorError(
                    None, None, f"a key must be a name, found a {kind}", key_node.start_mark)
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key]})", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: yaml.Node, memo: dict[int, int], limit: int) -> int:
    """Nodes of the document below `node` with every alias expanded (stops counting past `limit`)."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # a recursive alias counts once
    total = 1
    children = node.value if isinstance(node, yaml.SequenceNode) else (
        [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else [])
    for child in children:
        total += _expanded_size(child, memo, limit)
        if total > limit:
            break
    memo[key] = total
    return total


def read_text(path: Path, what: str) -> str:
    """The text of an input file: a regular file of at most MAX_BYTES, decoded from UTF-8 (a UTF-8 or
    UTF-16 byte-order mark is honoured). Anything else raises InputError naming the file.
    """

    def refuse(message: str, line: int | None = None) -> InputError:
        return InputError([Problem("", message, str(path), line)], what)

    try:
        info = os.stat(path)
    except OSError as exc:
        raise refuse(f"cannot read file: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a pipe or device?)"
        raise refuse(f"cannot read file: it is {kind}")
    if info.st_size > MAX_BYTES:
        raise refuse(f"file of {info.st_size / 2**20:.1f} MiB is too large (input files are limited to "
                     f"{MAX_BYTES // 2**20} MiB)")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise refuse(f"cannot read file: {exc.strerror}") from None
    encoding = "utf-16" if raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8-sig"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise refuse(f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at line {line} cannot be decoded; save the file "
                     "as UTF-8", line) from None


def read_yaml(path: Path, what: str = "scenario", empty_ok: bool = True) -> tuple[dict[str, Any], yaml.Node | None]:
    """The mapping in YAML file `path` and its node tree (for line numbers). An unreadable,
    malformed or non-mapping file raises InputError naming the file and line; an empty file is
    an empty mapping if `empty_ok`. `what` names the kind of file in messages.
    """
    text = read_text(Path(path), what)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None and _expanded_size(node, {}, MAX_NODES) > MAX_NODES:
            raise InputError([Problem("", f"the document expands to more than {MAX_NODES:,} YAML nodes (aliases "
                                      "counted at each use); refused", str(path), 1)], what)
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
        elif isinstance(node, yaml.SequenceNode) and part.isascii() and part.isdecimal() and int(part) < len(node.value):
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
