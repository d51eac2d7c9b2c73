"""The monthly pass over persons: resources, documents, legal status, integration and pressure
(docs/model.md sections 6 to 10), in this order for each person.

Each of these rules reads and writes only its person's row (and the month's policy and
counters), so running them one after the other for each person equals running each over
every row in turn, and saves four passes over a million rows. The pass (`_persons_kernel`)
calls each rule's per-person function, inlined: `resources_person` (rules.resources),
`documents_person` (rules.documents), `legal_status_person` (rules.legal_status),
`integration_person` (rules.integration), `pressure_person` (rules.pressure).

The kernel's numba cache is stamped by every module it compiles in (rules._kernel_cache), so
an edit of a rule module recompiles it.
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING

import numpy as np

from ..state import State
from .bundles import Flags, FlowCounts, Month, MonthKeys, borrowing_kernel, flags_of, flows_of, keys_of, month_of
from .codes import C
from .documents import documents_params, documents_person
from .integration import integration_params, integration_person
from .legal_status import legal_status_params, legal_status_person
from .moves import move_to_russia
from .pressure import pressure_params, pressure_person
from .resources import resources_params, resources_person

if TYPE_CHECKING:
    from ..context import MonthContext

# The rules the pass runs (bit flags), and their names in the order it runs them.
RESOURCES, DOCUMENTS, LEGAL_STATUS, INTEGRATION, PRESSURE = 1, 2, 4, 8, 16
ALL = RESOURCES | DOCUMENTS | LEGAL_STATUS | INTEGRATION | PRESSURE
PERSONS_MONTH = ("resources", "documents", "legal_status", "integration", "pressure")

PersonsParams = namedtuple("PersonsParams", ["resources", "documents", "legal_status", "integration", "pressure"])
PersonsParams.__doc__ = "The parameter bundles of the rules of the pass."


def persons_month(s: State, ctx: MonthContext) -> None:
    """Resources, documents, legal status, integration and pressure, in this order for each
    person: one pass over the rows.
    """
    run_persons(s, ctx, ALL)


def run_persons(s: State, ctx: MonthContext, rules: int) -> None:
    """Run the rules flagged in `rules` (RESOURCES | ...) for every person who has left; then move
    the extradited and deported to Russia.
    """
    prm = PersonsParams(resources_params(ctx), documents_params(ctx), legal_status_params(ctx), integration_params(ctx),
                        pressure_params(ctx))
    flags = flags_of(ctx)
    _persons_kernel(rules, s.columns(), ctx.policy.arrays(), month_of(ctx), keys_of(ctx), flows_of(ctx), flags, prm)
    move_to_russia(s, ctx, np.flatnonzero(flags.to_russia), forced=True)


def resources(s: State, ctx: MonthContext) -> None:
    """Income minus cost of living; Russian savings reachable where transfers work; jobs found and lost.

    An emigrant abroad whose cash falls below `behaviour.min_cash_months` of living costs while
    spending more than they earn must decide this month (forced). Returnees in Russia live on
    their savings and `russian_income`.
    """
    run_persons(s, ctx, RESOURCES)


def documents(s: State, ctx: MonthContext) -> None:
    """Foreign passports expire; consulates renew them with a probability that falls with engagement.

    In Russia renewal is certain, and a returnee without a valid passport gets a new one. Legal
    residents of a host that issues Nansen-style travel documents get one when their passport
    is no longer valid.
    """
    run_persons(s, ctx, DOCUMENTS)


def legal_status(s: State, ctx: MonthContext) -> None:
    """Stays run out, visa runs, permits granted, renewed, refused or revoked; asylum decided.

    Visa runs, permit applications and renewals need an identity document the host accepts (a
    valid passport, the internal passport where it suffices, or an accepted travel document):
    an expired passport strands its holder. Whoever loses their legal status this month must
    decide (forced); those staying on without it must decide every month if
    behaviour.irregular_decide_monthly, else they reconsider at the ordinary rate.
    """
    run_persons(s, ctx, LEGAL_STATUS)


def integration(s: State, ctx: MonthContext) -> None:
    """Language and integration grow toward 1, faster with work, secure status and courses.

    Growth is slowed by an insular Russian-speaking enclave (the larger the enclave's share of
    the host population, the stronger) and by hostility; it stops without legal status.
    """
    run_persons(s, ctx, INTEGRATION)


def pressure(s: State, ctx: MonthContext) -> None:
    """Harassment grows with hostility; engaged emigrants risk detention at Moscow's request.

    The detained are extradited to Russia (and persecuted there) or expelled from the host;
    people without legal status are deported to Russia.
    """
    run_persons(s, ctx, PRESSURE)


@borrowing_kernel
def _persons_kernel(rules: int, s, p, month: Month, keys: MonthKeys, flows: FlowCounts, flags: Flags,
                    prm: PersonsParams) -> None:
    """The rules flagged in `rules` for each person who has left, in the order of docs/model.md."""
    H = month.H
    for i in range(month.n):
        j = s.location[i]
        if j > H:  # has not left
            continue
        c = s.category[i]
        cell = j * C + c
        if rules & RESOURCES:
            resources_person(i, j, c, s, p, month, keys, flags, prm.resources)
        if rules & DOCUMENTS:
            documents_person(i, j, cell, s, p, month, keys.passport, flows.passports_expired, prm.documents)
        if j == H:
            continue  # the rest concerns people abroad
        if rules & LEGAL_STATUS:
            legal_status_person(i, j, c, cell, s, p, month, keys, flows, flags, prm.legal_status)
        if rules & INTEGRATION:
            integration_person(i, j, s, p, prm.integration)
        if rules & PRESSURE:
            pressure_person(i, j, cell, s, p, keys, flows, flags, prm.pressure)
