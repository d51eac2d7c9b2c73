"""Legal status (docs/model.md section 8): stays run out, visa runs, permits granted, renewed,
refused or revoked, permanent residence, asylum applied for and decided.

`legal_status_person` is the rule for one person (compiled, inlined into the monthly pass of
rules.month), in the order of the section: `stay_ends` (visa-free stays and visas), `permit_term`
(revocation, renewal, permanent residence), `asylum_decision`, `permit_application`,
`asylum_application`. `legal_status` runs it over every row.
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from ..streams import draw
from .codes import (
    ASYLUM_PENDING,
    BUSINESS,
    HUMANITARIAN,
    IRREGULAR,
    IT,
    PERMANENT,
    REFUGEE,
    TEMPORARY,
    VISA,
    VISA_FREE,
)
from .resources import expected_employment

if TYPE_CHECKING:
    from ..context import MonthContext

LegalStatusParams = namedtuple("LegalStatusParams", ["decide_monthly"])
LegalStatusParams.__doc__ = "behaviour.irregular_decide_monthly: the irregular must decide every month."


def legal_status_params(ctx: MonthContext) -> LegalStatusParams:
    """The legal-status rule's parameters this month."""
    return LegalStatusParams(ctx.behaviour.irregular_decide_monthly)


@njit(cache=True, inline="always")
def stay_ends(i: int, j: int, cell: int, status: int, left: int, has_doc: bool, s, p, flows) -> tuple[int, int]:
    """A visa-free stay that ends is renewed by a visa run where the host allows it (valid
    document, cash for the run, host still open), else its holder becomes irregular; an
    expired visa makes its holder irregular. Returns the status and the months left.
    """
    if status == VISA_FREE and left <= 0:
        if (p.visa_run_resets[j] and has_doc and p.visa_free_months[j] > 0 and not p.entry_ban[j]
                and (p.visa_free[j] or p.internal_ok[j]) and s.cash[i] >= p.visa_run_cost[j]):
            s.cash[i] -= p.visa_run_cost[j]
            left = p.visa_free_months[j]
            flows.visa_runs[cell] += 1
        else:
            status = IRREGULAR
    if status == VISA and left <= 0:
        status = IRREGULAR
    return status, left


@njit(cache=True, inline="always")
def permit_term(i: int, j: int, cell: int, status: int, left: int, months_res: int, has_doc: bool, p, keys,
                flows) -> tuple[int, int, int]:
    """Permits (and humanitarian visas): revoked with the host's revocation rate; at the end of
    the term renewed (needs an accepted document) or refused; temporary residents become
    permanent after permanent_after months with probability permanent_approval. Returns the
    status, the months left and the months on a temporary permit.
    """
    renewed = False
    if status == TEMPORARY or status == HUMANITARIAN:
        months_res += 1
        if draw(keys.status, i) < p.revocation[j]:
            status = IRREGULAR
            flows.permits_refused[cell] += 1
        elif left <= 0:
            if has_doc and draw(keys.status_second, i) < p.renewal[j]:
                renewed = True
                status = TEMPORARY
                left = p.permit_months[j]
            else:
                status = IRREGULAR
                flows.permits_refused[cell] += 1
    if (status == TEMPORARY and not renewed and months_res >= p.permanent_after[j]
            and draw(keys.status_second, i) < p.permanent_approval[j]):
        status = PERMANENT
        left = -1  # no term (a citizen's early-departure countdown is the only term of PERMANENT)
    return status, left, months_res


@njit(cache=True, inline="always")
def asylum_decision(i: int, j: int, c: int, cell: int, status: int, left: int, s, p, keys, flows) -> int:
    """A pending asylum claim is decided when its processing time is over: granted (refugee)
    with probability asylum approval x engagement, else refused (irregular, no second claim in
    this host). Returns the status.
    """
    if status == ASYLUM_PENDING and left <= 0:
        if draw(keys.status, i) < p.asylum_approval[j, c] * s.engagement[i]:
            status = REFUGEE
            flows.asylum_granted[cell] += 1
        else:
            status = IRREGULAR
            s.asylum_refused[i] = True
    return status


@njit(cache=True, inline="always")
def permit_application(i: int, j: int, c: int, status: int, has_doc: bool, s, p, month,
                       key: np.uint64) -> bool:
    """Whether a person on a visa-free stay or a visa (or without status, where the host's
    permits_for_irregular allows it), with an accepted document, is granted a temporary permit
    this month: by work (with a job, or the chance of finding one), by company (capital; doubled
    where a relocation programme runs for IT and business), by property, or by family, each path
    independently.
    """
    eligible = status == VISA_FREE or status == VISA or (status == IRREGULAR and p.permits_for_irregular[j])
    if not (eligible and has_doc):
        return False
    cash = s.cash[i]
    job = expected_employment(True, s.employed[i], month.job_rate[c, j], s.language[i], 1.0)
    company = p.company_permit[j, c]
    if p.relocation[j] and (c == IT or c == BUSINESS):
        company *= 2.0
    p_none = (
        (1.0 - p.work_permit[j, c] * job)
        * (1.0 - min(company, 1.0) * (cash >= p.company_capital[j]))
        * (1.0 - p.property_permit[j, c] * (cash >= p.property_price[j]))
        * (1.0 - p.family_permit[j, c])
    )
    return draw(key, i) < 1.0 - p_none


@njit(cache=True, inline="always")
def asylum_application(i: int, j: int, status: int, s, p) -> bool:
    """Whether a politically exposed person without a permit (visa-free, visa or irregular)
    applies for asylum: where it is open, engagement at least the host's minimum, not refused
    here before.
    """
    return ((status == VISA_FREE or status == VISA or status == IRREGULAR) and p.asylum_open[j]
            and s.engagement[i] >= p.asylum_min_engagement[j] and not s.asylum_refused[i])


@njit(cache=True, inline="always")
def legal_status_person(i: int, j: int, c: int, cell: int, s, p, month, keys, flows, flags,
                        prm: LegalStatusParams) -> None:
    """Person `i` (category `c`) in host `j`: the month of their legal status, in the order of
    docs/model.md section 8. Whoever loses their status this month must decide (`flags.forced`); so
    must whoever stays on without it, every month, if behaviour.irregular_decide_monthly. A new
    citizen who came for the passport leaves when their early-departure countdown ends (rules.moves):
    marked `flags.expelled` (must leave the host), a planned departure (rules.moves.return_reason).
    """
    prior = s.status[i]
    status = prior
    left = s.stay_left[i] - 1
    months_res = s.months_resident[i]
    has_doc = s.passport_valid[i] or p.internal_ok[j] or (s.travel_doc[i] and p.accepts_td[j])

    status, left = stay_ends(i, j, cell, status, left, has_doc, s, p, flows)
    status, left, months_res = permit_term(i, j, cell, status, left, months_res, has_doc, p, keys, flows)
    status = asylum_decision(i, j, c, cell, status, left, s, p, keys, flows)
    if permit_application(i, j, c, status, has_doc, s, p, month, keys.permit):
        status = TEMPORARY
        left = p.permit_months[j]
        months_res = 0
        flows.permits_granted[cell] += 1
    if asylum_application(i, j, status, s, p):
        status = ASYLUM_PENDING
        left = p.asylum_months[j]
        flows.asylum_applications[cell] += 1

    s.status[i] = status
    s.stay_left[i] = min(max(left, -1), 32767)
    s.months_resident[i] = months_res
    if status == IRREGULAR and (prm.decide_monthly or prior != IRREGULAR):
        flags.forced[i] = True
    if status == PERMANENT and prior == PERMANENT and left == 0:  # a new citizen who came for the passport
        flags.expelled[i] = True  # leaves as planned: another host or Russia

