"""What a person's row says in a given month, shared by several rules (the return utility of the
choice, the draft in Russia).
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, inline="always")
def is_draft_age(s, i: int, t: int, age_min: float, age_max: float) -> bool:
    """Whether person `i` is a man of draft age in month `t` (age on departure plus the months since)."""
    age = s.age0[i] + (t - s.depart[i]) / 12.0
    return s.male[i] and age >= age_min and age <= age_max
