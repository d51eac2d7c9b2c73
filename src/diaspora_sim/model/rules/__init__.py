"""The monthly rules: one module per process of docs/model.md, each with the function of the same name.

===================  =================================================================  ============
module               the rule (and its compiled per-person function)                   docs/model.md
===================  =================================================================  ============
``outflow``          `outflow`: scheduled leavers choose a first host                   section 5
``resources``        `resources` (`resources_person`): income, costs, savings, jobs     section 6
``documents``        `documents` (`documents_person`): passports, travel documents      section 7
``legal_status``     `legal_status` (`legal_status_person`): stays, permits, asylum     section 8
``integration``      `integration` (`integration_person`): language, integration        section 9
``pressure``         `pressure` (`pressure_person`): harassment, detention, deportation section 10
``russia``           `russia` (`russia_person`): returnees' risks and re-emigration     section 11
``choice``           `decisions`, `decide`: stay, move on or return (multinomial logit) section 12
``moves``            `move_to_host`, `move_to_russia`: consequences of a move           section 12.7
``peers``            `peer_rates`: social influence, for next month's choice            section 13
``month``            `persons_month`: resources to pressure in one pass over persons    section 4
``person``           `is_draft_age`: what a person's row says in a month, shared        sections 11-12
===================  =================================================================  ============

The pass over persons (``month``) compiles the per-person functions of resources, documents,
legal status, integration and pressure, so the entry points that run one of those rules alone
(`resources`, `documents`, `legal_status`, `integration`, `pressure`) live in ``month`` beside
it: rule modules import nothing above them, and no import waits inside a function.

A rule's body is written for one person, in the order of the mechanism, and reads that
person's row and the month's policy. It draws its random numbers from its own stream (one
uniform per agent row and month, computed where needed; see streams.py) and counts flows in
the month's context (``MonthContext.flows``). Compiled functions take a few typed bundles
(rules.bundles, and one parameter bundle per rule) instead of dozens of arguments. The
array-level functions (`entry_routes`, `host_utility`, `choose`, `monthly_income`,
`job_chance`, ...) apply the same compiled per-person formulas to chosen rows, for the choice
model's tables, for tests and for readers. They are all importable from this package.
"""

from __future__ import annotations

from ..metrics import FLOWS  # noqa: F401 - the flow names, kept importable beside the rules that count them
from . import _kernel_cache  # noqa: F401 - first: the cache of the kernels, stamped by every rule source
from .choice import choose, decide, decisions, entry_routes, host_utility, return_utility
from .codes import (  # noqa: F401 - the codes the rules use
    JOB_HORIZON_MONTHS,
    PASSPORT_RENEWAL_MONTHS,
    ROUTE_BORDER,
    ROUTE_CITIZEN,
    ROUTE_FREE,
    ROUTE_HUMANITARIAN,
    ROUTE_IT,
    ROUTE_JOB,
    ROUTE_SECURITY,
    ROUTE_VISA,
    ROUTE_WORK,
    C,
)
from .month import PERSONS_MONTH, documents, integration, legal_status, persons_month, pressure, resources
from .moves import move_to_host, move_to_russia
from .outflow import outflow
from .peers import peer_rates
from .resources import can_work, job_boost, job_chance, monthly_income, russian_income, usable_remote_share
from .russia import draft_age, russia

__all__ = [
    "PERSONS_MONTH", "can_work", "choose", "decide", "decisions", "documents", "draft_age", "entry_routes",
    "host_utility", "integration", "job_boost", "job_chance", "legal_status", "monthly_income", "move_to_host",
    "move_to_russia", "outflow", "peer_rates", "persons_month", "pressure", "resources", "return_utility", "russia",
    "russian_income", "usable_remote_share",
]

