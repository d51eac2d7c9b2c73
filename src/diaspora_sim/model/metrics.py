"""Monthly outcome metrics by host and category. Definitions: docs/metrics.md.

Each metric is an array (months x locations x categories). Locations are the hosts in file
order, then ``RU`` (returnees in Russia), then ``ALL`` (every host together, Russia
excluded); categories are CATEGORIES then ``ALL``. Values are persons (agents x scale) or
rates (0-1). Cells that have no meaning (e.g. a return rate per host) are NaN and are left
out of the tidy table.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..scenario.schema import CATEGORIES
from .state import SECURE, State, Status

ASYLUM_PENDING, IRREGULAR = Status.ASYLUM_PENDING, Status.IRREGULAR

C = len(CATEGORIES)

FLOWS = (
    "arrivals",  # persons entering a host (first departures, onward moves, re-emigration)
    "citizenship_arrivals",  # of which entering as citizens (a law of return)
    "border_arrivals",  # of which crossing a land border to claim asylum
    "departures",  # persons leaving a host (onward moves and returns)
    "returns",  # persons going back to Russia from a host (all reasons)
    "forced_returns",  # of which deported or extradited
    "returns_voluntary",  # of which chosen in a free reconsideration (not forced to decide)
    "returns_status",  # of which chosen when forced to decide by a lost status or an expulsion
    "returns_money",  # of which chosen when forced to decide by cash running out (status kept)
    "onward_moves",  # persons moving from a host to another host
    "first_departures",  # persons leaving Russia for the first time (counted at destination)
    "reemigrations",  # returnees leaving Russia again (counted at destination)
    "could_not_leave",  # scheduled leavers with no host they could reach
    "permits_granted",  # temporary residence permits granted
    "permits_refused",  # permit renewals refused or revoked
    "asylum_applications",  # asylum applications lodged
    "asylum_granted",  # positive asylum decisions
    "visa_runs",  # visa-free stays renewed by leaving and re-entering
    "passports_expired",  # foreign passports expired and not renewed
    "under_pressure",  # persons harassed or detained (each counted once)
    "harassed",  # persons harassed (social hostility)
    "detained",  # persons detained at Russia's request
    "extradited",  # persons handed to Russia
    "deported",  # persons without status deported to Russia
    "newly_persecuted",  # returnees newly persecuted in Russia
    "newly_mobilized",  # returnees called up
)


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
N_STOCKS = len(STOCKS)
TOTALS = ("ever_left", "it_specialists_in_russia")  # persons, host ALL only
RATES = ("return_rate", "integration_rate", "integrated_share", "cohort_returned_12m", "cohort_moved_on_12m")
COHORT_MONTHS = 12  # the cohort metrics compare locations this many months after the cohort month
METRICS = STOCKS + FLOWS + TOTALS + RATES


class Recorder:
    """Collects the metrics month by month into preallocated arrays."""

    def __init__(self, months: int, n_hosts: int, scale: float, threshold: float, cohort: int = -1) -> None:
        self.H = n_hosts
        self.cohort = cohort  # index of the cohort month (run.cohort_month), -1 if none
        self.scale = scale
        self.threshold = threshold
        shape = (months, n_hosts + 2, C + 1)
        self.data = {name: np.full(shape, np.nan) for name in METRICS}

    def _store(self, name: str, month: int, cells: np.ndarray) -> None:
        """Store a (H+1) x C array of persons with its ALL totals (hosts only for ALL)."""
        out = self.data[name][month]
        out[: self.H + 1, :C] = cells
        out[: self.H + 1, C] = cells.sum(axis=1)
        out[self.H + 1, :C] = cells[: self.H].sum(axis=0)
        out[self.H + 1, C] = cells[: self.H].sum()

    def record(self, month: int, s: State, n: int, flows: dict[str, np.ndarray]) -> None:
        """Metrics at the end of `month` from the state (rows below `n` have left) and the month's flows."""
        H = self.H
        counts, ever_left = _count_stocks(n, H, s.columns(), SECURE, np.float32(self.threshold))  # as integration
        for k, name in enumerate(STOCKS):
            self._store(name, month, counts[k, : H + 1] * self.scale)
        for name in FLOWS:
            cells = flows[name].reshape(H + 2, C)[: H + 1] * self.scale
            self._store(name, month, cells)

        d = {k: v[month] for k, v in self.data.items()}
        ever = ever_left * self.scale
        ever = np.append(ever, ever.sum())
        d["ever_left"][H + 1] = ever
        with np.errstate(invalid="ignore", divide="ignore"):
            d["return_rate"][H + 1] = np.where(ever > 0, d["stock"][H] / ever, np.nan)
            d["integration_rate"][H + 1] = np.where(ever > 0, d["integrated"][H + 1] / ever, np.nan)
            share = d["integrated"] / d["stock"]
        share[H] = np.nan  # no integration in Russia
        d["integrated_share"][:] = np.where(d["stock"] > 0, share, np.nan)
        d["it_specialists_in_russia"][H + 1, C] = d["stock"][H, CATEGORIES.index("it_specialist")]
        if month == self.cohort:
            mark_cohort(s.location, s.cohort_host, n, H)
        elif month == self.cohort + COHORT_MONTHS and self.cohort >= 0:
            size, back, moved = _cohort_counts(n, H, s.location, s.cohort_host, s.category)
            size, back, moved = (np.append(x, x.sum()) for x in (size, back, moved))
            with np.errstate(invalid="ignore", divide="ignore"):
                d["cohort_returned_12m"][H + 1] = np.where(size > 0, back / size, np.nan)
                d["cohort_moved_on_12m"][H + 1] = np.where(size > 0, moved / size, np.nan)

    def stock_by_cell(self, month: int) -> np.ndarray:
        """Persons per host and category at the end of `month` (H x C)."""
        return self.data["stock"][month, : self.H, :C]


def mark_cohort(location: np.ndarray, cohort_host: np.ndarray, n: int, H: int) -> None:
    """Mark the cohort: each person abroad (rows below `n`) gets their host in `cohort_host`, others -1."""
    loc = location[:n]
    cohort_host[:n] = np.where(loc < H, loc, -1)


@njit(cache=True)
def _cohort_counts(n, H, location, cohort_host, category):
    """Per category: persons of the cohort, of them in Russia, and in a host other than their cohort host."""
    size, back, moved = np.zeros(C), np.zeros(C), np.zeros(C)
    for i in range(n):
        h0 = cohort_host[i]
        if h0 < 0:
            continue
        c, loc = category[i], location[i]
        size[c] += 1
        back[c] += loc == H
        moved[c] += loc < H and loc != h0
    return size, back, moved


@njit(cache=True)
def _count_stocks(n, H, s, secure_status, threshold):
    """Agents per stock metric (in STOCKS order), location (hosts, RU, not left) and category,
    and agents who ever left per category.
    """
    counts = np.zeros((N_STOCKS, H + 2, C), np.int64)
    ever_left = np.zeros(C, np.int64)
    for i in range(n):
        loc, c = s.location[i], s.category[i]
        if loc > H:  # has not left
            continue
        if s.left[i]:
            ever_left[c] += 1
        counts[0, loc, c] += 1  # stock
        if loc == H:  # back in Russia
            counts[8, loc, c] += s.persecuted[i]
            counts[9, loc, c] += s.mobilized[i]
            continue
        status = s.status[i]
        secure = secure_status[status]
        counts[1, loc, c] += secure
        counts[2, loc, c] += secure and s.integration[i] >= threshold  # integrated
        counts[3, loc, c] += s.employed[i]
        counts[4, loc, c] += not s.passport_valid[i] and not s.travel_doc[i]  # without documents
        counts[5, loc, c] += status == IRREGULAR  # without status
        counts[6, loc, c] += status == ASYLUM_PENDING
        counts[7, loc, c] += s.travel_doc[i]
    return counts, ever_left
