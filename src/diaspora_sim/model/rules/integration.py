"""Integration (docs/model.md section 9): language and integration grow toward 1.

`integration_person` is the rule for one person (compiled, inlined into the monthly pass of
rules.month); `integration` runs it over every row.
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from ..state import SECURE
from .codes import IRREGULAR

if TYPE_CHECKING:
    from ..context import MonthContext

IntegrationParams = namedtuple("IntegrationParams", [
    "enclave", "hostility", "secure", "base_rate", "work_bonus", "secure_bonus", "courses_bonus",
    "hostility_penalty", "language_rate",
])
IntegrationParams.__doc__ = """The enclave's brake per host (enclave_penalty * pct / (pct + enclave_half_pct)), the
hostility per host, which statuses are secure (state.SECURE), and the integration section's rates."""


def integration_params(ctx: MonthContext) -> IntegrationParams:
    """The integration rule's parameters this month."""
    g = ctx.integration
    pct = ctx.policy.enclave_pct(ctx.stock)
    return IntegrationParams(
        g.enclave_penalty * pct / (pct + g.enclave_half_pct), ctx.hostility, SECURE, g.base_rate, g.work_bonus,
        g.secure_bonus, g.courses_bonus, g.hostility_penalty, g.language_rate,
    )


@njit(cache=True, inline="always")
def integration_person(i: int, j: int, s, p, prm: IntegrationParams) -> None:
    """Person `i` in host `j`: language += language_rate * (1 + courses_bonus * courses) *
    (1 - language); integration += rate * (1 - integration), rate = base_rate * (1 + work_bonus
    * employed + secure_bonus * secure + courses_bonus * courses) * (0.5 + 0.5 * language
    before this month) * (1 - enclave) * (1 - hostility_penalty * hostility), 0 without status.
    """
    one, half = np.float32(1.0), np.float32(0.5)
    lang = s.language[i]
    s.language[i] = lang + prm.language_rate * (1.0 + prm.courses_bonus * p.courses[j]) * (one - lang)
    status = s.status[i]
    if status != IRREGULAR:
        rate = (
            prm.base_rate
            * (1.0 + prm.work_bonus * s.employed[i] + prm.secure_bonus * prm.secure[status]
               + prm.courses_bonus * p.courses[j])
            * (half + half * lang)
            * (1.0 - prm.enclave[j])
            * (1.0 - prm.hostility_penalty * prm.hostility[j])
        )
        integ = s.integration[i]
        s.integration[i] = integ + rate * (one - integ)

