"""The policy levers the dashboard offers, and how a choice of levers becomes `--set` overrides.

A host lever is set for every host of a group (``eu``, ``near_abroad``, ...) as the scenario
groups its hosts: the lever ``entry.visa_approval`` of group ``eu`` becomes one
``hosts.<CODE>.entry.visa_approval=<VALUE>`` override for each EU host, exactly as the same
``--set`` options of ``python -m diaspora_sim run`` would. A Russia lever is one override.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

RUSSIA = "russia"
"""The pseudo-group of the levers on the origin country."""


@dataclass(frozen=True)
class Lever:
    """A control: the field it sets and the range of its slider."""

    key: str
    """Path relative to a host (host levers) or from the scenario root (Russia levers)."""
    label: str
    maximum: float = 1.0
    step: float = 0.01


HOST_LEVERS: tuple[Lever, ...] = (
    Lever("entry.visa_approval", "Visa approval"),
    Lever("entry.humanitarian_visa", "Humanitarian visas offered"),
    Lever("entry.humanitarian_approval", "Humanitarian visa approval"),
    Lever("entry.work_visa", "Work visas offered"),
    Lever("entry.work_visa_approval", "Work visa approval"),
    Lever("entry.it_talent_visa", "IT-talent visas offered"),
    Lever("entry.it_talent_approval", "IT-talent visa approval"),
    Lever("stay.renewal_probability", "Permit renewal"),
    Lever("economy.bank_accounts", "Bank accounts for Russians"),
    Lever("support.travel_document", "Issues Nansen-style travel documents"),
    Lever("entry.accepts_travel_document", "Accepts Nansen-style travel documents"),
    Lever("stay.visa_free_months", "Visa-free stay limit", maximum=36, step=1),
    Lever("pressure.security_cooperation", "Security cooperation with Moscow", maximum=0.05, step=0.001),
)
RUSSIA_LEVERS: tuple[Lever, ...] = (
    Lever("russia.it_lure", "IT lure", maximum=5.0, step=0.1),
    Lever("russia.repression_engagement", "Repression (at engagement 1)", maximum=0.2, step=0.005),
    Lever("russia.repression_base", "Repression (at engagement 0)", maximum=0.05, step=0.001),
)
MAIN_GROUPS = ("eu", "near_abroad", "balkans", "other", "west")
"""Groups listed first when a scenario has them."""


def levers_of(group: str) -> tuple[Lever, ...]:
    """The levers of a host group, or of Russia."""
    return RUSSIA_LEVERS if group == RUSSIA else HOST_LEVERS


def ordered_groups(groups: dict[str, list[str]]) -> list[str]:
    """The scenario's host groups, the main ones first, then the rest in file order."""
    first = [g for g in MAIN_GROUPS if g in groups]
    return first + [g for g in groups if g not in first]


def field_paths(group: str, groups: dict[str, list[str]]) -> list[str]:
    """Every dotted path from the scenario root that a group's levers set."""
    if group == RUSSIA:
        return [lv.key for lv in RUSSIA_LEVERS]
    return [f"hosts.{h}.{lv.key}" for h in groups.get(group, []) for lv in HOST_LEVERS]


def format_value(value: Any) -> str:
    """A value as `--set` reads it (YAML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{round(value, 6):g}"
    return str(value)


def overrides(changes: dict[tuple[str, str], Any], groups: dict[str, list[str]]) -> list[str]:
    """`--set` strings for the changed levers: ``changes[(group, key)] = value``.

    Groups are applied in :func:`ordered_groups` order, so a host in two changed groups gets
    the later group's value (both overrides are listed; the last wins, as on the command line).
    """
    out: list[str] = []
    for group in [*ordered_groups(groups), RUSSIA]:
        for lever in levers_of(group):
            if (group, lever.key) not in changes:
                continue
            value = format_value(changes[(group, lever.key)])
            if group == RUSSIA:
                out.append(f"{lever.key}={value}")
            else:
                out += [f"hosts.{h}.{lever.key}={value}" for h in groups[group]]
    return out


def _number(value: Any) -> float:
    if isinstance(value, dict):
        return statistics.fmean(float(v) for v in value.values())
    return float(value)


def baseline(values: list[Any], kind: str) -> Any:
    """The control's starting value for a group whose hosts have `values`: the common value,
    else the majority (yes/no) or the mean (numbers, per-category values averaged).
    """
    if kind == "bool":
        return sum(bool(v) for v in values) * 2 >= len(values)
    mean = statistics.fmean(_number(v) for v in values)
    return round(mean) if kind == "int" else round(mean, 4)


def describe_baseline(values: dict[str, Any]) -> str:
    """The baseline values of a group's hosts, short: one value, or each host's."""
    shown = {h: _short(v) for h, v in values.items()}
    distinct = set(shown.values())
    if len(distinct) == 1:
        return next(iter(distinct))
    return ", ".join(f"{h} {v}" for h, v in shown.items())


def _short(value: Any) -> str:
    if isinstance(value, dict):
        nums = [float(v) for v in value.values()]
        return f"{min(nums):g}-{max(nums):g} by category"
    return format_value(value) if not isinstance(value, float) else f"{value:g}"
