"""Pressure (docs/model.md section 10): harassment, detention at Moscow's request, extradition, deportation.

`pressure_person` is the rule for one person (compiled, inlined into the monthly pass of
rules.month); `pressure` runs it over every row.
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING

from numba import njit

from ..streams import draw
from .codes import IRREGULAR

if TYPE_CHECKING:
    from ..context import MonthContext

PressureParams = namedtuple("PressureParams", ["harassment"])
PressureParams.__doc__ = "Probability of harassment per host this month: harassment_rate x hostility."


def pressure_params(ctx: MonthContext) -> PressureParams:
    """The pressure rule's parameters this month."""
    return PressureParams(ctx.policy.harassment * ctx.hostility)


@njit(cache=True, inline="always")
def pressure_person(i: int, j: int, cell: int, s, p, keys, flows, flags, prm: PressureParams) -> None:
    """Person `i` in host `j`: harassed with probability harassment x hostility, detained with
    probability security_cooperation x engagement, then extradited (and persecuted) with
    probability extradition_share or else expelled; without status, deported. Counts go to
    `flows` at `cell`; the extradited and deported are marked in `flags.to_russia`.
    """
    is_harassed = draw(keys.harassment, i) < prm.harassment[j]
    detained = draw(keys.detention, i) < p.security[j] * s.engagement[i]
    if is_harassed:
        flags.harassed[i] = True
        flows.harassed[cell] += 1
    if is_harassed or detained:
        flows.under_pressure[cell] += 1
    if detained:
        flows.detained[cell] += 1
        if draw(keys.extradition, i) < p.extradition[j]:
            flows.extradited[cell] += 1
            s.persecuted[i] = True
            flags.to_russia[i] = True
        else:
            flags.expelled[i] = True
    elif s.status[i] == IRREGULAR and draw(keys.deportation, i) < p.deportation[j]:
        flows.deported[cell] += 1
        flags.to_russia[i] = True

