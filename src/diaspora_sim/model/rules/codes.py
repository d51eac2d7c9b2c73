"""Codes and constants the rules share: category indices, status and income codes, entry routes.

They are plain module constants (ints and arrays), which compiled kernels read as constants.
"""

from __future__ import annotations

import numpy as np

from ...scenario.schema import CATEGORIES
from ..state import Income, Status

IT = CATEGORIES.index("it_specialist")
JOURNALIST = CATEGORIES.index("journalist_activist")
ACADEMIC = CATEGORIES.index("academic")
BUSINESS = CATEGORIES.index("businessperson")
C = len(CATEGORIES)

VISA_FREE, VISA, HUMANITARIAN, ASYLUM_PENDING = Status.VISA_FREE, Status.VISA, Status.HUMANITARIAN, Status.ASYLUM_PENDING
TEMPORARY, PERMANENT, REFUGEE, IRREGULAR = Status.TEMPORARY, Status.PERMANENT, Status.REFUGEE, Status.IRREGULAR
NO_INCOME, REMOTE_WESTERN, REMOTE_RUSSIAN = Income.NONE, Income.REMOTE_WESTERN, Income.REMOTE_RUSSIAN

PASSPORT_RENEWAL_MONTHS = 120  # a renewed Russian foreign passport is valid ten years
JOB_HORIZON_MONTHS = 6  # chance of finding work within half a year, used by the choice model

# Entry routes. Each has the legal security it gives on arrival (the scale of LEGAL_SECURITY),
# whether it comes with a job (work and IT-talent visas are tied to a job offer) and the status
# it gives on arrival. ROUTE_CITIZEN: citizenship on arrival (Israel's Law of Return);
# ROUTE_BORDER: a land-border crossing to claim asylum (the US southern border).
ROUTE_FREE, ROUTE_VISA, ROUTE_HUMANITARIAN, ROUTE_IT, ROUTE_WORK, ROUTE_CITIZEN, ROUTE_BORDER = 0, 1, 2, 3, 4, 5, 6
ROUTE_SECURITY = np.array([0.2, 0.3, 0.6, 0.6, 0.6, 1.0, 0.4])
ROUTE_JOB = np.array([False, False, False, True, True, False, False])
ROUTE_STATUS = np.array([VISA_FREE, VISA, HUMANITARIAN, TEMPORARY, TEMPORARY, PERMANENT, ASYLUM_PENDING], np.int8)
ABSORPTION_MONTHS = 6  # months of an absorption basket, paid as one sum on arrival
EARLY_DEPARTURE_MONTHS = 2  # new citizens who came for the passport leave in their second month
