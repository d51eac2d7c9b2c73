"""Decision: stay, move on, or return (docs/model.md section 12), a multinomial logit.

The choice is the costliest rule (every decider weighs every host), so its per-person,
per-host arithmetic is written once, as small compiled functions: `entry_route` (the route
into a host), `expected_employment` (rules.resources: the job one holds or may find),
`host_value` (the utility of living in a host), `stay_utility` and `move_utility` (the
options abroad), `return_utility_person` (going back to Russia) and `logit_pick` (the draw).
`_decide_kernel` runs them in one pass over the deciders; the array functions
(`entry_routes`, `host_utility`, `return_utility`, `choose`) run the same compiled functions
over whole arrays: they are what the tests and the docs refer to.
"""

from __future__ import annotations

import math
from collections import namedtuple
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from ..state import LEGAL_SECURITY, State
from ..streams import draw
from .bundles import Flags, Month, MonthKeys, borrowing_kernel, flags_of, keys_of, month_of
from .codes import (
    IRREGULAR,
    IT,
    JOB_HORIZON_MONTHS,
    JOURNALIST,
    ROUTE_BORDER,
    ROUTE_CITIZEN,
    ROUTE_FREE,
    ROUTE_HUMANITARIAN,
    ROUTE_IT,
    ROUTE_JOB,
    ROUTE_SECURITY,
    ROUTE_STATUS,
    ROUTE_VISA,
    ROUTE_WORK,
    C,
)
from .moves import move_to_host, move_to_russia
from .person import is_draft_age
from .resources import expected_employment, may_work, russian_income_of, usable_remote_share

if TYPE_CHECKING:
    from ..context import MonthContext

ChoiceParams = namedtuple("ChoiceParams", [
    "allow_stay", "allow_return", "first", "horizon", "place", "share", "k_income", "b_savings", "b_risk",
    "b_legal", "b_integration", "inertia", "forced_penalty", "move_cost",
])
ChoiceParams.__doc__ = """Which options are open (staying, returning), whether this is a first departure (its own
stream), the job horizon in months, the place terms (C x H, see place_terms), the usable remote
share per income source and host (3 x H), beta_income / 1000 and the behaviour's coefficients."""

ReturnParams = namedtuple("ReturnParams", [
    "constant", "b_income", "b_savings", "b_risk", "b_draft", "b_family", "b_peer", "cost", "repression_base",
    "repression_engagement", "draft_weight", "age_min", "age_max", "it_lure",
])
ReturnParams.__doc__ = """The terms of the utility of returning: return_constant per category, the behaviour's
coefficients, Russia's cost of living, repression, the draft (weight 1 during a mobilization,
else draft_fear; draft ages) and the IT lure."""


def choice_params(ctx: MonthContext, *, allow_stay: bool = True, allow_return: bool = True,
                  first: bool = False) -> ChoiceParams:
    """The choice's parameters this month, for deciders who may (or may not) stay or return."""
    b = ctx.behaviour
    return ChoiceParams(
        allow_stay, allow_return, first, float(JOB_HORIZON_MONTHS), place_terms(ctx), remote_shares(ctx),
        b.beta_income / 1000.0, b.beta_savings, b.beta_risk, b.beta_legal, b.beta_integration, b.inertia,
        b.forced_stay_penalty, b.move_cost,
    )


def return_params(ctx: MonthContext) -> ReturnParams:
    """The parameters of the utility of returning this month."""
    r, b = ctx.russia, ctx.behaviour
    return ReturnParams(
        np.array(b.return_constant.values()), b.beta_income, b.beta_savings, b.beta_risk, b.beta_draft,
        b.beta_family, b.beta_peer_return, r.cost_of_living_usd, r.repression_base, r.repression_engagement,
        1.0 if r.mobilization else r.draft_fear, r.draft_age_min, r.draft_age_max, r.it_lure,
    )


def place_terms(ctx: MonthContext) -> np.ndarray:
    """The utility terms common to every emigrant of a category in a host (C x H)."""
    p, b = ctx.policy, ctx.behaviour
    journalist = (np.arange(C) == JOURNALIST)[:, None]
    return (
        p.attractiveness[None, :]
        + b.beta_income * (journalist * p.media_grant[None, :] - p.cost[None, :]) / 1000.0
        - b.beta_risk * p.harassment * ctx.hostility
        - b.beta_hostility * ctx.hostility
        + b.beta_diaspora * np.log1p(ctx.stock / 1000.0)
        + b.beta_peer_permit * ctx.peer_permit.T
    )


def remote_shares(ctx: MonthContext) -> np.ndarray:
    """Usable share of remote pay per income source and host (3 x H), with legal status."""
    return usable_remote_share(ctx, np.arange(3)[:, None], np.arange(ctx.n_hosts)[None, :])


# --------------------------------------------------------------------------------------------
# Per-person, per-host formulas (compiled)
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def route_into(free: bool, can_apply: bool, open_: bool, is_it: bool, luck: float, citizen: bool,
               visa_ap: float, humanitarian_ap: float, work_ap: float, it_ap: float, border_ap: float) -> int:
    """The most secure route approved for one person into one host, or -1 if none is.

    In order of security: citizenship (`citizen`: eligible under a law of return, with a
    document to travel on), IT-talent visa, work visa, humanitarian visa, a border crossing to
    claim asylum, a visa-free stay, an ordinary visa.
    """
    if citizen and can_apply:
        return ROUTE_CITIZEN
    if can_apply and open_ and is_it and luck < it_ap:
        return ROUTE_IT
    if can_apply and open_ and luck < work_ap:
        return ROUTE_WORK
    if can_apply and luck < humanitarian_ap:
        return ROUTE_HUMANITARIAN
    if can_apply and open_ and luck < border_ap:
        return ROUTE_BORDER
    if free:
        return ROUTE_FREE
    if can_apply and open_ and luck < visa_ap:
        return ROUTE_VISA
    return -1


@njit(cache=True, inline="always")
def entry_route(i: int, h: int, luck: float, ancestry: float, s, p) -> int:
    """The route by which person `i` (with 'visa luck' `luck` and the fixed uniform `ancestry`
    of their eligibility under a law of return) can enter host `h`, or -1.

    Visa-free entry needs a valid passport where the host is visa-free, or the internal passport
    where it suffices, or a travel document where accepted, and no entry ban; visas, border
    crossings and citizenship need a passport or travel document.
    """
    c, passport, td = s.category[i], s.passport_valid[i], s.travel_doc[i]
    open_ = not p.entry_ban[h]
    free = ((passport and p.visa_free[h]) or p.internal_ok[h] or (td and p.accepts_td[h])) and open_
    return route_into(free, passport or td, open_, c == IT, luck, ancestry < p.law_of_return[h, c],
                      p.visa_approval[h, c], p.humanitarian_approval[h, c] * s.engagement[i],
                      p.work_visa_approval[h, c], p.it_approval[h], p.border_asylum[h])


@njit(cache=True)
def utility(place: float, k_income: float, remote_pay: float, wage: float, employment: float,
            b_savings: float, cash: float, cost: float, personal_risk: float) -> float:
    """Utility of living in a host: its place terms, expected net income, savings buffer, risk.

    `place` holds the terms common to a category in a host (attractiveness, hostility,
    diaspora, peers, cost of living, media grants); `k_income` is beta_income / 1000.
    """
    income = remote_pay + wage * employment
    return place + k_income * income + b_savings * math.log1p(max(cash, 0.0) / cost) - personal_risk


@njit(cache=True, inline="always")
def host_value(i: int, h: int, employment: float, s, p, prm: ChoiceParams) -> float:
    """Utility for person `i` of living in host `h` with expected `employment` (see utility)."""
    c = s.category[i]
    return utility(prm.place[c, h], prm.k_income, s.remote_income[i] * prm.share[s.income_source[i], h],
                   p.wage[h, c], employment, prm.b_savings, s.cash[i], p.cost[h],
                   prm.b_risk * p.security[h] * s.engagement[i])


@njit(cache=True, inline="always")
def forced_stay_cost(irregular: bool, forced: bool, overstay_penalty: float, forced_penalty: float) -> float:
    """The penalty of staying on when forced to decide: the host's overstay penalty without status
    (its enforcement), else forced_stay_penalty when money ran out, else 0.
    """
    if irregular:
        return overstay_penalty
    return forced_penalty if forced else 0.0


@njit(cache=True, inline="always")
def stay_utility(i: int, h: int, s, p, month: Month, forced: np.ndarray, prm: ChoiceParams) -> float:
    """Utility for person `i` of staying in their host `h`: the job they hold (or may find under
    their status), inertia, integration, the security of their status; minus a penalty when forced
    (forced_stay_cost: the host's overstay penalty without status, forced_stay_penalty when broke).
    """
    status = s.status[i]
    employment = expected_employment(may_work(status, p.work_visa_free[h]), s.employed[i],
                                     month.job_rate[s.category[i], h], s.language[i], prm.horizon)
    return (host_value(i, h, employment, s, p, prm)
            + prm.inertia + prm.b_integration * s.integration[i] + prm.b_legal * LEGAL_SECURITY[status]
            - forced_stay_cost(status == IRREGULAR, forced[i], p.overstay_penalty[h], prm.forced_penalty))


@njit(cache=True, inline="always")
def move_utility(i: int, h: int, kind: int, s, p, month: Month, prm: ChoiceParams) -> float:
    """Utility for person `i` of moving to host `h` by route `kind`: the job the route comes with
    (or the chance of one where the status it gives allows work), for a citizen the host's
    citizen_pull and absorption basket (as income), minus the move cost, plus the legal security
    of the route.
    """
    employment = expected_employment(may_work(ROUTE_STATUS[kind], p.work_visa_free[h]), ROUTE_JOB[kind],
                                     month.job_rate[s.category[i], h], s.language[i], prm.horizon)
    citizen = p.citizen_pull[h] + prm.k_income * p.absorption[h] if kind == ROUTE_CITIZEN else 0.0
    return (host_value(i, h, employment, s, p, prm) + citizen - prm.move_cost
            + prm.b_legal * ROUTE_SECURITY[kind])


@njit(cache=True)
def logit_pick(util: np.ndarray, feasible: np.ndarray, u: float, weight: np.ndarray) -> int:
    """Multinomial-logit draw: the first feasible option whose cumulative choice probability
    exceeds `u`; -1 when no option is feasible. `weight` is scratch space, one per option.
    """
    top = -np.inf
    for k in range(len(util)):
        if feasible[k] and util[k] > top:
            top = util[k]
    if top == -np.inf:
        return -1
    total = 0.0
    last = -1
    for k in range(len(util)):
        weight[k] = 0.0
        if feasible[k]:
            weight[k] = math.exp(util[k] - top)
            total += weight[k]
            last = k
    threshold = u * total
    acc = 0.0
    for k in range(len(util)):
        acc += weight[k]
        if feasible[k] and acc > threshold:
            return k
    return last  # u * total rounded up to total


@njit(cache=True, inline="always")
def return_utility_person(i: int, s, p, month: Month, peer_return: np.ndarray, prm: ReturnParams) -> float:
    """Utility for person `i` of going back to (or staying in) Russia (see return_utility)."""
    c = s.category[i]
    income = russian_income_of(p.ru_wage[c], s.income_source[i], s.remote_income[i])
    draft = is_draft_age(s, i, month.t, prm.age_min, prm.age_max)
    loc = s.location[i]
    peers = peer_return[loc, c] if loc < month.H else 0.0
    return (
        prm.constant[c]
        + prm.b_income * (income - prm.cost) / 1000.0
        + prm.b_savings * math.log1p(max(s.cash[i], 0.0) / prm.cost)
        - prm.b_risk * (prm.repression_base + prm.repression_engagement * s.engagement[i])
        - prm.b_draft * draft * prm.draft_weight
        + prm.b_family * s.family_ties[i]
        + prm.it_lure * (c == IT)
        + prm.b_peer * peers
    )


# --------------------------------------------------------------------------------------------
# Kernels: the formulas over many persons
# --------------------------------------------------------------------------------------------


DecideScratch = namedtuple("DecideScratch", ["pick", "route", "util", "feasible", "weight", "kinds"])
DecideScratch.__doc__ = """The decision kernel's outputs (option picked, route; one per decider) and scratch space
(utility, feasibility and logit weight per option, route per host)."""


def decide_scratch(n: int, H: int) -> DecideScratch:
    """Outputs and scratch space of the decision kernel for `n` deciders and `H` hosts."""
    return DecideScratch(np.empty(n, np.int64), np.full(n, -1, np.int8), np.empty(H + 1), np.empty(H + 1, np.bool_),
                         np.empty(H + 1), np.empty(H, np.int8))


@borrowing_kernel
def _decide_kernel(rows: np.ndarray, s, p, month: Month, keys: MonthKeys, flags: Flags, return_u: np.ndarray,
                   prm: ChoiceParams, out: DecideScratch) -> None:
    """For each decider: routes into each host, the utility of each option, and the logit pick.

    Writes the option picked (host, H for Russia, -1 for none) and the route into it to `out`.
    """
    H = month.H
    util, feasible, kinds = out.util, out.feasible, out.kinds
    choice_key = keys.choice_first if prm.first else keys.choice
    for k in range(len(rows)):
        i = rows[k]
        luck = draw(keys.visa_luck, i)
        ancestry = draw(keys.ancestry, i)
        for h in range(H):
            if h == s.location[i]:  # staying
                kinds[h] = -1
                feasible[h] = prm.allow_stay and not flags.expelled[i]
                util[h] = stay_utility(i, h, s, p, month, flags.forced, prm)
                continue
            kind = entry_route(i, h, luck, ancestry, s, p)
            kinds[h] = kind
            feasible[h] = kind >= 0 and (kind == ROUTE_CITIZEN or s.cash[i] >= p.travel_cost[h])
            util[h] = move_utility(i, h, kind, s, p, month, prm) if feasible[h] else 0.0
        util[H] = return_u[k]
        feasible[H] = prm.allow_return
        pick = logit_pick(util, feasible, draw(choice_key, i), out.weight)
        out.pick[k] = pick
        if 0 <= pick < H:
            out.route[k] = kinds[pick]


@njit(cache=True)
def _choose_kernel(util: np.ndarray, feasible: np.ndarray, u: np.ndarray) -> np.ndarray:
    """logit_pick for each row of `util` (options in columns) with uniform `u`."""
    pick = np.empty(len(u), np.int64)
    weight = np.empty(util.shape[1])
    for i in range(len(u)):
        pick[i] = logit_pick(util[i], feasible[i], u[i], weight)
    return pick


@borrowing_kernel
def _routes_kernel(rows: np.ndarray, s, p, luck: np.ndarray, ancestry_key: np.uint64, kind: np.ndarray) -> None:
    """entry_route of each row into each host, written to `kind` (n x H)."""
    for k in range(len(rows)):
        ancestry = draw(ancestry_key, rows[k])
        for h in range(kind.shape[1]):
            kind[k, h] = entry_route(rows[k], h, luck[k], ancestry, s, p)


@borrowing_kernel
def _utility_kernel(rows: np.ndarray, s, p, employment: np.ndarray, prm: ChoiceParams, util: np.ndarray) -> None:
    """host_value of each row in each host, written to `util` (n x H)."""
    n, H = employment.shape
    for k in range(n):
        for h in range(H):
            util[k, h] = host_value(rows[k], h, employment[k, h], s, p, prm)


@borrowing_kernel
def _return_utility_kernel(rows: np.ndarray, s, p, month: Month, peer_return: np.ndarray, prm: ReturnParams,
                           out: np.ndarray) -> None:
    """return_utility_person of each row, written to `out`."""
    for k in range(len(rows)):
        out[k] = return_utility_person(rows[k], s, p, month, peer_return, prm)


@njit(cache=True)
def _deciders(location: np.ndarray, month: Month, flags: Flags, key: np.uint64, decision_rate: float,
              pressure_decision_rate: float) -> np.ndarray:
    """The rows abroad who decide this month: forced, expelled, or reconsidering (stream `reconsider`)."""
    chosen = np.empty(month.n, np.int64)
    k = 0
    for i in range(month.n):
        if location[i] < month.H and (flags.forced[i] or flags.expelled[i] or draw(key, i) < (
                pressure_decision_rate if flags.harassed[i] else decision_rate)):
            chosen[k] = i
            k += 1
    return chosen[:k]


# --------------------------------------------------------------------------------------------
# Array functions and the rule
# --------------------------------------------------------------------------------------------


def entry_routes(s: State, ctx: MonthContext, rows: np.ndarray, luck: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which hosts each emigrant can enter this month, and by which route (both n x H).

    Visa-free entry needs a valid passport (or the internal passport where it suffices, or a
    travel document where accepted); visas need a passport or travel document. An entry ban
    bars every route but the humanitarian visa (whose approval scales with engagement) and
    citizenship. A route is approved when the person's 'visa luck' uniform is below its approval
    probability; citizenship needs eligibility under the host's law of return (the person's
    fixed 'ancestry' uniform below the category's eligible share). Of the approved routes the
    person takes the most secure (route_into). Unapproved: kind -1.
    """
    rows = np.asarray(rows, np.int64)
    kind = np.full((len(rows), ctx.n_hosts), -1, np.int8)
    _routes_kernel(rows, s.columns(), ctx.policy.arrays(), np.asarray(luck), keys_of(ctx).ancestry, kind)
    return kind >= 0, kind


def host_utility(s: State, ctx: MonthContext, rows: np.ndarray, employment: np.ndarray) -> np.ndarray:
    """Systematic utility of living in each host (n x H), before move costs and status quo terms.

    utility = place[c, h] + beta_income * (usable remote pay + wage * employment) / 1000
    + beta_savings * ln(1 + cash / cost[h]) - beta_risk * security[h] * engagement, where
    place[c, h] = attractiveness + beta_income * (media grant - cost) / 1000
    - beta_risk * harassment * hostility - beta_hostility * hostility
    + beta_diaspora * ln(1 + stock / 1000) + beta_peer_permit * peer_permit.

    `employment` (n x H) is each emigrant's expected chance of holding a local job there: 1
    with a job, else the chance of finding one within JOB_HORIZON_MONTHS where the status
    allows work, else 0 (see resources.expected_employment).
    """
    employment = np.ascontiguousarray(employment, np.float64)
    util = np.empty(employment.shape)
    _utility_kernel(np.asarray(rows, np.int64), s.columns(), ctx.policy.arrays(), employment, choice_params(ctx), util)
    return util


def return_utility(s: State, ctx: MonthContext, rows: np.ndarray) -> np.ndarray:
    """Systematic utility of going back to (or staying in) Russia, per emigrant.

    utility = return_constant[c] + beta_income * (russian_income - cost of living) / 1000
    + beta_savings * ln(1 + cash / cost of living) - beta_risk * (repression_base +
    repression_engagement * engagement) - beta_draft * [draft-age man] * (1 during a
    mobilization, else draft_fear) + beta_family * family_ties + it_lure * [IT specialist]
    + beta_peer_return * the peers' return rate in the current host.
    """
    rows = np.asarray(rows, np.int64)
    out = np.empty(len(rows))
    _return_utility_kernel(rows, s.columns(), ctx.policy.arrays(), month_of(ctx), ctx.peer_return, return_params(ctx),
                           out)
    return out


def choose(utility: np.ndarray, feasible: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Multinomial-logit draw: the option whose cumulative choice probability first exceeds `u`.

    Returns -1 for rows with no feasible option.
    """
    return _choose_kernel(np.ascontiguousarray(utility, np.float64), np.ascontiguousarray(feasible, np.bool_),
                          np.asarray(u))


def decide(s: State, ctx: MonthContext, rows: np.ndarray, *, allow_stay: bool = True, allow_return: bool = True,
           first: bool = False) -> np.ndarray:
    """Each emigrant in `rows` chooses among the options they can legally reach and afford.

    Options: every host they can enter (entry route approved this month: one 'visa luck'
    uniform per person, compared with each host's route probability) and can pay the travel
    cost to; staying where they are (unless expelled; with a penalty when forced); returning
    to Russia. An arrival's utility is host_utility with the employment its route allows
    (a job with work and IT-talent visas; the chance of finding one within JOB_HORIZON_MONTHS
    where the status allows work), minus move_cost, plus beta_legal times the route's legal
    security; staying uses the job one has (or the chance of one under one's status) plus
    inertia, beta_integration * integration, beta_legal * the security of one's status and,
    when forced, minus forced_stay_penalty. Returns the rows that moved to a host.
    """
    if len(rows) == 0:
        return rows
    H = ctx.n_hosts
    flags = flags_of(ctx)
    prm = choice_params(ctx, allow_stay=allow_stay, allow_return=allow_return, first=first)
    out = decide_scratch(len(rows), H)
    _decide_kernel(rows, s.columns(), ctx.policy.arrays(), month_of(ctx), keys_of(ctx), flags,
                   return_utility(s, ctx, rows), prm, out)
    pick, route = out.pick, out.route
    loc = s.location[rows]
    cur = np.where(loc < H, loc, -1)
    going = (pick >= 0) & (pick < H) & (pick != cur)
    move_to_host(s, ctx, rows[going], pick[going], route[going])
    move_to_russia(s, ctx, rows[pick == H], forced=False)
    return rows[going]


def decisions(s: State, ctx: MonthContext) -> None:
    """Emigrants abroad who must decide (status or money ran out, expelled) or choose to reconsider
    (with probability behaviour.decision_rate, or pressure_decision_rate in a month of harassment).
    """
    b = ctx.behaviour
    decide(s, ctx, _deciders(s.location, month_of(ctx), flags_of(ctx), keys_of(ctx).reconsider, b.decision_rate,
                             b.pressure_decision_rate))
