"""Monthly outcome metrics by host and category. Definitions: docs/metrics.md.

Each metric is an array (months x locations x categories). Locations are the hosts in file
order, then ``RU`` (returnees in Russia), then ``ALL`` (every host together, Russia
excluded); categories are CATEGORIES then ``ALL``. Values are persons (agents x scale) or
rates (0-1). Cells that have no meaning (e.g. a return rate per host) are NaN and are left
out of the tidy table.
"""

from __future__ import annotations

import numpy as np

from .rules import FLOWS, Step
from .schema import CATEGORIES
from .state import SECURE, State, Status

C = len(CATEGORIES)

STOCKS = (
    "stock",
    "secure_status",
    "integrated",
    "employed_local",
    "without_documents",
    "without_status",
    "asylum_pending",
    "travel_documents",
    "persecuted",
    "mobilized",
)
TOTALS = ("ever_left", "it_specialists_in_russia")  # persons, host ALL only
RATES = ("return_rate", "integration_rate", "integrated_share")
METRICS = STOCKS + FLOWS + TOTALS + RATES


class Recorder:
    """Collects the metrics month by month into preallocated arrays."""

    def __init__(self, months: int, n_hosts: int, scale: float, threshold: float) -> None:
        self.H = n_hosts
        self.scale = scale
        self.threshold = threshold
        shape = (months, n_hosts + 2, C + 1)
        self.data = {name: np.full(shape, np.nan) for name in METRICS}

    def _by_cell(self, loc: np.ndarray, cat: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Persons per (location, category) among the given rows, locations 0..H (hosts, RU)."""
        key = loc.astype(np.int64) * C + cat
        counts = np.bincount(key, weights=weights, minlength=(self.H + 2) * C)
        return counts.reshape(self.H + 2, C)[: self.H + 1] * self.scale

    def _store(self, name: str, month: int, cells: np.ndarray) -> None:
        """Store a (H+1) x C array of persons with its ALL totals (hosts only for ALL)."""
        out = self.data[name][month]
        out[: self.H + 1, :C] = cells
        out[: self.H + 1, C] = cells.sum(axis=1)
        out[self.H + 1, :C] = cells[: self.H].sum(axis=0)
        out[self.H + 1, C] = cells[: self.H].sum()

    def record(self, month: int, s: State, st: Step) -> None:
        """Metrics at the end of `month` from the state and the month's flows."""
        n, H = st.n, self.H
        loc = s.location[:n]
        cat = s.category[:n]
        placed = loc <= H  # hosts and Russia; not 'has not left'
        loc, cat, rows = loc[placed], cat[placed], np.flatnonzero(placed)
        abroad = loc < H
        status = s.status[rows]
        secure = SECURE[status] & abroad
        integrated = secure & (s.integration[rows] >= self.threshold)
        stocks = {
            "stock": None,
            "secure_status": secure,
            "integrated": integrated,
            "employed_local": s.employed[rows] & abroad,
            "without_documents": abroad & ~s.passport_valid[rows] & ~s.travel_doc[rows],
            "without_status": abroad & (status == Status.IRREGULAR),
            "asylum_pending": abroad & (status == Status.ASYLUM_PENDING),
            "travel_documents": abroad & s.travel_doc[rows],
            "persecuted": (loc == H) & s.persecuted[rows],
            "mobilized": (loc == H) & s.mobilized[rows],
        }
        for name, mask in stocks.items():
            self._store(name, month, self._by_cell(loc, cat, None if mask is None else mask))
        for name in FLOWS:
            cells = st.flows[name].reshape(H + 2, C)[: H + 1] * self.scale
            self._store(name, month, cells)

        d = {k: v[month] for k, v in self.data.items()}
        ever = np.bincount(cat[s.left[rows]], minlength=C) * self.scale
        ever = np.append(ever, ever.sum())
        d["ever_left"][H + 1] = ever
        with np.errstate(invalid="ignore", divide="ignore"):
            d["return_rate"][H + 1] = np.where(ever > 0, d["stock"][H] / ever, np.nan)
            d["integration_rate"][H + 1] = np.where(ever > 0, d["integrated"][H + 1] / ever, np.nan)
            share = d["integrated"] / d["stock"]
        share[H] = np.nan  # no integration in Russia
        d["integrated_share"][:] = np.where(d["stock"] > 0, share, np.nan)
        d["it_specialists_in_russia"][H + 1, C] = d["stock"][H, CATEGORIES.index("it_specialist")]

    def stock_by_cell(self, month: int) -> np.ndarray:
        """Persons per host and category at the end of `month` (H x C)."""
        return self.data["stock"][month, : self.H, :C]
