"""Outflow (docs/model.md section 5): emigrants whose departure month has come leave Russia."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..state import State
from . import choice

if TYPE_CHECKING:
    from ..context import MonthContext


def outflow(s: State, ctx: MonthContext) -> np.ndarray:
    """Emigrants whose departure month has come leave Russia for a host they can legally enter.

    They choose among the hosts with the choice model (rules.choice.decide), without staying
    or returning, on their own stream (`choice_first`). Returns the rows that left. Those with
    no reachable host stay in Russia and never count as having left (flow `could_not_leave`,
    under RU).
    """
    lo, hi = np.searchsorted(s.depart, [ctx.t, ctx.t + 1])
    rows = np.arange(lo, min(hi, ctx.n))
    if len(rows) == 0:
        return rows
    moved = choice.decide(s, ctx, rows, allow_stay=False, allow_return=False, first=True)
    stuck = np.setdiff1d(rows, moved, assume_unique=True)
    ctx.count("could_not_leave", np.full(len(stuck), ctx.RU), s.category[stuck])
    return moved
