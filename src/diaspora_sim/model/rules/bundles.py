"""The bundles the compiled rules take: a few typed named tuples per concern instead of dozens
of positional arguments.

Shared by every rule of the month (built from the month's context `ctx`):

- `Columns` (``state.columns()``): the state, one array per column;
- `PolicyArrays` (``policy.arrays()``): the policy in force, per host (and category);
- `Month`: the month's index, the rows that have left, the number of hosts, the job rates;
- `MonthKeys`: this month's key of every random stream (row i's uniform is ``draw(key, i)``);
- `FlowCounts`: the month's flow counters, one array per flow of ``metrics.FLOWS``, indexed by
  location * C + category;
- `Flags`: the per-person marks of the month (must decide, expelled, harassed, sent to Russia).

Each rule module defines its own parameter bundle (``resources.ResourcesParams``, ...).
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from ..metrics import FLOWS
from .resources import job_rates

if TYPE_CHECKING:
    from ..context import MonthContext

STREAMS = (
    "job_loss", "job_finding", "passport", "status", "status_second", "permit", "harassment", "detention",
    "extradition", "deportation", "repression", "draft", "reemigration", "visa_luck", "choice", "choice_first",
    "reconsider", "remote_loss",
)
"""The random streams the rules draw from, one key per stream and month."""

PERSON_STREAMS = ("ancestry",)
"""Streams of a person's fixed traits, one key for the whole run (not tied to a month): the uniform
that decides eligibility under a law of return is the same every month."""

Month = namedtuple("Month", ["t", "n", "H", "job_rate"])
Month.__doc__ = """The month `t`; rows [0, n) have had their departure month; `H` hosts; the monthly job-finding
probability per category and host at language skill 1 (C x H, see resources.job_rates)."""

MonthKeys = namedtuple("MonthKeys", STREAMS + PERSON_STREAMS)
MonthKeys.__doc__ = "This month's key of each random stream, then the run's key of each person stream (see streams.draw)."

FlowCounts = namedtuple("FlowCounts", FLOWS)
FlowCounts.__doc__ = "The month's flow counters (the arrays of MonthContext.flows), by location * C + category."

Flags = namedtuple("Flags", ["forced", "expelled", "harassed", "to_russia", "broke"])
Flags.__doc__ = """Per-person marks of the month: must decide (status or money ran out), must leave the host,
harassed, deported or extradited (moved to Russia after the pass), cash ran out (the money reason of
`forced`; a lost status is read from the status, irregular)."""


def borrowing_kernel(fn):
    """Compile `fn`, a kernel that reads and writes the arrays it is given but allocates none,
    without numba's reference counting (NRT).

    The per-person rules take whole bundles (named tuples of dozens of arrays). Compiled with
    reference counting, every use of a bundle in an inlined per-person function would update
    the count of each array in it, for each person: some 10 times the cost of the rules
    themselves. Without it the kernel borrows the arrays, which the Python caller holds alive
    for the call; outputs and scratch space are allocated by the caller.
    """
    return njit(cache=True, _nrt=False)(fn)


def month_of(ctx: MonthContext) -> Month:
    """The Month bundle of the context."""
    return Month(ctx.t, ctx.n, ctx.n_hosts, job_rates(ctx))


def keys_of(ctx: MonthContext) -> MonthKeys:
    """This month's key of every stream (computed once per context)."""
    keys = ctx.__dict__.get("_keys")
    if keys is None:
        keys = MonthKeys(*(ctx.key(name) for name in STREAMS),
                         *(ctx.streams.key(name, -1) for name in PERSON_STREAMS))
        ctx.__dict__["_keys"] = keys
    return keys


def flows_of(ctx: MonthContext) -> FlowCounts:
    """The context's flow counters as a named tuple (the same arrays: counting in it counts in ctx.flows)."""
    return FlowCounts(**ctx.flows)


def flags_of(ctx: MonthContext) -> Flags:
    """The context's marks and a fresh `to_russia` mark (rows to move to Russia after a pass)."""
    return Flags(ctx.forced, ctx.expelled, ctx.harassed, np.zeros(ctx.n, bool), ctx.broke)
