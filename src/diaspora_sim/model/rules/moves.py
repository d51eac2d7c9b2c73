"""Consequences of a move (docs/model.md section 12.7): to another host, or back to Russia."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..state import State, Status
from .codes import (
    ABSORPTION_MONTHS,
    EARLY_DEPARTURE_MONTHS,
    ROUTE_BORDER,
    ROUTE_CITIZEN,
    ROUTE_FREE,
    ROUTE_JOB,
    ROUTE_STATUS,
    ROUTE_VISA,
)

if TYPE_CHECKING:
    from ..context import MonthContext


def move_to_host(s: State, ctx: MonthContext, rows: np.ndarray, dest: np.ndarray, route: np.ndarray) -> None:
    """Move emigrants to host `dest` with the status their entry route gives."""
    if len(rows) == 0:
        return
    p, H = ctx.policy, ctx.n_hosts
    origin = s.location[rows]
    c = s.category[rows]
    from_host = origin < H
    ctx.count("departures", origin[from_host], c[from_host])
    ctx.count("onward_moves", origin[from_host], c[from_host])
    ctx.count("arrivals", dest, c)
    ctx.count("first_departures", dest[origin == H + 1], c[origin == H + 1])
    ctx.count("reemigrations", dest[origin == H], c[origin == H])
    s.moves[rows[from_host]] += 1
    s.left[rows] = True
    s.location[rows] = dest
    citizen, border = route == ROUTE_CITIZEN, route == ROUTE_BORDER
    # citizens' flights are paid and their absorption basket comes as one sum
    s.cash[rows] += np.where(citizen, ABSORPTION_MONTHS * p.absorption[dest], -p.travel_cost[dest])
    s.employed[rows] = ROUTE_JOB[route]
    s.asylum_refused[rows] = False
    s.integration[rows] = np.where(from_host, s.integration[rows] * ctx.integration.carry_over, 0.0)
    s.months_resident[rows] = 0
    s.status[rows] = ROUTE_STATUS[route]
    # Months until the status must be renewed: a stay, a visa, a permit, the asylum decision. New
    # citizens who came for the passport (stay.citizen_early_departure) must decide again when
    # their countdown ends (rules.legal_status); other citizens keep -1 (no term).
    early = citizen & (ctx.u("early_departure", rows) < p.early_departure[dest])
    s.stay_left[rows] = np.select(
        [route == ROUTE_FREE, route == ROUTE_VISA, border, early, citizen],
        # entry on an internal passport or travel document where no visa-free stay is set: 3 months
        [np.where(p.visa_free_months[dest] > 0, p.visa_free_months[dest], 3), p.visa_months[dest],
         p.asylum_months[dest], EARLY_DEPARTURE_MONTHS, -1],
        p.permit_months[dest],
    )
    ctx.count("citizenship_arrivals", dest[citizen], c[citizen])
    ctx.count("border_arrivals", dest[border], c[border])
    ctx.count("asylum_applications", dest[border], c[border])


REASON_FLOWS = ("returns_voluntary", "returns_status", "returns_money")
"""The flows of chosen returns by reason, indexed by the code return_reason gives."""


def return_reason(irregular: np.ndarray, expelled: np.ndarray, broke: np.ndarray) -> np.ndarray:
    """Why each chosen return was decided: 1 (status) for the irregular and the expelled, else 2
    (money) when cash ran out this month, else 0 (voluntary: a free reconsideration, harassment
    included, and a new citizen's planned departure, which the caller does not count as expelled).
    Deportations and extraditions are not chosen (flow forced_returns).
    """
    status = irregular | expelled
    return np.where(status, 1, np.where(broke, 2, 0))


def move_to_russia(s: State, ctx: MonthContext, rows: np.ndarray, *, forced: bool) -> None:
    """Emigrants abroad go back to Russia (by choice, or deported / extradited when `forced`)."""
    if len(rows) == 0:
        return
    origin, c = s.location[rows], s.category[rows]
    ctx.count("departures", origin, c)
    ctx.count("returns", origin, c)
    if forced:
        ctx.count("forced_returns", origin, c)
    else:
        status = s.status[rows]
        # a citizen 'expelled' at the end of the early-departure countdown leaves as planned
        planned = (status == Status.PERMANENT) & (s.stay_left[rows] == 0)
        reason = return_reason(status == Status.IRREGULAR, ctx.expelled[rows] & ~planned, ctx.broke[rows])
        for code, name in enumerate(REASON_FLOWS):
            ctx.count(name, origin[reason == code], c[reason == code])
    s.location[rows] = ctx.RU
    s.status[rows] = Status.NONE
    s.stay_left[rows] = 0
    s.employed[rows] = False
    s.integration[rows] = 0.0
    s.travel_doc[rows] = False
    s.cash[rows] -= ctx.russia.return_cost_usd
    s.returns[rows] += 1
