"""Documents: passport renewal and travel documents (rules.documents).

Hand-computed expectations on tiny hand-built states (see tests/model/builders.py).
"""

from __future__ import annotations

import numpy as np

from diaspora_sim.model import rules
from diaspora_sim.model.state import Status
from diaspora_sim.model.streams import Streams

from ..builders import (
    AA,
    ACADEMIC,
    BB,
    IT,
    NOT_LEFT,
    RU,
    context,
    flow,
    flow_total,
    state,
    tiny,
)


def test_documents_renewal_probability_one():
    sc = tiny(**{"russia.passport_renewal": 1.0, "russia.renewal_engagement_penalty": 0.0})
    s = state(3, passport_expiry=[5, 4, 6], engagement=1.0)
    ctx = context(sc, t=5, n=3)
    rules.documents(s, ctx)
    assert s.passport_valid.all()
    np.testing.assert_array_equal(s.passport_expiry, [5 + 120, 5 + 120, 6])  # renewed from this month; row 2 not due
    assert flow_total(ctx, "passports_expired") == 0


def test_documents_renewal_probability_zero_abroad_but_certain_in_russia():
    sc = tiny(**{"russia.passport_renewal": 0.0})
    s = state(4, passport_expiry=5, location=[AA, BB, RU, NOT_LEFT], left=[True, True, True, False],
              category=[IT, ACADEMIC, IT, IT])
    ctx = context(sc, t=5, n=4)
    rules.documents(s, ctx)
    np.testing.assert_array_equal(s.passport_valid, [False, False, True, True])
    np.testing.assert_array_equal(s.passport_expiry[2:], [125, 5])  # renewed in Russia; not-yet-left untouched
    assert flow(ctx, "passports_expired", AA, IT) == 1
    assert flow(ctx, "passports_expired", BB, ACADEMIC) == 1
    assert flow_total(ctx, "passports_expired") == 2


def test_documents_renewal_probability_falls_with_engagement():
    # p = 0.8 * (1 - 0.5 * engagement); the outcome of each row follows the 'passport' stream.
    sc = tiny()
    n = 200
    engagement = np.linspace(0, 1, n, dtype=np.float32)
    s = state(n, passport_expiry=3, engagement=engagement)
    ctx = context(sc, t=3, n=n, seed=11)
    rules.documents(s, ctx)
    u = Streams(11).uniform("passport", 3, n)
    expected = u < 0.8 * (1.0 - 0.5 * engagement)
    np.testing.assert_array_equal(s.passport_valid, expected)
    assert 0 < expected.sum() < n


def test_documents_returnee_without_passport_gets_a_new_one_at_home():
    sc = tiny(**{"russia.passport_renewal": 0.0})
    s = state(3, passport_valid=False, passport_expiry=-1, location=[RU, AA, NOT_LEFT],
              left=[True, True, False], status=[Status.NONE, Status.TEMPORARY, Status.NONE])
    rules.documents(s, context(sc, t=7, n=3))
    np.testing.assert_array_equal(s.passport_valid, [True, False, False])
    assert s.passport_expiry[0] == 7 + 120


def test_documents_travel_document_issued_to_legal_residents_without_passport():
    sc = tiny(**{"hosts.AA.support.travel_document": True})
    s = state(
        5,
        passport_valid=[False, False, False, True, False],
        passport_expiry=-1,
        location=[AA, AA, BB, AA, AA],
        status=[Status.TEMPORARY, Status.VISA_FREE, Status.TEMPORARY, Status.PERMANENT, Status.REFUGEE],
    )
    s.passport_expiry[3] = 600
    rules.documents(s, context(sc, n=5))
    # Residents of AA without a valid passport; not visa-free visitors, not in BB, not passport holders.
    np.testing.assert_array_equal(s.travel_doc, [True, False, False, False, True])


# --------------------------------------------------------------------------------------------
