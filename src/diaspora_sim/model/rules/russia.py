"""Russia (docs/model.md section 11): returnees risk persecution and the draft; some leave again.

`russia_person` is the rule for one returnee (compiled); `russia` runs it over every row and
sends those who leave again to the choice (rules.choice.decide, no staying, no return).
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from ..state import State
from ..streams import draw
from . import choice
from .bundles import FlowCounts, Month, MonthKeys, borrowing_kernel, keys_of, month_of
from .codes import C
from .person import is_draft_age

if TYPE_CHECKING:
    from ..context import MonthContext

RussiaParams = namedtuple("RussiaParams", [
    "repression_base", "repression_engagement", "mobilization", "draft_risk", "age_min", "age_max",
    "reemigration_rate", "mobilization_flight",
])
RussiaParams.__doc__ = """The russia section's parameters (the probabilities as float32, as the rule's NumPy form:
they meet float32 columns and draws)."""


def russia_params(ctx: MonthContext) -> RussiaParams:
    """The russia rule's parameters this month."""
    r = ctx.russia
    return RussiaParams(
        np.float32(r.repression_base), np.float32(r.repression_engagement), r.mobilization, np.float32(r.draft_risk),
        r.draft_age_min, r.draft_age_max, r.reemigration_rate, r.mobilization_flight,
    )


@njit(cache=True, inline="always")
def russia_person(i: int, cell: int, s, month: Month, keys: MonthKeys, flows: FlowCounts, leaving: np.ndarray,
                  prm: RussiaParams) -> None:
    """Returnee `i`: persecuted with probability repression_base + repression_engagement x
    engagement; while a mobilization is on, draft-age men are called up with probability
    draft_risk; the free leave again (marked in `leaving`) with probability reemigration_rate
    (+ mobilization_flight for draft-age men during a mobilization).
    """
    if not s.persecuted[i] and draw(keys.repression, i) < prm.repression_base + prm.repression_engagement * s.engagement[i]:
        s.persecuted[i] = True
        flows.newly_persecuted[cell] += 1
    exposed = prm.mobilization and is_draft_age(s, i, month.t, prm.age_min, prm.age_max)
    if exposed and not s.mobilized[i] and draw(keys.draft, i) < prm.draft_risk:
        s.mobilized[i] = True
        flows.newly_mobilized[cell] += 1
    if not s.persecuted[i] and not s.mobilized[i]:
        if draw(keys.reemigration, i) < prm.reemigration_rate + prm.mobilization_flight * exposed:
            leaving[i] = True


@borrowing_kernel
def _russia_kernel(s, month: Month, keys: MonthKeys, flows: FlowCounts, leaving: np.ndarray, prm: RussiaParams) -> None:
    """russia_person for each returnee in Russia."""
    H = month.H
    for i in range(month.n):
        if s.location[i] == H:
            russia_person(i, H * C + s.category[i], s, month, keys, flows, leaving, prm)


def draft_age(s: State, ctx: MonthContext, rows: np.ndarray) -> np.ndarray:
    """Whether each person is a man of draft age this month."""
    age = s.age0[rows] + (ctx.t - s.depart[rows]) / 12.0
    return s.male[rows] & (age >= ctx.russia.draft_age_min) & (age <= ctx.russia.draft_age_max)


def russia(s: State, ctx: MonthContext) -> None:
    """Returnees risk persecution (by engagement) and the draft; some leave again.

    The persecuted and the mobilized cannot leave. The rest re-emigrate at a base rate, raised
    for draft-age men while a mobilization is on (IT specialists who came back, then fled).
    """
    leaving = np.zeros(ctx.n, bool)
    _russia_kernel(s.columns(), month_of(ctx), keys_of(ctx), FlowCounts(**ctx.flows), leaving, russia_params(ctx))
    rows = np.flatnonzero(leaving)
    if len(rows):
        choice.decide(s, ctx, rows, allow_stay=False, allow_return=False)
