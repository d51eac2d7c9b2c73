"""Builders of the rule tests: a two-host scenario ("AA" and "BB") built from a dict, tiny
hand-built states and the month's context, and readers of the month's flows.

Probabilities of 0 or 1 make the draws deterministic; where a draw matters the tests compute
the expected outcome from the stream's uniforms.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from diaspora_sim.model.context import MonthContext
from diaspora_sim.model.policy import Policy
from diaspora_sim.model.rules import C
from diaspora_sim.model.state import Income, State, Status
from diaspora_sim.model.streams import Streams
from diaspora_sim.scenario.loading import set_path, validate
from diaspora_sim.scenario.schema import CATEGORIES

IT = CATEGORIES.index("it_specialist")
JOURNALIST = CATEGORIES.index("journalist_activist")
ACADEMIC = CATEGORIES.index("academic")
DRAFT = CATEGORIES.index("draft_evader")
AA, BB, RU, NOT_LEFT = 0, 1, 2, 3  # location codes in the two-host scenario
H = 2
ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline_2022.yaml"

# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------

_PROFILE = {
    "age": {"mean": 30, "sd": 0, "min": 18, "max": 80},
    "male_share": 0.5,
    "foreign_passport_share": 1.0,
    "passport_years_left": {"low": 5, "high": 5},
    "cash_usd": {"median": 1000, "sigma": 0},
    "russian_savings_usd": {"median": 0, "sigma": 0},
    "remote_income_usd": {"median": 0, "sigma": 0},
    "income_source": {"remote_western": 0, "remote_russian": 0, "none": 1},
    "engagement": {"a": 1, "b": 1},
    "family_ties": {"a": 1, "b": 1},
    "language": {"a": 1, "b": 1},
}


def _host(name: str) -> dict:
    """A neutral host: visa-free for 3 months, no permit paths, no pressure, no hostility."""
    return {
        "name": name,
        "entry": {"visa_free": True, "travel_cost_usd": 100},
        "stay": {"visa_free_months": 3, "visa_run_cost_usd": 150, "permit_months": 12,
                 "renewal_probability": 0.9, "permanent_after_months": 24, "permanent_approval": 0.5,
                 "asylum_processing_months": 6},
        "economy": {"cost_of_living_usd": 1000, "local_wage_usd": 1500, "job_finding": 0.0, "job_loss": 0.0},
        "pressure": {"population_millions": 1.0, "deportation_rate": 0.0, "harassment_rate": 0.0,
                     "hostility_base": 0.0, "hostility_slope": 0.0},
    }


_BASE = {
    "run": {"start": "2022-01", "months": 12, "scale": 1, "seed": 0},
    "population": {
        "waves": [{"name": "w", "start": "2022-01", "end": "2022-01", "size": 10,
                   "category_mix": {"it_specialist": 0.2, "journalist_activist": 0.2, "academic": 0.2,
                                    "businessperson": 0.2, "draft_evader": 0.2}}],
        "profiles": {c: _PROFILE for c in CATEGORIES},
    },
    "hosts": {"AA": _host("Aland"), "BB": _host("Bbland")},
    "russia": {"cost_of_living_usd": 700, "wage_usd": {"default": 900, "it_specialist": 2500},
               "repression_base": 0.0, "repression_engagement": 0.0, "reemigration_rate": 0.0,
               "passport_renewal": 0.8, "renewal_engagement_penalty": 0.5, "return_cost_usd": 300},
}


def tiny(**changes):
    """The two-host scenario with dotted-path changes, e.g. tiny(**{"hosts.AA.entry.visa_free": False})."""
    data = copy.deepcopy(_BASE)
    for path, value in changes.items():
        set_path(data, path, value)
    return validate(data)


def context(sc, *, t: int = 0, n: int, stock=(0.0, 0.0), seed: int = 0) -> MonthContext:
    """The context of month `t` of scenario `sc` (rows [0, n) have had their departure month)."""
    return MonthContext(
        t=t, n=n, policy=Policy.from_scenario(sc), russia=sc.russia, behaviour=sc.behaviour,
        integration=sc.integration, streams=Streams(seed), n_hosts=H, stock=np.asarray(stock, float),
        peer_return=np.zeros((H, C)), peer_permit=np.zeros((H, C)),
    )


_COLUMNS = {
    "category": (np.int8, IT),
    "male": (bool, False),
    "age0": (np.float32, 30.0),
    "depart": (np.int16, 0),
    "engagement": (np.float32, 0.0),
    "family_ties": (np.float32, 0.0),
    "language": (np.float32, 0.0),
    "income_source": (np.int8, Income.NONE),
    "remote_income": (np.float32, 0.0),
    "cash": (np.float32, 10000.0),
    "ru_savings": (np.float32, 0.0),
    "passport_valid": (bool, True),
    "passport_expiry": (np.int16, 600),
    "travel_doc": (bool, False),
    "location": (np.int16, AA),
    "status": (np.int8, Status.VISA_FREE),
    "stay_left": (np.int16, 12),
    "months_resident": (np.int16, 0),
    "employed": (bool, False),
    "asylum_refused": (bool, False),
    "integration": (np.float32, 0.0),
    "left": (bool, True),
    "persecuted": (bool, False),
    "mobilized": (bool, False),
    "moves": (np.int16, 0),
    "returns": (np.int16, 0),
    "cohort_host": (np.int16, -1),
}


def state(n: int, **cols) -> State:
    """n rows with neutral defaults (abroad in AA, visa-free, passport valid); cols give scalars or lists."""
    out = {}
    for name, (dtype, default) in _COLUMNS.items():
        value = cols.pop(name, default)
        out[name] = np.broadcast_to(np.asarray(value, dtype=dtype), (n,)).copy()
    assert not cols, f"unknown columns {cols}"
    return State(**out)


def flow(ctx: MonthContext, name: str, loc: int, cat: int) -> int:
    return int(ctx.flows[name].reshape(H + 2, C)[loc, cat])


def flow_total(ctx: MonthContext, name: str) -> int:
    return int(ctx.flows[name].sum())
