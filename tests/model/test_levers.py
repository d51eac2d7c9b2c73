"""Each policy lever moves the outcome its mechanism implies, on the baseline scenario at a coarse scale.

Every comparison is paired: the lever run and the reference run share the seed (common random numbers),
so the difference is the lever's effect, not sampling noise. The runs are deterministic; the margins
asserted below were checked over seeds 1-5 (observed values in the comments) so that the tests do not
hinge on one lucky seed.
"""

from __future__ import annotations

from functools import cache

import pytest

from diaspora_sim.model.model import DiasporaModel
from diaspora_sim.scenario.loading import load_scenario, with_run
from diaspora_sim.scenario.schema import CATEGORIES

from .builders import BASELINE

ALL_C = len(CATEGORIES)  # category index of 'ALL'
IT = CATEGORIES.index("it_specialist")
ACADEMIC = CATEGORIES.index("academic")
DRAFT = CATEGORIES.index("draft_evader")
SEED = 1
NEAR_ABROAD = ("GE", "AM", "KZ", "KG", "UZ", "TR", "RS", "ME")


@cache
def run(overrides: tuple[str, ...] = (), scale: float = 400, months: int = 24, seed: int = SEED) -> DiasporaModel:
    """A finished model run of the baseline with `--set`-style overrides (cached: runs are deterministic)."""
    sc = with_run(load_scenario(BASELINE, list(overrides)), scale=scale, months=months, seed=seed)
    return DiasporaModel(sc).run()


def host(m: DiasporaModel, code: str) -> int:
    return m.host_codes.index(code)


def all_hosts(m: DiasporaModel) -> int:
    return m.n_hosts + 1  # location index of 'ALL' (hosts together, Russia excluded)


def total(m: DiasporaModel, metric: str, loc: int, cat: int = ALL_C) -> float:
    """A flow summed over the run (persons)."""
    return float(m.recorder.data[metric][:, loc, cat].sum())


def final(m: DiasporaModel, metric: str, loc: int, cat: int = ALL_C) -> float:
    """A stock or rate at the end of the run."""
    return float(m.recorder.data[metric][-1, loc, cat])


def test_closing_a_hosts_entry_stops_arrivals_there():
    ref = run()
    closed = run(("hosts.GE.entry.visa_free=false", "hosts.GE.entry.internal_passport_ok=false"))
    ge = host(ref, "GE")
    # Reference: 165k-182k arrivals in Georgia over 24 months (seeds 1-5). Closed: no entry route at all.
    assert total(ref, "arrivals", ge) > 50_000
    assert total(closed, "arrivals", ge) == 0
    assert final(closed, "stock", ge) == 0
    # The leavers go elsewhere: first departures do not change (Armenia, Kazakhstan are still open;
    # equal to the person in seeds 1-5).
    ref_out = total(ref, "first_departures", all_hosts(ref))
    assert total(closed, "first_departures", all_hosts(closed)) == pytest.approx(ref_out, rel=0.05)


def test_entry_ban_lowers_arrivals_in_germany():
    # Germany's work visas (EU Blue Card) bring most of its arrivals; a ban bars them and every visa
    # but the humanitarian one. Arrivals over 24 months, reference vs ban (seeds 1-5):
    # 42.0k/0, 47.6k/0.4k, 35.6k/0.8k, 48.8k/0, 36.4k/0.4k (ban at most 2.2 % of the reference).
    ref = run()
    banned = run(("hosts.DE.entry.entry_ban=true",))
    de = host(ref, "DE")
    assert total(ref, "arrivals", de) > 20_000
    assert total(banned, "arrivals", de) < 0.1 * total(ref, "arrivals", de)


def test_entry_ban_lowers_stock_in_a_visa_free_germany():
    # Make Germany visa-free in both runs so that it has a stock worth banning.
    # Person-months in DE (seeds 1-5), reference vs ban: 734.4k/0, 730.0k/9.2k, 592.0k/1.2k, 810.8k/0,
    # 708.4k/9.2k; stock at 24 months 42.4k/0, 43.2k/0.4k, 35.6k/0, 48.8k/0, 42.0k/0.4k.
    open_de = ("hosts.DE.entry.visa_free=true", "hosts.DE.stay.visa_free_months=3")
    ref = run(open_de)
    banned = run((*open_de, "hosts.DE.entry.entry_ban=true"))
    de = host(ref, "DE")
    person_months_ref = ref.recorder.data["stock"][:, de, ALL_C].sum()
    person_months_ban = banned.recorder.data["stock"][:, de, ALL_C].sum()
    assert person_months_ban < 0.5 * person_months_ref
    assert final(banned, "stock", de) <= final(ref, "stock", de)


def test_entry_ban_on_an_internal_passport_host_lowers_arrivals():
    ref = run()
    banned = run(("hosts.KZ.entry.entry_ban=true",))
    kz = host(ref, "KZ")
    # First three months: 38.8k, 31.2k, 28.8k, 34.8k, 30.8k arrivals in the reference, none under the ban
    # (seeds 1-5).
    early_ref = ref.recorder.data["arrivals"][:3, kz, ALL_C].sum()
    early_ban = banned.recorder.data["arrivals"][:3, kz, ALL_C].sum()
    assert early_ref > 0
    assert early_ban < 0.5 * early_ref


def test_it_lure_raises_it_specialists_return_rate():
    # IT return rate at 24 months, it_lure 0.3 (baseline) vs 2.0, seeds 1-5:
    # 0.141/0.220, 0.120/0.205, 0.133/0.255, 0.150/0.236, 0.114/0.172 (gain 0.059-0.122).
    # Draft evaders: 0.628/0.623, 0.635/0.633, 0.593/0.593, 0.621/0.615, 0.641/0.641.
    ref = run()
    lured = run(("russia.it_lure=2.0",))
    ru_all = all_hosts(ref)
    assert final(lured, "return_rate", ru_all, IT) > final(ref, "return_rate", ru_all, IT) + 0.05
    # The lure is specific to IT: draft evaders' return rate hardly moves.
    assert final(lured, "return_rate", ru_all, DRAFT) == pytest.approx(
        final(ref, "return_rate", ru_all, DRAFT), abs=0.05
    )


def test_repression_deters_returns_most_among_the_engaged():
    # The risk of returning grows with engagement (repression_engagement 0.02 vs 0.2). Journalists (the
    # most engaged) hardly return of their own accord in the baseline any more: 200-300 persons over 24
    # months at scale 100 (seeds 1-5), too few to show an effect. So the deterrent is shown on the larger
    # categories, whose mean engagement differs: academics 0.43, IT specialists 0.29, draft evaders 0.14.
    # Voluntary returns (returns minus deportations and extraditions) over 24 months, reference vs harsh,
    # seeds 1-5:
    #   all:            420.4k/176.4k, 401.6k/170.8k, 374.8k/172.4k, 391.2k/162.4k, 406.4k/177.2k (0.42-0.46)
    #   draft evaders:  361.6k/165.2k, 352.4k/163.2k, 323.6k/159.6k, 338.8k/153.6k, 353.2k/163.6k (0.45-0.49)
    #   IT specialists:  33.6k/6.8k,    29.2k/5.2k,    31.6k/6.8k,    34.8k/6.4k,    28.8k/7.6k   (0.18-0.26)
    #   academics:       11.6k/0.4k,     6.0k/0.4k,     6.0k/0.4k,     7.2k/0.4k,     8.4k/0      (0-0.07)
    ref = run()
    harsh = run(("russia.repression_engagement=0.2",))
    ru_all = all_hosts(ref)

    def voluntary(m, cat=ALL_C):
        return total(m, "returns", ru_all, cat) - total(m, "forced_returns", ru_all, cat)

    def kept(cat):  # share of voluntary returns left under harsh repression
        return voluntary(harsh, cat) / voluntary(ref, cat)

    assert voluntary(harsh) < 0.6 * voluntary(ref)
    assert kept(IT) < kept(DRAFT) - 0.1
    assert kept(ACADEMIC) < kept(DRAFT) - 0.1


def test_no_bank_accounts_lowers_stock():
    # Bank accounts carry Western remote pay, the income of 35 % of IT specialists (5-30 % in the other
    # categories). Georgia at 24 months, bank_accounts true vs false, seeds 1-5 (baseline of the returns
    # revision): IT specialists 28.8k/23.2k, 40.4k/29.6k, 45.6k/40.4k, 37.2k/30.4k, 46.4k/32.0k (drop 11-31 %);
    # everyone 104.4k/103.2k, 114.4k/106.4k, 110.8k/106.0k, 111.6k/102.4k, 116.8k/109.6k (drop 1.1-8.2 %;
    # 6.8-13 % before the revision, when the broke had to leave: now family help and informal work keep
    # some of them). The IT threshold is a 10 % drop; everyone's stock must only fall, since losing
    # Western pay hits IT specialists hardest.
    ref = run()
    unbanked = run(("hosts.GE.economy.bank_accounts=false",))
    ge = host(ref, "GE")
    assert final(unbanked, "stock", ge, IT) < 0.9 * final(ref, "stock", ge, IT)
    assert final(unbanked, "stock", ge) < final(ref, "stock", ge)


def test_security_cooperation_raises_detentions_and_extraditions():
    # Kazakhstan 0.001 (0.003 from Jun 2023) vs 0.05; scale 100 (extraditions are a few agents).
    # Detained over 24 months, seeds 1-5: 300/5400, 500/5100, 600/6700, 500/5900, 700/4000;
    # extradited: 200/1400, 100/1500, 100/2100, 200/1300, 200/1700. (Deportations from Kazakhstan fall, since
    # fewer stay there.)
    ref = run(scale=100)
    coop = run(("hosts.KZ.pressure.security_cooperation=0.05",), scale=100)
    kz = host(ref, "KZ")
    assert total(coop, "detained", kz) > 2 * total(ref, "detained", kz) + 1000
    assert total(coop, "extradited", kz) > total(ref, "extradited", kz)
    assert total(coop, "extradited", kz) <= total(coop, "detained", kz)


def test_no_permit_renewal_raises_permits_refused():
    # Georgia, permits refused over 24 months, renewal 0.9 vs 0, seeds 1-5:
    # 0/10.0k, 1.6k/15.6k, 2.4k/14.8k, 3.6k/14.4k, 0.4k/13.2k. Secure status at 24 months: 32.0k/22.0k,
    # 40.4k/27.2k, 38.0k/26.0k, 34.4k/24.0k, 41.2k/28.4k.
    ref = run()
    strict = run(("hosts.GE.stay.renewal_probability=0",))
    ge = host(ref, "GE")
    assert total(strict, "permits_refused", ge) > 2 * total(ref, "permits_refused", ge)
    assert final(strict, "secure_status", ge) < final(ref, "secure_status", ge)


def test_travel_documents_lower_the_undocumented():
    # Every near-abroad host issues and accepts Nansen-style travel documents.
    # Undocumented abroad at 24 months, seeds 1-5: 110.4k/81.2k, 118.8k/80.4k, 129.6k/98.8k, 114.4k/83.2k,
    # 106.8k/83.2k (drop >= 22 %); travel documents held: 30.0k, 38.0k, 30.8k, 32.4k, 24.4k.
    lever = tuple(f"hosts.{h}.support.travel_document=true" for h in NEAR_ABROAD) + tuple(
        f"hosts.{h}.entry.accepts_travel_document=true" for h in NEAR_ABROAD
    )
    ref = run()
    documented = run(lever)
    everywhere = all_hosts(ref)
    assert final(ref, "travel_documents", everywhere) == 0
    assert final(documented, "travel_documents", everywhere) > 0
    assert final(documented, "without_documents", everywhere) < 0.9 * final(ref, "without_documents", everywhere)


def test_job_finding_raises_local_employment():
    # Georgia, employed locally at 24 months, job_finding 0.05 vs 0.3, seeds 1-5:
    # 40.4k/136.4k, 42.4k/140.0k, 44.4k/147.6k, 46.0k/136.0k, 43.6k/144.0k.
    ref = run()
    jobs = run(("hosts.GE.economy.job_finding=0.3",))
    ge = host(ref, "GE")
    assert final(jobs, "employed_local", ge) > 2 * final(ref, "employed_local", ge)


def test_integration_courses_raise_integration():
    # Courses of full reach in the near abroad. Integrated at 24 months, seeds 1-5:
    # 34.0k/56.4k, 34.0k/52.8k, 24.4k/44.8k, 32.0k/52.4k, 29.2k/45.6k (gain >= 16.4k);
    # integration rate 0.038/0.064, 0.039/0.060, 0.028/0.051, 0.036/0.059, 0.033/0.052.
    lever = tuple(f"hosts.{h}.support.integration_courses=1" for h in NEAR_ABROAD)
    ref = run()
    courses = run(lever)
    everywhere = all_hosts(ref)
    assert final(courses, "integrated", everywhere) > final(ref, "integrated", everywhere) + 8000
    assert courses.integration_rate > ref.integration_rate


def test_work_visas_raise_arrivals_stock_and_integration_in_germany():
    # Germany's work visas (EU Blue Card) opened to 0.3 a month for every category (baseline: 0.05, IT 0.2,
    # academics 0.1). Germany over 24 months, reference vs open, seeds 1-5:
    # arrivals 42.0k/107.6k, 47.6k/97.6k, 35.6k/99.2k, 48.8k/115.6k, 36.4k/100.0k;
    # stock at 24 months 38.4k/93.6k, 41.6k/84.4k, 29.6k/85.2k, 43.6k/100.0k, 34.8k/90.0k;
    # integrated at 24 months 23.2k/58.4k, 26.0k/53.6k, 16.0k/44.8k, 27.2k/57.6k, 23.6k/52.0k (x2.1-2.8);
    # integration rate (all hosts) 0.038/0.076, 0.039/0.070, 0.028/0.061, 0.036/0.071, 0.033/0.065.
    ref = run()
    opened = run(("hosts.DE.entry.work_visa_approval=0.3",))
    de = host(ref, "DE")
    assert total(opened, "arrivals", de) > 1.5 * total(ref, "arrivals", de)
    assert final(opened, "stock", de) > 1.5 * final(ref, "stock", de)
    assert final(opened, "integrated", de) > 1.5 * final(ref, "integrated", de)
    assert opened.integration_rate > ref.integration_rate


def test_rouble_transfer_workaround_keeps_emigrants_where_russian_cards_fail():
    # Serbia and Turkey have no Russian transfers: rouble pay arrives there only as
    # russia.transfer_workaround_share (baseline 0.5). At 0, stock at 24 months, reference vs none, seeds 1-5
    # (baseline of the returns revision): Serbia + Turkey 125.6k/102.0k, 120.8k/108.0k, 115.6k/106.0k,
    # 131.6k/122.4k, 132.0k/118.4k (ratio 0.81-0.93; 0.62-0.80 before the revision, when rouble pay was
    # also lost faster to remote_job_loss and the broke had no fallback). Georgia, where Russian cards
    # work, gains in 4 seeds of 5 (104.4k/110.0k, 114.4k/116.4k, 110.8k/120.4k, 111.6k/108.8k,
    # 116.8k/122.0k): only asserted not to lose more than 10 %.
    ref = run()
    cut = run(("russia.transfer_workaround_share=0",))
    rs, tr, ge = host(ref, "RS"), host(ref, "TR"), host(ref, "GE")

    def no_transfers(m):
        return final(m, "stock", rs) + final(m, "stock", tr)

    assert no_transfers(cut) < 0.95 * no_transfers(ref)
    assert final(cut, "stock", ge) > 0.9 * final(ref, "stock", ge)  # Georgia keeps (or gains) its emigrants


# Returns whose status or money ran out (docs/model.md section 12.8). Seeds 1-5, scale 400, 24 months.


def test_a_stricter_overstay_penalty_raises_status_returns_from_kazakhstan():
    # Chosen returns for want of status from Kazakhstan, reference -> overstay_penalty 3:
    # 24.0k -> 78.4k, 24.0k -> 78.4k, 19.6k -> 65.6k, 17.6k -> 55.6k, 20.0k -> 72.4k.
    ref = run()
    strict = run(("hosts.KZ.pressure.overstay_penalty=3",))
    kz = host(ref, "KZ")
    assert total(strict, "returns_status", kz) > 2 * total(ref, "returns_status", kz)


def test_family_help_lowers_returns_for_want_of_money():
    # returns_money, reference (300 USD) -> 1,500 USD at family ties 1:
    # 52.4k -> 3.6k, 42.8k -> 6.0k, 50.0k -> 7.2k, 43.6k -> 4.0k, 48.0k -> 4.8k.
    ref = run()
    helped = run(("behaviour.family_support_usd=1500",))
    assert total(helped, "returns_money", all_hosts(ref)) < 0.3 * total(ref, "returns_money", all_hosts(ref))


def test_informal_work_lowers_returns_for_want_of_money():
    # returns_money, near-abroad informal_wage_share reference (0.4-0.5) -> 1:
    # 52.4k -> 32.0k, 42.8k -> 26.8k, 50.0k -> 31.2k, 43.6k -> 28.0k, 48.0k -> 24.4k.
    ref = run()
    informal = run(tuple(f"hosts.{h}.economy.informal_wage_share=1" for h in NEAR_ABROAD))
    assert total(informal, "returns_money", all_hosts(ref)) < 0.8 * total(ref, "returns_money", all_hosts(ref))


def test_keeping_rouble_remote_jobs_lowers_returns_for_want_of_money():
    # returns_money, reference (remote_job_loss 0.12, then 0.03) -> 0 (the 2022-10 event still sets 0.03):
    # 52.4k -> 44.4k, 42.8k -> 40.8k, 50.0k -> 46.8k, 43.6k -> 38.4k, 48.0k -> 42.8k.
    ref = run()
    kept = run(("russia.remote_job_loss=0",))
    assert total(kept, "returns_money", all_hosts(ref)) < total(ref, "returns_money", all_hosts(ref))


def test_return_reasons_sum_to_returns():
    m = run()
    loc = all_hosts(m)
    parts = sum(total(m, f, loc) for f in ("returns_voluntary", "returns_status", "returns_money", "forced_returns"))
    assert parts == total(m, "returns", loc)
    assert total(m, "forced_returns", loc) == total(m, "deported", loc) + total(m, "extradited", loc)


def test_the_law_of_return_brings_citizens_to_israel():
    # Without the law of return nobody enters Israel as a citizen, and far fewer come at all
    # (a three-month visa-free stay without work is all that is left).
    ref = run()
    closed = run(("hosts.IL.entry.law_of_return=0",))
    il = host(ref, "IL")
    assert total(ref, "citizenship_arrivals", il) > 20_000
    assert total(closed, "citizenship_arrivals", il) == 0
    assert total(closed, "arrivals", il) < 0.5 * total(ref, "arrivals", il)
    assert final(closed, "secure_status", il) < 0.5 * final(ref, "secure_status", il)


def test_early_departures_of_new_citizens_raise_departures_from_israel():
    ref = run()
    none_leave = run(("hosts.IL.stay.citizen_early_departure=0",))
    il = host(ref, "IL")
    assert total(none_leave, "departures", il) < total(ref, "departures", il)
    assert final(none_leave, "stock", il) > final(ref, "stock", il)


def test_the_border_route_brings_asylum_seekers_to_the_us():
    ref = run()
    closed = run(("hosts.US.entry.border_asylum=0",))
    us = host(ref, "US")
    assert total(ref, "border_arrivals", us) > 0
    assert total(closed, "border_arrivals", us) == 0
    assert total(closed, "asylum_applications", us) < total(ref, "asylum_applications", us)
