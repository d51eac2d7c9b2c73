"""The timeline: dated policy events, and the policy in force in each epoch of a run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..core.errors import InputError, Problem, pydantic_problems
from .paths import set_path
from .schema import Scenario, month_number


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

    Events apply in date order (file order within a month). Raises InputError naming the
    event when an event's change does not fit the schema.
    """
    start = month_number(sc.run.start)
    order = sorted(range(len(sc.timeline)), key=lambda i: (month_number(sc.timeline[i].date), i))
    result = [Epoch(0, sc, [])]
    # the epochs hold the policy, not the timeline (which no event can change): validating the
    # timeline again for every event would make a long timeline quadratic
    raw = sc.model_dump(mode="json", exclude_none=True, exclude={"timeline"})
    current = sc
    for i in order:
        ev = sc.timeline[i]
        offset = month_number(ev.date) - start
        try:
            apply_event(raw, sc, i)
            current = Scenario.model_validate(raw)
        except KeyError as exc:
            raise InputError([Problem(f"timeline.{i}.set", f"event {ev.name!r}: {exc.args[0]}")]) from None
        except ValidationError as exc:
            problems = pydantic_problems(exc, Scenario, lambda parts: ("", None))
            for p in problems:
                p.message = f"event {ev.name!r} ({ev.date}) makes {p.path} invalid: {p.message}"
                p.path = f"timeline.{i}.set"
            raise InputError(problems) from None
        if result[-1].start == offset:
            result[-1] = Epoch(offset, current, [*result[-1].events, ev.name])
        else:
            result.append(Epoch(offset, current, [ev.name]))
    return result
