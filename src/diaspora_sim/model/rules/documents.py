"""Documents (docs/model.md section 7): foreign passports expire and are renewed or not; travel documents.

`documents_person` is the rule for one person (compiled, inlined into the monthly pass of
rules.month); `documents` runs it over every row.
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from ..state import RESIDENT
from ..streams import draw
from .codes import PASSPORT_RENEWAL_MONTHS

if TYPE_CHECKING:
    from ..context import MonthContext

DocumentsParams = namedtuple("DocumentsParams", ["renewal", "engagement_penalty", "resident"])
DocumentsParams.__doc__ = """russia.passport_renewal (probability a consulate renews a passport abroad),
russia.renewal_engagement_penalty, and which statuses hold a residence permit (state.RESIDENT)."""


def documents_params(ctx: MonthContext) -> DocumentsParams:
    """The documents rule's parameters this month."""
    return DocumentsParams(ctx.russia.passport_renewal, ctx.russia.renewal_engagement_penalty, RESIDENT)


@njit(cache=True, inline="always")
def documents_person(i: int, j: int, cell: int, s, p, month, key: np.uint64, n_expired: np.ndarray,
                     prm: DocumentsParams) -> None:
    """Person `i` at location `j`: an expiring passport is renewed with probability
    renewal * (1 - engagement_penalty * engagement) abroad (certain in Russia), else it is lost
    (counted in `n_expired` at `cell`); a returnee without a valid passport gets one at home; a
    legal resident without one gets the host's travel document where it issues them.
    """
    t, H = month.t, month.H
    if s.passport_valid[i] and s.passport_expiry[i] <= t:
        p_renew = 1.0 if j == H else prm.renewal * (1.0 - prm.engagement_penalty * s.engagement[i])
        if draw(key, i) < p_renew:
            s.passport_expiry[i] = t + PASSPORT_RENEWAL_MONTHS
        else:
            s.passport_valid[i] = False
            n_expired[cell] += 1
    if j == H and not s.passport_valid[i]:
        s.passport_valid[i] = True
        s.passport_expiry[i] = t + PASSPORT_RENEWAL_MONTHS
    elif j < H and not s.passport_valid[i] and p.travel_document[j] and prm.resident[s.status[i]]:
        s.travel_doc[i] = True

