"""Resources (docs/model.md section 6): income minus cost of living, Russian savings, jobs found and lost.

`resources_person` is the rule for one person (compiled, inlined into the monthly pass of
rules.month); `resources` runs it over every row. The per-person formulas it is built from
(`remote_share`, `income_abroad`, `russian_income_of`, `may_work`, `job_chance_of`,
`expected_employment`) are also used by legal status and the choice; the array functions
(`monthly_income`, `russian_income`, `can_work`, `job_chance`, `usable_remote_share`,
`job_boost`) apply the same formulas to chosen rows, for the choice model's tables, tests and
readers.
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from ..policy import Policy
from ..state import WORK_RIGHTS, State
from ..streams import draw
from .codes import ACADEMIC, BUSINESS, IRREGULAR, IT, JOURNALIST, NO_INCOME, REMOTE_RUSSIAN, REMOTE_WESTERN, VISA_FREE, C

if TYPE_CHECKING:
    from ..context import MonthContext

ResourcesParams = namedtuple("ResourcesParams", [
    "min_cash_months", "workaround", "cost_ru", "remote_job_loss", "family_support",
])
ResourcesParams.__doc__ = """behaviour.min_cash_months; russia.transfer_workaround_share (share of rouble pay that
arrives where Russian transfers do not work); russia.cost_of_living_usd; russia.remote_job_loss;
behaviour.family_support_usd."""


def resources_params(ctx: MonthContext) -> ResourcesParams:
    """The resources rule's parameters this month."""
    r, b = ctx.russia, ctx.behaviour
    return ResourcesParams(b.min_cash_months, r.transfer_workaround_share, r.cost_of_living_usd, r.remote_job_loss,
                           b.family_support_usd)


# --------------------------------------------------------------------------------------------
# Per-person formulas (compiled; they take scalars: passing the column tuples to a compiled call
# costs a reference-count update per column, which would dominate)
# --------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def remote_share(source: int, bank_accounts: bool, legal: bool, russian_transfers: bool, workaround: float) -> float:
    """Share of remote pay that reaches an emigrant: Western pay needs a local bank account,
    which needs legal status; rouble pay arrives where Russian cards and transfers work, and
    elsewhere only its workaround share.
    """
    if source == REMOTE_WESTERN:
        return 1.0 if bank_accounts and legal else 0.0
    if source == REMOTE_RUSSIAN:
        return 1.0 if russian_transfers else workaround
    return 0.0


@njit(cache=True, inline="always")
def income_abroad(remote_income: np.float32, share: float, employed: bool, wage: float, grant: float) -> float:
    """Income this month, USD, abroad: the usable share of remote pay, the local wage if
    employed, and a media grant (journalists, where a host funds exile media).
    """
    income = remote_income * share
    if employed:
        income += wage
    return income + grant


@njit(cache=True, inline="always")
def russian_income_of(ru_wage: float, source: int, remote_income: np.float32) -> float:
    """Monthly income, USD, in Russia: the Russian wage of the category, or the rouble remote
    job if it pays more (Western clients cannot pay into Russia).
    """
    remote = remote_income if source == REMOTE_RUSSIAN else np.float32(0.0)
    return max(ru_wage, np.float64(remote))


@njit(cache=True, inline="always")
def may_work(status: int, work_visa_free: bool) -> bool:
    """Whether a status allows local work (a visa-free stay only where the host says so)."""
    return WORK_RIGHTS[status] or (status == VISA_FREE and work_visa_free)


@njit(cache=True, inline="always")
def job_chance_of(job_rate: float, language: np.float32) -> float:
    """Monthly probability of finding a local job: the host's rate for the category (support
    programmes included) times 0.5 + 0.5 * language, at most 1.
    """
    return min(job_rate * (np.float32(0.5) + np.float32(0.5) * language), 1.0)


@njit(cache=True, inline="always")
def expected_employment(allowed: bool, employed: bool, job_rate: float, language: np.float32, horizon: float) -> float:
    """The employment rule: the expected chance of holding a local job over `horizon` months.

    1 with a job, else the chance of finding one within the horizon (at most 1), where the
    status allows work; 0 where it does not.
    """
    if not allowed:
        return 0.0
    if employed:
        return 1.0
    return min(horizon * job_chance_of(job_rate, language), 1.0)


# --------------------------------------------------------------------------------------------
# The rule for one person
# --------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def fallback_income(employed: bool, informal_share: float, wage: float, family_support: float,
                    family_ties: np.float32) -> float:
    """Income, USD, of a month in which cash runs low: help from family in Russia
    (family_support_usd x family_ties) and, without a local job, informal or lower-paid work
    (the host's informal_wage_share of the local wage).
    """
    informal = 0.0 if employed else informal_share * wage
    return family_support * family_ties + informal


@njit(cache=True, inline="always")
def resources_person(i: int, j: int, c: int, s, p, month, keys, flags, prm: ResourcesParams) -> None:
    """Person `i` (category `c`, at location `j`): income, cost and savings; abroad also the
    forced decision when money runs out, and jobs lost and found.

    Arithmetic is in the precision of the columns (float32 where they are float32), as in
    monthly_income, job_chance and russian_income.
    """
    if j == month.H:  # in Russia: savings and the Russian income
        income_ru = russian_income_of(p.ru_wage[c], s.income_source[i], s.remote_income[i])
        s.cash[i] += (s.ru_savings[i] + income_ru) - prm.cost_ru
        s.ru_savings[i] = 0.0
        return
    if s.income_source[i] == REMOTE_RUSSIAN and draw(keys.remote_loss, i) < prm.remote_job_loss:
        s.income_source[i] = NO_INCOME  # the rouble remote job is lost
    share = remote_share(s.income_source[i], p.bank_accounts[j], s.status[i] != IRREGULAR,
                         p.russian_transfers[j], prm.workaround)
    income = income_abroad(s.remote_income[i], share, s.employed[i], p.wage[j, c],
                           p.media_grant[j] if c == JOURNALIST else 0.0)
    savings = s.ru_savings[i] if p.russian_transfers[j] else np.float32(0.0)
    if s.cash[i] + savings + income - p.cost[j] < prm.min_cash_months * p.cost[j]:  # cash runs low
        income += fallback_income(s.employed[i], p.informal_share[j], p.wage[j, c], prm.family_support,
                                  s.family_ties[i])
    s.cash[i] += (np.float64(savings) + income) - p.cost[j]
    if p.russian_transfers[j]:
        s.ru_savings[i] = 0.0
    if s.cash[i] < prm.min_cash_months * p.cost[j] and income < p.cost[j]:
        flags.forced[i] = True
        flags.broke[i] = True
    # Jobs lost and found.
    allowed = may_work(s.status[i], p.work_visa_free[j])
    if s.employed[i]:
        if not allowed or draw(keys.job_loss, i) < p.job_loss[j]:
            s.employed[i] = False
    elif allowed and draw(keys.job_finding, i) < job_chance_of(month.job_rate[c, j], s.language[i]):
        s.employed[i] = True



# --------------------------------------------------------------------------------------------
# Array functions: the same formulas over chosen rows
# --------------------------------------------------------------------------------------------

_INCOME, _RUSSIAN_INCOME, _CAN_WORK, _JOB_CHANCE = 0, 1, 2, 3


@njit(cache=True)
def _rows_loop(kind: int, s, p, rows: np.ndarray, hosts: np.ndarray, job_rate: np.ndarray,
               workaround: float) -> np.ndarray:
    """One of the per-person formulas (`kind`) for each (row, host) pair."""
    out = np.empty(len(rows))
    for k in range(len(rows)):
        i, h = rows[k], hosts[k]
        c = s.category[i]
        if kind == _INCOME:
            share = remote_share(s.income_source[i], p.bank_accounts[h], s.status[i] != IRREGULAR,
                                 p.russian_transfers[h], workaround)
            out[k] = income_abroad(s.remote_income[i], share, s.employed[i], p.wage[h, c],
                                   p.media_grant[h] if c == JOURNALIST else 0.0)
        elif kind == _RUSSIAN_INCOME:
            out[k] = russian_income_of(p.ru_wage[c], s.income_source[i], s.remote_income[i])
        elif kind == _CAN_WORK:
            out[k] = may_work(s.status[i], p.work_visa_free[h])
        else:
            out[k] = job_chance_of(job_rate[s.category[i], h], s.language[i])
    return out


def _per_row(kind: int, s: State, ctx: MonthContext, rows: np.ndarray, hosts: np.ndarray | None = None) -> np.ndarray:
    """Formula `kind` for `rows`, each in its host in `hosts` (default: where it is)."""
    rows = np.asarray(rows, np.int64)
    hosts = s.location[rows].astype(np.int64) if hosts is None else np.asarray(hosts, np.int64)
    return _rows_loop(kind, s.columns(), ctx.policy.arrays(), rows, hosts, job_rates(ctx),
                      ctx.russia.transfer_workaround_share)


def usable_remote_share(ctx: MonthContext, source: np.ndarray, hosts: np.ndarray,
                        legal: np.ndarray | bool = True) -> np.ndarray:
    """Share of remote income from `source` that reaches an emigrant in `hosts` with legal status
    `legal` (arrays broadcast; see remote_share).
    """
    p = ctx.policy
    source, hosts, legal = np.broadcast_arrays(source, hosts, legal)
    out = np.empty(source.shape)
    for idx in np.ndindex(source.shape):
        h = hosts[idx]
        out[idx] = remote_share(source[idx], p.bank_accounts[h], legal[idx], p.russian_transfers[h],
                                ctx.russia.transfer_workaround_share)
    return out


def monthly_income(s: State, ctx: MonthContext, rows: np.ndarray) -> np.ndarray:
    """Income this month, USD, of emigrants abroad: usable remote pay, local wage, media grants."""
    return _per_row(_INCOME, s, ctx, rows)


def russian_income(s: State, ctx: MonthContext, rows: np.ndarray) -> np.ndarray:
    """Monthly income, USD, of emigrants if in Russia: the Russian wage of their category, or
    their rouble remote job if it pays more (Western clients cannot pay into Russia).
    """
    return _per_row(_RUSSIAN_INCOME, s, ctx, rows)


def can_work(s: State, ctx: MonthContext, rows: np.ndarray) -> np.ndarray:
    """Whether each emigrant may take a local job under their status."""
    return _per_row(_CAN_WORK, s, ctx, rows).astype(bool)


def job_boost(p: Policy) -> np.ndarray:
    """Multiplier of the job-finding probability per category and host (C x H): 3 for academics
    where a university-in-exile is funded, 2 for IT specialists and businesspeople where a
    relocation programme runs, else 1.
    """
    cats = np.arange(C)[:, None]
    boost = np.where(p.university[None, :] & (cats == ACADEMIC), 3.0, 1.0)
    return np.where(p.relocation[None, :] & ((cats == IT) | (cats == BUSINESS)), 2.0, boost)


def job_rates(ctx: MonthContext) -> np.ndarray:
    """Monthly job-finding probability per category and host (C x H) at language skill 1;
    `job_chance` scales it by the person's language factor 0.5 + 0.5 * language.
    """
    return ctx.policy.job_finding.T * job_boost(ctx.policy)


def job_chance(s: State, ctx: MonthContext, rows: np.ndarray, hosts: np.ndarray | None = None) -> np.ndarray:
    """Monthly probability of finding a local job (language and support programmes included):
    in `hosts` (one per row), or in every host (an n x H array) when `hosts` is None.
    """
    rows = np.asarray(rows, np.int64)
    if hosts is None:
        H = ctx.n_hosts
        return _per_row(_JOB_CHANCE, s, ctx, np.repeat(rows, H), np.tile(np.arange(H), len(rows))).reshape(len(rows), H)
    return _per_row(_JOB_CHANCE, s, ctx, rows, hosts)
