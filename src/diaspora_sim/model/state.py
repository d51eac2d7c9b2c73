"""Agent state as NumPy columns: one row per emigrant, rows sorted by departure month.

Location codes: 0..H-1 are the hosts (file order), ``H`` is Russia after a return, ``H + 1``
is "has not left yet". Legal-status codes are the ``Status`` constants below.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, fields

import numpy as np


class Status:
    """Legal status codes in the current host (NONE in Russia or before leaving)."""

    NONE = 0
    VISA_FREE = 1
    VISA = 2
    HUMANITARIAN = 3
    ASYLUM_PENDING = 4
    TEMPORARY = 5
    PERMANENT = 6
    REFUGEE = 7
    IRREGULAR = 8

    NAMES = ("none", "visa_free", "visa", "humanitarian_visa", "asylum_pending",
             "temporary_residence", "permanent_residence", "refugee", "irregular")


# Legal security of each status, 0 (none) to 1 (permanent): a term of the choice model.
LEGAL_SECURITY = np.array([0.0, 0.2, 0.3, 0.6, 0.4, 0.6, 1.0, 1.0, 0.0])
# Statuses that count as secure for the integration metric.
SECURE = np.array([False, False, False, True, False, True, True, True, False])
# Statuses that allow work everywhere (visa-free stays allow work only where the host says so).
WORK_RIGHTS = np.array([False, False, False, True, False, True, True, True, False])
# Statuses that hold a residence permit (eligible for a host's travel document).
RESIDENT = SECURE


class Income:
    """Income source codes."""

    NONE = 0
    REMOTE_WESTERN = 1
    REMOTE_RUSSIAN = 2


@dataclass
class State:
    """The columns. Monetary amounts in USD, ages in years, times in months."""

    category: np.ndarray  # int8, index into CATEGORIES
    male: np.ndarray  # bool
    age0: np.ndarray  # float32, age on first departure
    depart: np.ndarray  # int16, month offset of first departure
    engagement: np.ndarray  # float32 0-1
    family_ties: np.ndarray  # float32 0-1
    language: np.ndarray  # float32 0-1
    income_source: np.ndarray  # int8 Income code
    remote_income: np.ndarray  # float32 USD/month when the source is usable
    cash: np.ndarray  # float32 USD, usable anywhere
    ru_savings: np.ndarray  # float32 USD in Russian banks
    passport_valid: np.ndarray  # bool, holds a valid foreign passport
    passport_expiry: np.ndarray  # int16 month offset
    travel_doc: np.ndarray  # bool, holds a Nansen-style travel document
    location: np.ndarray  # int16 location code
    status: np.ndarray  # int8 Status code
    stay_left: np.ndarray  # int16 months left on a visa-free stay, visa or permit
    months_resident: np.ndarray  # int16 months on a temporary permit in the current host
    employed: np.ndarray  # bool, holds a local job
    asylum_refused: np.ndarray  # bool, refused asylum in the current host (no second application)
    integration: np.ndarray  # float32 0-1
    left: np.ndarray  # bool, has ever left Russia
    persecuted: np.ndarray  # bool, persecuted in Russia after returning
    mobilized: np.ndarray  # bool, called up after returning
    moves: np.ndarray  # int16 onward moves between hosts
    returns: np.ndarray  # int16 returns to Russia
    cohort_host: np.ndarray  # int16 host at the end of run.cohort_month (-1: not abroad then, or not yet marked)

    @property
    def n(self) -> int:
        """Number of rows (every emigrant the scenario will ever have)."""
        return len(self.category)

    def nbytes(self) -> int:
        """Memory held by the columns."""
        return sum(getattr(self, f.name).nbytes for f in fields(self))

    def columns(self) -> tuple:
        """The columns as a named tuple (the same arrays), the form compiled kernels take."""
        return Columns(*(getattr(self, f.name) for f in fields(self)))


Columns = namedtuple("Columns", [f.name for f in fields(State)])
