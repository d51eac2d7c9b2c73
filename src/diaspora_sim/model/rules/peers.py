"""Social influence (docs/model.md section 13): the peers' return and permit rates, for next month's choice."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .codes import C

if TYPE_CHECKING:
    from ..context import MonthContext


def peer_rates(
    ctx: MonthContext, agents_hc: np.ndarray, smoothed: np.ndarray, memory: float, min_agents: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The peers' return rate and permit grant rate per host and category (H x C), as peers
    perceive them after this month: returns, permits and peers counted over recent months.

    Peers are the emigrants of the same category in the same host. `smoothed` (3 x H x C:
    returns, permits, agents) are last month's exponentially weighted counts; each month they
    move a share 1 - `memory` toward this month's counts. A community smaller than
    `min_agents` counts as that large (a handful of cases is not a trend). Returns the new
    smoothed counts and the two rates, which enter next month's choice (beta_peer_return,
    beta_peer_permit).
    """
    H = ctx.n_hosts
    now = np.stack([
        ctx.flows["returns"].reshape(H + 2, C)[:H],
        ctx.flows["permits_granted"].reshape(H + 2, C)[:H],
        agents_hc,
    ])
    smoothed = memory * smoothed + (1.0 - memory) * now
    denom = np.maximum(smoothed[2], max(min_agents, 1.0))
    return smoothed, smoothed[0] / denom, smoothed[1] / denom
