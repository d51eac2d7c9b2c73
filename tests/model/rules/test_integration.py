"""Integration: language and integration growth (rules.integration).

Hand-computed expectations on tiny hand-built states (see tests/model/builders.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from diaspora_sim.model import rules
from diaspora_sim.model.state import Status

from ..builders import (
    AA,
    RU,
    context,
    state,
    tiny,
)


def test_integration_one_step_formula():
    sc = tiny(**{
        "hosts.AA.support.integration_courses": 0.5,
        "hosts.AA.pressure.hostility_base": 0.1,
        "hosts.AA.pressure.enclave_threshold_pct": 1.0,
        "hosts.AA.pressure.hostility_slope": 0.1,
        "hosts.AA.pressure.population_millions": 1.0,
    })
    # Defaults: base_rate 0.03, work_bonus 1, secure_bonus 0.5, courses_bonus 1, enclave_penalty 0.5,
    # enclave_half_pct 1, hostility_penalty 0.5, language_rate 0.02.
    s = state(3, location=[AA, AA, RU], status=[Status.TEMPORARY, Status.IRREGULAR, Status.NONE], employed=True,
              language=0.4, integration=0.2)
    ctx = context(sc, n=3, stock=(20000.0, 0.0))  # 2 % of AA's population
    rules.integration(s, ctx)
    # Enclave 2 %: penalty 0.5 * 2 / (2 + 1) = 1/3. Hostility 0.1 + 0.1 * (2 - 1) = 0.2 -> factor 1 - 0.5 * 0.2.
    rate = 0.03 * (1 + 1 + 0.5 + 1 * 0.5) * (0.5 + 0.5 * 0.4) * (1 - 1 / 3) * (1 - 0.5 * 0.2)
    assert rate == pytest.approx(0.0378)
    assert s.integration[0] == pytest.approx(0.2 + 0.0378 * 0.8, rel=1e-6)  # 0.23024
    assert s.integration[1] == pytest.approx(0.2)  # no growth without status
    assert s.integration[2] == pytest.approx(0.2)  # not abroad
    # Language: 0.4 + 0.02 * (1 + 1 * 0.5) * (1 - 0.4) = 0.418, with or without status.
    np.testing.assert_allclose(s.language, [0.418, 0.418, 0.4], rtol=1e-6)


# --------------------------------------------------------------------------------------------
