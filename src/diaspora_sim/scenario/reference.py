"""The parameter reference (docs/parameters.md), generated from the scenario schema."""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .schema import Scenario


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.__name__
    if origin is None:
        return getattr(annotation, "__name__", str(annotation))
    args = [a for a in get_args(annotation) if a is not type(None)]
    inner = ", ".join(_type_name(a) for a in args)
    name = getattr(origin, "__name__", str(origin))
    if name in ("Union", "UnionType"):
        return inner + " (optional)" if len(args) < len(get_args(annotation)) else inner
    if name == "Annotated":
        return _type_name(args[0])
    return f"{name}[{inner}]"


def _default(info: FieldInfo) -> str:
    if info.default is not PydanticUndefined:
        return "-" if info.default is None else f"`{info.default!r}`"
    if info.default_factory is not None:
        return "(see section)"
    return "**required**"


def _constraints(info: FieldInfo) -> str:
    parts = []
    for meta in info.metadata:
        for key, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"), ("min_length", "min items")):
            value = getattr(meta, key, None)
            if value is not None:
                parts.append(f"{sym} {value}")
    return ", ".join(parts)


def _submodels(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for a in get_args(annotation) for m in _submodels(a)]


def undocumented_fields(model: type[BaseModel] = Scenario, prefix: str = "") -> list[str]:
    """Dotted names of schema fields without a description (should be none)."""
    missing = []
    for name, info in model.model_fields.items():
        if not (info.description or "").strip():
            missing.append(prefix + name)
        for sub in _submodels(info.annotation):
            missing += undocumented_fields(sub, f"{prefix}{name}.")
    return missing


def parameters_markdown() -> str:
    """A markdown table for every schema class reachable from Scenario."""
    lines = [
        "# Parameter reference",
        "",
        "Generated from the scenario schema by `python -m diaspora_sim schema --markdown`; do not edit by hand.",
        "Every class below is a mapping in the scenario file. Per-category values "
        "(`ProbByCategory`, `UsdByCategory`, `UtilityByCategory`) may be written as one number for "
        "all categories or as a mapping with `default` and the categories that differ.",
        "",
    ]
    seen: set[str] = set()
    queue: list[type[BaseModel]] = [Scenario]
    while queue:
        model = queue.pop(0)
        if model.__name__ in seen:
            continue
        seen.add(model.__name__)
        lines += [f"## {model.__name__}", "", (model.__doc__ or "").strip().split("\n")[0], ""]
        lines += ["| key | type | default | constraints | meaning |", "|---|---|---|---|---|"]
        for name, info in model.model_fields.items():
            desc = (info.description or "").replace("|", "\\|").replace("\n", " ")
            lines.append(
                f"| `{name}` | {_type_name(info.annotation)} | {_default(info)} | {_constraints(info)} | {desc} |"
            )
            queue += [m for m in _submodels(info.annotation) if m.__name__ not in seen]
        lines.append("")
    return "\n".join(lines)
