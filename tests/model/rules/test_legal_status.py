"""Legal status: stays, visa runs, permits, permanent residence, asylum (rules.legal_status).

Hand-computed expectations on tiny hand-built states (see tests/model/builders.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from diaspora_sim.model import rules
from diaspora_sim.model.state import Status
from diaspora_sim.model.streams import Streams

from ..builders import (
    AA,
    ACADEMIC,
    BB,
    IT,
    JOURNALIST,
    context,
    flow,
    flow_total,
    state,
    tiny,
)


def test_legal_status_visa_free_stay_ends_visa_run_or_irregular():
    sc = tiny(**{"hosts.BB.stay.visa_run_resets": False})
    s = state(
        5,
        location=[AA, AA, BB, AA, AA],
        stay_left=[1, 1, 1, 5, 1],
        cash=[1000, 100, 1000, 1000, 1000],
        passport_valid=[True, True, True, True, False],
    )
    ctx = context(sc, n=5)
    rules.legal_status(s, ctx)
    # 0: visa run (affordable, allowed): new 3-month stay, cost paid.
    # 1: can't afford the run (100 < 150); 2: BB does not reset stays; 4: no document to re-enter.
    # 3: stay continues.
    np.testing.assert_array_equal(
        s.status, [Status.VISA_FREE, Status.IRREGULAR, Status.IRREGULAR, Status.VISA_FREE, Status.IRREGULAR]
    )
    np.testing.assert_array_equal(s.stay_left[[0, 3]], [3, 4])
    np.testing.assert_allclose(s.cash, [850, 100, 1000, 1000, 1000])
    assert flow(ctx, "visa_runs", AA, IT) == 1 and flow_total(ctx, "visa_runs") == 1
    np.testing.assert_array_equal(ctx.forced, [False, True, True, False, True])


def test_legal_status_no_visa_run_into_a_banned_or_no_longer_visa_free_host():
    sc = tiny(**{"hosts.AA.entry.entry_ban": True, "hosts.BB.entry.visa_free": False})
    s = state(2, location=[AA, BB], stay_left=1)
    rules.legal_status(s, context(sc, n=2))
    np.testing.assert_array_equal(s.status, Status.IRREGULAR)


def test_legal_status_visa_runs_out():
    s = state(2, status=Status.VISA, stay_left=[1, 2])
    rules.legal_status(s, context(tiny(), n=2))
    np.testing.assert_array_equal(s.status, [Status.IRREGULAR, Status.VISA])


@pytest.mark.parametrize(("renewal", "status_after"), [(1.0, Status.TEMPORARY), (0.0, Status.IRREGULAR)])
def test_legal_status_permit_renewal(renewal, status_after):
    sc = tiny(**{"hosts.AA.stay.renewal_probability": renewal, "hosts.AA.stay.permit_months": 18})
    s = state(3, status=[Status.TEMPORARY, Status.HUMANITARIAN, Status.TEMPORARY], stay_left=[1, 1, 2],
              months_resident=3)
    ctx = context(sc, n=3)
    rules.legal_status(s, ctx)
    np.testing.assert_array_equal(s.status[:2], status_after)
    assert s.status[2] == Status.TEMPORARY and s.stay_left[2] == 1  # not expiring
    np.testing.assert_array_equal(s.months_resident, 4)
    if renewal == 1.0:
        np.testing.assert_array_equal(s.stay_left[:2], 18)
        assert flow_total(ctx, "permits_refused") == 0
        assert not ctx.forced.any()
    else:
        assert flow(ctx, "permits_refused", AA, IT) == 2
        np.testing.assert_array_equal(ctx.forced, [True, True, False])


def test_legal_status_permit_revocation():
    sc = tiny(**{"hosts.AA.stay.revocation_rate": 1.0, "hosts.AA.stay.renewal_probability": 1.0})
    s = state(2, location=[AA, BB], status=Status.TEMPORARY, stay_left=10)
    ctx = context(sc, n=2)
    rules.legal_status(s, ctx)
    np.testing.assert_array_equal(s.status, [Status.IRREGULAR, Status.TEMPORARY])
    assert flow(ctx, "permits_refused", AA, IT) == 1


def test_legal_status_permanent_residence_after_permanent_after_months():
    sc = tiny(**{"hosts.AA.stay.permanent_after_months": 24, "hosts.AA.stay.permanent_approval": 1.0})
    # months_resident is incremented first: 23 -> 24 is eligible, 22 -> 23 is not.
    s = state(3, status=[Status.TEMPORARY, Status.TEMPORARY, Status.HUMANITARIAN], stay_left=10,
              months_resident=[23, 22, 30])
    rules.legal_status(s, context(sc, n=3))
    np.testing.assert_array_equal(s.status, [Status.PERMANENT, Status.TEMPORARY, Status.HUMANITARIAN])
    np.testing.assert_array_equal(s.months_resident, [24, 23, 31])


def test_legal_status_permanent_approval_zero():
    sc = tiny(**{"hosts.AA.stay.permanent_after_months": 1, "hosts.AA.stay.permanent_approval": 0.0})
    s = state(1, status=Status.TEMPORARY, stay_left=10, months_resident=50)
    rules.legal_status(s, context(sc, n=1))
    assert s.status[0] == Status.TEMPORARY


def test_legal_status_asylum_decision():
    sc = tiny(**{"hosts.AA.stay.asylum": {"available": True, "approval": 1.0},
                 "hosts.AA.stay.asylum_min_engagement": 0.5})
    s = state(4, status=Status.ASYLUM_PENDING, stay_left=[1, 1, 1, 3], engagement=[1.0, 0.0, 0.7, 1.0],
              category=JOURNALIST)
    ctx = context(sc, n=4, seed=3)
    rules.legal_status(s, ctx)
    # Approval 1 x engagement: granted at 1, refused at 0 (and no second application though asylum is open);
    # at 0.7 per the 'status' stream. Row 3 still waiting.
    u = Streams(3).uniform("status", 0, 4)
    granted_2 = bool(u[2] < np.float32(0.7))
    assert s.status[0] == Status.REFUGEE
    assert s.status[1] == Status.IRREGULAR and s.asylum_refused[1]
    assert s.status[2] == (Status.REFUGEE if granted_2 else Status.IRREGULAR)
    assert s.asylum_refused[2] == (not granted_2)
    assert s.status[3] == Status.ASYLUM_PENDING and s.stay_left[3] == 2
    assert flow(ctx, "asylum_granted", AA, JOURNALIST) == 1 + granted_2
    assert flow_total(ctx, "asylum_applications") == 0


def test_legal_status_asylum_application():
    sc = tiny(**{"hosts.AA.stay.asylum": {"available": True, "approval": 0.5},
                 "hosts.AA.stay.asylum_min_engagement": 0.5})
    s = state(
        5,
        location=[AA, AA, AA, BB, AA],
        status=[Status.VISA_FREE, Status.VISA_FREE, Status.IRREGULAR, Status.VISA_FREE, Status.IRREGULAR],
        engagement=[0.8, 0.3, 0.5, 0.9, 0.9],
        asylum_refused=[False, False, False, False, True],
        stay_left=10,
    )
    ctx = context(sc, n=5)
    rules.legal_status(s, ctx)
    np.testing.assert_array_equal(
        s.status,
        [Status.ASYLUM_PENDING, Status.VISA_FREE, Status.ASYLUM_PENDING, Status.VISA_FREE, Status.IRREGULAR],
    )
    np.testing.assert_array_equal(s.stay_left[[0, 2]], 6)  # asylum_processing_months
    assert flow(ctx, "asylum_applications", AA, IT) == 2
    np.testing.assert_array_equal(ctx.forced, [False, False, False, False, True])


def test_legal_status_permit_applications():
    sc = tiny(**{
        "hosts.AA.stay.work_permit": {"available": True, "approval": 1.0},
        "hosts.BB.stay.company_permit": {"available": True, "approval": 1.0},
        "hosts.BB.stay.company_capital_usd": 2000,
        "hosts.AA.stay.permit_months": 9,
    })
    s = state(
        5,
        location=[AA, AA, BB, BB, AA],
        status=[Status.VISA_FREE, Status.VISA_FREE, Status.VISA, Status.VISA_FREE, Status.IRREGULAR],
        employed=[True, False, False, False, True],
        cash=[0, 0, 2000, 1999, 0],
        stay_left=10,
        months_resident=7,
    )
    ctx = context(sc, n=5)
    rules.legal_status(s, ctx)
    # Work permit needs a job; company permit needs the capital; no applications without status.
    np.testing.assert_array_equal(
        s.status, [Status.TEMPORARY, Status.VISA_FREE, Status.TEMPORARY, Status.VISA_FREE, Status.IRREGULAR]
    )
    np.testing.assert_array_equal(s.stay_left[[0, 2]], [9, 12])
    np.testing.assert_array_equal(s.months_resident[[0, 2]], 0)
    assert flow(ctx, "permits_granted", AA, IT) == 1 and flow(ctx, "permits_granted", BB, IT) == 1


def test_legal_status_work_permit_for_the_unemployed_needs_a_job_first():
    # Work path approval 1: certain with a job; without one, as likely as finding one this month
    # (job_finding 0.4 x (0.5 + 0.5 x language 1) = 0.4), drawn from the 'permit' stream.
    sc = tiny(**{"hosts.AA.stay.work_permit": {"available": True, "approval": 1.0},
                 "hosts.AA.economy.job_finding": 0.4})
    n = 200
    employed = np.arange(n) < 20
    s = state(n, employed=employed, language=1.0, stay_left=10)
    ctx = context(sc, t=2, n=n, seed=9)
    rules.legal_status(s, ctx)
    u = Streams(9).uniform("permit", 2, n)
    expected = employed | (u < 1.0 - (1.0 - 1.0 * 0.4))
    np.testing.assert_array_equal(s.status == Status.TEMPORARY, expected)
    assert 20 < expected.sum() < n


def test_legal_status_permit_application_probability_from_stream():
    # Family path 0.3 and company path 0.25 (doubled to 0.5 for IT by a relocation programme):
    # P(permit) = 1 - (1 - 0.3)(1 - 0.5) = 0.65 for IT, 1 - 0.7 * 0.75 = 0.475 for academics.
    sc = tiny(**{
        "hosts.AA.stay.family_permit": {"available": True, "approval": 0.3},
        "hosts.AA.stay.company_permit": {"available": True, "approval": 0.25},
        "hosts.AA.stay.company_capital_usd": 0,
        "hosts.AA.support.relocation_programme": True,
    })
    n = 300
    cat = np.where(np.arange(n) % 2 == 0, IT, ACADEMIC).astype(np.int8)
    s = state(n, category=cat, stay_left=10)
    ctx = context(sc, t=4, n=n, seed=5)
    rules.legal_status(s, ctx)
    u = Streams(5).uniform("permit", 4, n)
    p = np.where(cat == IT, 1 - 0.7 * 0.5, 1 - 0.7 * 0.75)
    np.testing.assert_array_equal(s.status == Status.TEMPORARY, u < p)


def test_legal_status_permit_renewal_needs_a_document_the_host_accepts():
    # Renewal certain. AA accepts travel documents, BB does not. Without a valid passport a permit is
    # renewed only on an accepted travel document; a humanitarian visa likewise.
    sc = tiny(**{"hosts.AA.stay.renewal_probability": 1.0, "hosts.BB.stay.renewal_probability": 1.0,
                 "hosts.AA.entry.accepts_travel_document": True})
    s = state(
        5,
        location=[AA, AA, AA, BB, AA],
        status=[Status.TEMPORARY, Status.TEMPORARY, Status.TEMPORARY, Status.TEMPORARY, Status.HUMANITARIAN],
        passport_valid=[True, False, False, False, False],
        travel_doc=[False, False, True, True, False],
        stay_left=1,
    )
    ctx = context(sc, n=5)
    rules.legal_status(s, ctx)
    np.testing.assert_array_equal(
        s.status, [Status.TEMPORARY, Status.IRREGULAR, Status.TEMPORARY, Status.IRREGULAR, Status.IRREGULAR]
    )
    np.testing.assert_array_equal(s.stay_left[[0, 2]], 12)
    assert flow(ctx, "permits_refused", AA, IT) == 2 and flow(ctx, "permits_refused", BB, IT) == 1
    np.testing.assert_array_equal(ctx.forced, [False, True, False, True, True])
    # Where the internal passport suffices, it is the document.
    sc = tiny(**{"hosts.AA.stay.renewal_probability": 1.0, "hosts.AA.entry.internal_passport_ok": True})
    s = state(1, status=Status.TEMPORARY, passport_valid=False, stay_left=1)
    rules.legal_status(s, context(sc, n=1))
    assert s.status[0] == Status.TEMPORARY and s.stay_left[0] == 12


def test_legal_status_new_permit_needs_a_document_the_host_accepts():
    # Family path certain in both hosts; AA accepts travel documents, BB does not. Without a
    # document the application fails and the stay or visa simply continues.
    sc = tiny(**{"hosts.AA.stay.family_permit": {"available": True, "approval": 1.0},
                 "hosts.BB.stay.family_permit": {"available": True, "approval": 1.0},
                 "hosts.AA.entry.accepts_travel_document": True})
    s = state(
        5,
        location=[AA, AA, AA, BB, AA],
        status=[Status.VISA_FREE, Status.VISA_FREE, Status.VISA_FREE, Status.VISA_FREE, Status.VISA],
        passport_valid=[True, False, False, False, False],
        travel_doc=[False, False, True, True, False],
        stay_left=10,
    )
    ctx = context(sc, n=5)
    rules.legal_status(s, ctx)
    np.testing.assert_array_equal(
        s.status, [Status.TEMPORARY, Status.VISA_FREE, Status.TEMPORARY, Status.VISA_FREE, Status.VISA]
    )
    np.testing.assert_array_equal(s.stay_left, [12, 9, 12, 9, 9])
    assert flow(ctx, "permits_granted", AA, IT) == 2 and flow_total(ctx, "permits_granted") == 2
    assert not ctx.forced.any()


# --------------------------------------------------------------------------------------------
