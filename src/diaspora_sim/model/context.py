"""The month's context: what the rules of one month share (policy in force, parameters, draws, flows).

The rules take it as `ctx`, beside the state `s`; their compiled kernels take it as bundles
(rules.bundles).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..scenario.schema import CATEGORIES, Behaviour, Integration, Russia
from .metrics import FLOWS
from .policy import Policy
from .streams import Streams

C = len(CATEGORIES)


@dataclass
class MonthContext:
    """What the rules of one month share: the policy in force, parameters, draws and flows."""

    t: int
    n: int  # rows [0, n) have had their departure month
    policy: Policy
    russia: Russia
    behaviour: Behaviour
    integration: Integration
    streams: Streams
    n_hosts: int
    stock: np.ndarray  # persons per host at the start of the month (H)
    peer_return: np.ndarray  # peers' recent return rate per host and category (H x C), see peer_rates
    peer_permit: np.ndarray  # peers' recent permit grant rate per host and category (H x C)
    hostility: np.ndarray = field(init=False)
    forced: np.ndarray = field(init=False)  # must decide this month (status or money ran out)
    broke: np.ndarray = field(init=False)  # cash ran out this month (forced for want of money)
    expelled: np.ndarray = field(init=False)  # must leave the current host
    harassed: np.ndarray = field(init=False)
    flows: dict[str, np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        self.hostility = self.policy.hostility(self.stock)
        self.forced = np.zeros(self.n, bool)
        self.broke = np.zeros(self.n, bool)
        self.expelled = np.zeros(self.n, bool)
        self.harassed = np.zeros(self.n, bool)
        self.flows = {name: np.zeros((self.n_hosts + 2) * C, np.int64) for name in FLOWS}

    @property
    def RU(self) -> int:  # noqa: N802 - a location code, like the constants
        """Location code of Russia."""
        return self.n_hosts

    def key(self, name: str) -> np.uint64:
        """This month's key of stream `name`: row i's uniform is streams.draw(key, i)."""
        return self.streams.key(name, self.t)

    def u(self, name: str, rows: np.ndarray) -> np.ndarray:
        """This month's uniforms of stream `name` for agent `rows`."""
        return self.streams.draws(name, self.t, rows)

    def count(self, name: str, loc: np.ndarray, cat: np.ndarray) -> None:
        """Add one agent per row to flow `name` at (location, category)."""
        if len(loc):
            self.flows[name] += np.bincount(loc.astype(np.int64) * C + cat, minlength=len(self.flows[name]))
