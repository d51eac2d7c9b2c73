"""The monthly rules: each the process of the same name in docs/model.md, for one person.

The rules run as compiled (numba) loops over the state columns: a rule's body is written for
one person, in the order of the mechanism, and reads that person's row and the month's policy
(`Step`). It draws its random numbers from its own stream (one uniform per agent row and
month, computed where needed; see streams.py) and counts flows in ``Step.flows``. The rules
that touch only their person's row (resources to pressure) run in one pass,
`persons_month`. The array-level functions (`entry_routes`, `host_utility`, `choose`,
`monthly_income`, `job_chance`, ...) apply the same compiled per-person formulas to chosen
rows, for the choice model's tables, for tests and for readers.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ...scenario.schema import CATEGORIES
from ..context import MonthContext as Step
from ..metrics import FLOWS  # noqa: F401 - the flow names, kept importable beside the rules that count them
from ..policy import Policy
from ..state import LEGAL_SECURITY, RESIDENT, SECURE, WORK_RIGHTS, Income, State, Status
from ..streams import draw

IT = CATEGORIES.index("it_specialist")
JOURNALIST = CATEGORIES.index("journalist_activist")
ACADEMIC = CATEGORIES.index("academic")
BUSINESS = CATEGORIES.index("businessperson")
C = len(CATEGORIES)

# Status and income codes as plain module constants, which compiled kernels can read.
VISA_FREE, VISA, HUMANITARIAN, ASYLUM_PENDING = Status.VISA_FREE, Status.VISA, Status.HUMANITARIAN, Status.ASYLUM_PENDING
TEMPORARY, PERMANENT, REFUGEE, IRREGULAR = Status.TEMPORARY, Status.PERMANENT, Status.REFUGEE, Status.IRREGULAR
REMOTE_WESTERN, REMOTE_RUSSIAN = Income.REMOTE_WESTERN, Income.REMOTE_RUSSIAN

PASSPORT_RENEWAL_MONTHS = 120  # a renewed Russian foreign passport is valid ten years
JOB_HORIZON_MONTHS = 6  # chance of finding work within half a year, used by the choice model

# Entry routes. Each has the legal security it gives on arrival (the scale of LEGAL_SECURITY)
# and whether it comes with a job (work and IT-talent visas are tied to a job offer).
ROUTE_FREE, ROUTE_VISA, ROUTE_HUMANITARIAN, ROUTE_IT, ROUTE_WORK = 0, 1, 2, 3, 4
ROUTE_SECURITY = np.array([0.2, 0.3, 0.6, 0.6, 0.6])
ROUTE_JOB = np.array([False, False, False, True, True])


# --------------------------------------------------------------------------------------------
# 1. Outflow
# --------------------------------------------------------------------------------------------


def outflow(s: State, st: Step) -> np.ndarray:
    """Emigrants whose departure month has come leave Russia for a host they can legally enter.

    Returns the rows that left. Those with no reachable host stay in Russia and never count
    as having left.
    """
    lo, hi = np.searchsorted(s.depart, [st.t, st.t + 1])
    rows = np.arange(lo, min(hi, st.n))
    if len(rows) == 0:
        return rows
    moved = decide(s, st, rows, allow_stay=False, allow_return=False, first=True)
    stuck = np.setdiff1d(rows, moved, assume_unique=True)
    st.count("could_not_leave", np.full(len(stuck), st.RU), s.category[stuck])  # under RU
    return moved


# --------------------------------------------------------------------------------------------
# 2. Resources
# --------------------------------------------------------------------------------------------


# The per-person formulas below are compiled functions shared by the kernels; the array
# functions after them apply the same formulas to chosen rows (for the choice model's tables,
# tests and readers).


@njit(cache=True, inline="always")
def _remote_share(source: int, bank_accounts: bool, legal: bool, russian_transfers: bool, workaround: float) -> float:
    """Share of remote pay that reaches an emigrant: Western pay needs a local bank account,
    which needs legal status; rouble pay arrives where Russian cards and transfers work, and
    elsewhere only its workaround share.
    """
    if source == REMOTE_WESTERN:
        return 1.0 if bank_accounts and legal else 0.0
    if source == REMOTE_RUSSIAN:
        return 1.0 if russian_transfers else workaround
    return 0.0


# (They take scalars: passing the column tuples to a compiled call costs a reference-count
# update per column, which would dominate.)


@njit(cache=True, inline="always")
def _income_abroad(remote_income: np.float32, share: float, employed: bool, wage: float, grant: float) -> float:
    """Income this month, USD, abroad: the usable share of remote pay, the local wage if
    employed, and a media grant (journalists, where a host funds exile media).
    """
    income = remote_income * share
    if employed:
        income += wage
    return income + grant


@njit(cache=True, inline="always")
def _russian_income(ru_wage: float, source: int, remote_income: np.float32) -> float:
    """Monthly income, USD, in Russia: the Russian wage of the category, or the rouble remote
    job if it pays more (Western clients cannot pay into Russia).
    """
    remote = remote_income if source == REMOTE_RUSSIAN else np.float32(0.0)
    return max(ru_wage, np.float64(remote))


@njit(cache=True, inline="always")
def _may_work(status: int, work_visa_free: bool) -> bool:
    """Whether a status allows local work (a visa-free stay only where the host says so)."""
    return WORK_RIGHTS[status] or (status == VISA_FREE and work_visa_free)


@njit(cache=True, inline="always")
def _job_chance(job_rate: float, language: np.float32) -> float:
    """Monthly probability of finding a local job: the host's rate for the category (support
    programmes included) times 0.5 + 0.5 * language, at most 1.
    """
    return min(job_rate * (np.float32(0.5) + np.float32(0.5) * language), 1.0)


@njit(cache=True)
def _rows_loop(kind, s, p, rows, hosts, job_rate, workaround):
    out = np.empty(len(rows))
    for k in range(len(rows)):
        i, h = rows[k], hosts[k]
        c = s.category[i]
        if kind == 0:
            share = _remote_share(s.income_source[i], p.bank_accounts[h], s.status[i] != IRREGULAR,
                                  p.russian_transfers[h], workaround)
            out[k] = _income_abroad(s.remote_income[i], share, s.employed[i], p.wage[h, c],
                                    p.media_grant[h] if c == JOURNALIST else 0.0)
        elif kind == 1:
            out[k] = _russian_income(p.ru_wage[c], s.income_source[i], s.remote_income[i])
        elif kind == 2:
            out[k] = _may_work(s.status[i], p.work_visa_free[h])
        else:
            out[k] = _job_chance(job_rate[s.category[i], h], s.language[i])
    return out


def _per_row(kind: int, s: State, st: Step, rows: np.ndarray, hosts: np.ndarray | None = None) -> np.ndarray:
    rows = np.asarray(rows, np.int64)
    hosts = s.location[rows].astype(np.int64) if hosts is None else np.asarray(hosts, np.int64)
    return _rows_loop(kind, s.columns(), st.policy.arrays(), rows, hosts, _job_rates(st),
                      st.russia.transfer_workaround_share)


def usable_remote_share(st: Step, source: np.ndarray, hosts: np.ndarray, legal: np.ndarray | bool = True) -> np.ndarray:
    """Share of remote income from `source` that reaches an emigrant in `hosts` with legal status
    `legal` (arrays broadcast; see _remote_share).
    """
    p = st.policy
    source, hosts, legal = np.broadcast_arrays(source, hosts, legal)
    out = np.empty(source.shape)
    for idx in np.ndindex(source.shape):
        h = hosts[idx]
        out[idx] = _remote_share(source[idx], p.bank_accounts[h], legal[idx], p.russian_transfers[h],
                                 st.russia.transfer_workaround_share)
    return out


def monthly_income(s: State, st: Step, rows: np.ndarray) -> np.ndarray:
    """Income this month, USD, of emigrants abroad: usable remote pay, local wage, media grants."""
    return _per_row(0, s, st, rows)


def russian_income(s: State, st: Step, rows: np.ndarray) -> np.ndarray:
    """Monthly income, USD, of emigrants if in Russia: the Russian wage of their category, or
    their rouble remote job if it pays more (Western clients cannot pay into Russia).
    """
    return _per_row(1, s, st, rows)


def can_work(s: State, st: Step, rows: np.ndarray) -> np.ndarray:
    """Whether each emigrant may take a local job under their status."""
    return _per_row(2, s, st, rows).astype(bool)


def job_boost(p: Policy) -> np.ndarray:
    """Multiplier of the job-finding probability per category and host (C x H): 3 for academics
    where a university-in-exile is funded, 2 for IT specialists and businesspeople where a
    relocation programme runs, else 1.
    """
    cats = np.arange(C)[:, None]
    boost = np.where(p.university[None, :] & (cats == ACADEMIC), 3.0, 1.0)
    return np.where(p.relocation[None, :] & ((cats == IT) | (cats == BUSINESS)), 2.0, boost)


def job_chance(s: State, st: Step, rows: np.ndarray, hosts: np.ndarray | None = None) -> np.ndarray:
    """Monthly probability of finding a local job (language and support programmes included):
    in `hosts` (one per row), or in every host (an n x H array) when `hosts` is None.
    """
    rows = np.asarray(rows, np.int64)
    if hosts is None:
        H = st.n_hosts
        return _per_row(3, s, st, np.repeat(rows, H), np.tile(np.arange(H), len(rows))).reshape(len(rows), H)
    return _per_row(3, s, st, rows, hosts)


def resources(s: State, st: Step) -> None:
    """Income minus cost of living; Russian savings reachable where transfers work; jobs found and lost.

    An emigrant abroad whose cash falls below `behaviour.min_cash_months` of living costs while
    spending more than they earn must decide this month (forced). Returnees in Russia live on
    their savings and `russian_income`.
    """
    _persons(s, st, RESOURCES)


# --------------------------------------------------------------------------------------------
# 3. Legal status and documents
# --------------------------------------------------------------------------------------------


def documents(s: State, st: Step) -> None:
    """Foreign passports expire; consulates renew them with a probability that falls with engagement.

    In Russia renewal is certain, and a returnee without a valid passport gets a new one. Legal
    residents of a host that issues Nansen-style travel documents get one when their passport
    is no longer valid.
    """
    _persons(s, st, DOCUMENTS)


def legal_status(s: State, st: Step) -> None:
    """Stays run out, visa runs, permits granted, renewed, refused or revoked; asylum decided.

    Visa runs, permit applications and renewals need an identity document the host accepts (a
    valid passport, the internal passport where it suffices, or an accepted travel document):
    an expired passport strands its holder. Whoever ends the month without legal status must
    decide (forced).
    """
    _persons(s, st, LEGAL_STATUS)


# --------------------------------------------------------------------------------------------
# 4. Integration
# --------------------------------------------------------------------------------------------


def integration(s: State, st: Step) -> None:
    """Language and integration grow toward 1, faster with work, secure status and courses.

    Growth is slowed by an insular Russian-speaking enclave (the larger the enclave's share of
    the host population, the stronger) and by hostility; it stops without legal status.
    """
    _persons(s, st, INTEGRATION)


# --------------------------------------------------------------------------------------------
# 5. Pressure
# --------------------------------------------------------------------------------------------


def pressure(s: State, st: Step) -> None:
    """Harassment grows with hostility; engaged emigrants risk detention at Moscow's request.

    The detained are extradited to Russia (and persecuted there) or expelled from the host;
    people without legal status are deported to Russia.
    """
    _persons(s, st, PRESSURE)


# The rules _persons_kernel runs (bit flags), and those persons_month runs, in order.
RESOURCES, DOCUMENTS, LEGAL_STATUS, INTEGRATION, PRESSURE = 1, 2, 4, 8, 16
PERSONS_MONTH = ("resources", "documents", "legal_status", "integration", "pressure")


def persons_month(s: State, st: Step) -> None:
    """Resources, documents, legal status, integration and pressure, in this order for each
    person: one pass over the rows (each rule reads only its person's row and the month's
    policy, so this equals running the five rules one after the other, and saves four passes).
    """
    _persons(s, st, RESOURCES | DOCUMENTS | LEGAL_STATUS | INTEGRATION | PRESSURE)


def _persons(s: State, st: Step, rules: int) -> None:
    p, r, g, f = st.policy, st.russia, st.integration, st.flows
    pct = p.enclave_pct(st.stock)
    to_russia = np.zeros(st.n, bool)
    _persons_kernel(
        rules, st.n, st.n_hosts, st.t, s.columns(), p.arrays(), _job_rates(st), st.forced, st.expelled, st.harassed,
        to_russia,
        # resources
        st.key("job_loss"), st.key("job_finding"), st.behaviour.min_cash_months, r.transfer_workaround_share,
        r.cost_of_living_usd,
        # documents
        st.key("passport"), r.passport_renewal, r.renewal_engagement_penalty, RESIDENT, f["passports_expired"],
        # legal status
        st.key("status"), st.key("status_second"), st.key("permit"),
        f["visa_runs"], f["permits_refused"], f["asylum_granted"], f["permits_granted"], f["asylum_applications"],
        # integration
        g.enclave_penalty * pct / (pct + g.enclave_half_pct), st.hostility, SECURE, g.base_rate, g.work_bonus,
        g.secure_bonus, g.courses_bonus, g.hostility_penalty, g.language_rate,
        # pressure
        p.harassment * st.hostility, st.key("harassment"), st.key("detention"), st.key("extradition"),
        st.key("deportation"), f["under_pressure"], f["harassed"], f["detained"], f["extradited"], f["deported"],
    )
    move_to_russia(s, st, np.flatnonzero(to_russia), forced=True)


@njit(cache=True)
def _persons_kernel(rules, n, H, t, s, p, job_rate, forced, expelled, harassed, to_russia,
                    loss_key, find_key, min_cash_months, workaround, cost_ru,
                    passport_key, renewal, engagement_penalty, resident, n_expired,
                    main_key, second_key, permit_key,
                    n_visa_runs, n_permits_refused, n_asylum_granted, n_permits_granted, n_asylum_applications,
                    enclave, hostility, secure, base_rate, work_bonus, secure_bonus, courses_bonus,
                    hostility_penalty, language_rate,
                    harassment, harass_key, detain_key, extradite_key, deport_key,
                    n_pressure, n_harassed, n_detained, n_extradited, n_deported):
    """The rules flagged in `rules` for each person who has left, in the order of docs/model.md.

    Arithmetic is in the precision of the columns (float32 where they are float32), as in
    monthly_income, job_chance and russian_income.
    """
    one, half = np.float32(1.0), np.float32(0.5)
    for i in range(n):
        j = s.location[i]
        if j > H:  # has not left
            continue
        c = s.category[i]
        cell = j * C + c

        # -- 2. Resources ---------------------------------------------------------------------
        if rules & RESOURCES and j == H:  # in Russia: savings and the Russian income
            s.cash[i] += (s.ru_savings[i] + _russian_income(p.ru_wage[c], s.income_source[i], s.remote_income[i])) - cost_ru
            s.ru_savings[i] = 0.0
        elif rules & RESOURCES:
            share = _remote_share(s.income_source[i], p.bank_accounts[j], s.status[i] != IRREGULAR,
                                  p.russian_transfers[j], workaround)
            income = _income_abroad(s.remote_income[i], share, s.employed[i], p.wage[j, c],
                                    p.media_grant[j] if c == JOURNALIST else 0.0)
            savings = s.ru_savings[i] if p.russian_transfers[j] else np.float32(0.0)
            s.cash[i] += (np.float64(savings) + income) - p.cost[j]
            if p.russian_transfers[j]:
                s.ru_savings[i] = 0.0
            if s.cash[i] < min_cash_months * p.cost[j] and income < p.cost[j]:
                forced[i] = True
            # Jobs lost and found.
            allowed = _may_work(s.status[i], p.work_visa_free[j])
            if s.employed[i]:
                if not allowed or draw(loss_key, i) < p.job_loss[j]:
                    s.employed[i] = False
            elif allowed and draw(find_key, i) < _job_chance(job_rate[c, j], s.language[i]):
                s.employed[i] = True

        # -- 3. Documents: renewal (certain in Russia), a new passport at home, travel documents
        if rules & DOCUMENTS:
            if s.passport_valid[i] and s.passport_expiry[i] <= t:
                p_renew = 1.0 if j == H else renewal * (1.0 - engagement_penalty * s.engagement[i])
                if draw(passport_key, i) < p_renew:
                    s.passport_expiry[i] = t + PASSPORT_RENEWAL_MONTHS
                else:
                    s.passport_valid[i] = False
                    n_expired[cell] += 1
            if j == H and not s.passport_valid[i]:
                s.passport_valid[i] = True
                s.passport_expiry[i] = t + PASSPORT_RENEWAL_MONTHS
            elif j < H and not s.passport_valid[i] and p.travel_document[j] and resident[s.status[i]]:
                s.travel_doc[i] = True

        if j == H:
            continue  # the rest concerns people abroad

        # -- 3. Legal status ------------------------------------------------------------------
        if rules & LEGAL_STATUS:
            status = s.status[i]
            left = s.stay_left[i] - 1
            months_res = s.months_resident[i]
            has_doc = s.passport_valid[i] or p.internal_ok[j] or (s.travel_doc[i] and p.accepts_td[j])

            # Visa-free stays: a visa run starts a new stay where the host allows it.
            if status == VISA_FREE and left <= 0:
                if (p.visa_run_resets[j] and has_doc and p.visa_free_months[j] > 0 and not p.entry_ban[j]
                        and (p.visa_free[j] or p.internal_ok[j]) and s.cash[i] >= p.visa_run_cost[j]):
                    s.cash[i] -= p.visa_run_cost[j]
                    left = p.visa_free_months[j]
                    n_visa_runs[cell] += 1
                else:
                    status = IRREGULAR

            # Visas run out.
            if status == VISA and left <= 0:
                status = IRREGULAR

            # Permits (and humanitarian visas): revocation, renewal, permanent residence.
            renewed = False
            if status == TEMPORARY or status == HUMANITARIAN:
                months_res += 1
                if draw(main_key, i) < p.revocation[j]:
                    status = IRREGULAR
                    n_permits_refused[cell] += 1
                elif left <= 0:
                    if has_doc and draw(second_key, i) < p.renewal[j]:
                        renewed = True
                        status = TEMPORARY
                        left = p.permit_months[j]
                    else:
                        status = IRREGULAR
                        n_permits_refused[cell] += 1
            if (status == TEMPORARY and not renewed and months_res >= p.permanent_after[j]
                    and draw(second_key, i) < p.permanent_approval[j]):
                status = PERMANENT

            # Asylum decisions.
            if status == ASYLUM_PENDING and left <= 0:
                if draw(main_key, i) < p.asylum_approval[j, c] * s.engagement[i]:
                    status = REFUGEE
                    n_asylum_granted[cell] += 1
                else:
                    status = IRREGULAR
                    s.asylum_refused[i] = True

            # Applications for a temporary permit, from a visa-free stay or a visa.
            if (status == VISA_FREE or status == VISA) and has_doc:
                cash = s.cash[i]
                job = 1.0 if s.employed[i] else _job_chance(job_rate[c, j], s.language[i])
                company = p.company_permit[j, c]
                if p.relocation[j] and (c == IT or c == BUSINESS):
                    company *= 2.0
                p_none = (
                    (1.0 - p.work_permit[j, c] * job)
                    * (1.0 - min(company, 1.0) * (cash >= p.company_capital[j]))
                    * (1.0 - p.property_permit[j, c] * (cash >= p.property_price[j]))
                    * (1.0 - p.family_permit[j, c])
                )
                if draw(permit_key, i) < 1.0 - p_none:
                    status = TEMPORARY
                    left = p.permit_months[j]
                    months_res = 0
                    n_permits_granted[cell] += 1

            # Asylum applications: politically exposed people without a permit apply where it is open.
            if ((status == VISA_FREE or status == VISA or status == IRREGULAR) and p.asylum_open[j]
                    and s.engagement[i] >= p.asylum_min_engagement[j] and not s.asylum_refused[i]):
                status = ASYLUM_PENDING
                left = p.asylum_months[j]
                n_asylum_applications[cell] += 1

            s.status[i] = status
            s.stay_left[i] = min(max(left, -1), 32767)
            s.months_resident[i] = months_res
            if status == IRREGULAR:
                forced[i] = True

        # -- 4. Integration: language += language_rate * (1 + courses_bonus * courses) * (1 -
        # language); integration += rate * (1 - integration), rate = base_rate * (1 + work_bonus
        # * employed + secure_bonus * secure + courses_bonus * courses) * (0.5 + 0.5 * language
        # before this month) * (1 - enclave) * (1 - hostility_penalty * hostility), 0 without status
        if rules & INTEGRATION:
            lang = s.language[i]
            s.language[i] = lang + language_rate * (1.0 + courses_bonus * p.courses[j]) * (one - lang)
            status = s.status[i]
            if status != IRREGULAR:
                rate = (
                    base_rate
                    * (1.0 + work_bonus * s.employed[i] + secure_bonus * secure[status] + courses_bonus * p.courses[j])
                    * (half + half * lang)
                    * (1.0 - enclave[j])
                    * (1.0 - hostility_penalty * hostility[j])
                )
                integ = s.integration[i]
                s.integration[i] = integ + rate * (one - integ)

        # -- 5. Pressure: harassed with probability harassment x hostility, detained with
        # probability security_cooperation x engagement, then extradited (and persecuted) with
        # probability extradition_share or else expelled; without status, deported.
        if rules & PRESSURE:
            is_harassed = draw(harass_key, i) < harassment[j]
            detained = draw(detain_key, i) < p.security[j] * s.engagement[i]
            if is_harassed:
                harassed[i] = True
                n_harassed[cell] += 1
            if is_harassed or detained:
                n_pressure[cell] += 1
            if detained:
                n_detained[cell] += 1
                if draw(extradite_key, i) < p.extradition[j]:
                    n_extradited[cell] += 1
                    s.persecuted[i] = True
                    to_russia[i] = True
                else:
                    expelled[i] = True
            elif s.status[i] == IRREGULAR and draw(deport_key, i) < p.deportation[j]:
                n_deported[cell] += 1
                to_russia[i] = True


# --------------------------------------------------------------------------------------------
# 6. Russia: returnees' risks and re-emigration
# --------------------------------------------------------------------------------------------


def draft_age(s: State, st: Step, rows: np.ndarray) -> np.ndarray:
    """Whether each person is a man of draft age this month."""
    age = s.age0[rows] + (st.t - s.depart[rows]) / 12.0
    return s.male[rows] & (age >= st.russia.draft_age_min) & (age <= st.russia.draft_age_max)


def russia(s: State, st: Step) -> None:
    """Returnees risk persecution (by engagement) and the draft; some leave again.

    The persecuted and the mobilized cannot leave. The rest re-emigrate at a base rate, raised
    for draft-age men while a mobilization is on (IT specialists who came back, then fled).
    """
    r, f = st.russia, st.flows
    leaving = np.zeros(st.n, bool)
    _russia_kernel(
        st.n, st.n_hosts, st.t, s.columns(), st.key("repression"), st.key("draft"), st.key("reemigration"),
        # float32 as in the rule's NumPy form (these probabilities meet float32 columns and draws)
        np.float32(r.repression_base), np.float32(r.repression_engagement), r.mobilization, np.float32(r.draft_risk),
        r.draft_age_min, r.draft_age_max,
        r.reemigration_rate, r.mobilization_flight, leaving, f["newly_persecuted"], f["newly_mobilized"],
    )
    rows = np.flatnonzero(leaving)
    if len(rows):
        decide(s, st, rows, allow_stay=False, allow_return=False)


@njit(cache=True)
def _russia_kernel(n, H, t, s, repress_key, draft_key, leave_key, repression_base, repression_engagement, mobilization,
                   draft_risk, age_min, age_max, reemigration_rate, mobilization_flight, leaving,
                   n_persecuted, n_mobilized):
    """The russia rule for each returnee: persecuted with probability repression_base +
    repression_engagement x engagement; while a mobilization is on, draft-age men are called up
    with probability draft_risk; the free leave again with probability reemigration_rate (+
    mobilization_flight for draft-age men during a mobilization).
    """
    for i in range(n):
        if s.location[i] != H:
            continue
        cell = H * C + s.category[i]
        if not s.persecuted[i] and draw(repress_key, i) < repression_base + repression_engagement * s.engagement[i]:
            s.persecuted[i] = True
            n_persecuted[cell] += 1
        age = s.age0[i] + (t - s.depart[i]) / 12.0
        exposed = mobilization and s.male[i] and age >= age_min and age <= age_max
        if exposed and not s.mobilized[i] and draw(draft_key, i) < draft_risk:
            s.mobilized[i] = True
            n_mobilized[cell] += 1
        if not s.persecuted[i] and not s.mobilized[i]:
            if draw(leave_key, i) < reemigration_rate + mobilization_flight * exposed:
                leaving[i] = True


# --------------------------------------------------------------------------------------------
# 7. Decision: stay, move on, or return (multinomial logit)
#
# The choice is the costliest rule (every decider weighs every host), so its per-person,
# per-host arithmetic is written once, as small numba-compiled functions (`_route`,
# `_utility`, `_pick`), and run in one pass over the deciders (`_decide_kernel`). The
# array-level functions below (`entry_routes`, `host_utility`, `choose`) run the same
# compiled functions over whole arrays: they are what the tests and the docs refer to.
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def _route(free: bool, can_apply: bool, open_: bool, is_it: bool, luck: float,
           visa_ap: float, humanitarian_ap: float, work_ap: float, it_ap: float) -> int:
    """The most secure route approved for one person into one host, or -1 if none is."""
    if can_apply and open_ and is_it and luck < it_ap:
        return ROUTE_IT
    if can_apply and open_ and luck < work_ap:
        return ROUTE_WORK
    if can_apply and luck < humanitarian_ap:
        return ROUTE_HUMANITARIAN
    if free:
        return ROUTE_FREE
    if can_apply and open_ and luck < visa_ap:
        return ROUTE_VISA
    return -1


@njit(cache=True)
def _utility(place: float, k_income: float, remote_pay: float, wage: float, employment: float,
             b_savings: float, cash: float, cost: float, personal_risk: float) -> float:
    """Utility of living in a host: its place terms, expected net income, savings buffer, risk.

    `place` holds the terms common to a category in a host (attractiveness, hostility,
    diaspora, peers, cost of living, media grants); `k_income` is beta_income / 1000.
    """
    income = remote_pay + wage * employment
    return place + k_income * income + b_savings * math.log1p(max(cash, 0.0) / cost) - personal_risk


@njit(cache=True)
def _pick(util: np.ndarray, feasible: np.ndarray, u: float, weight: np.ndarray) -> int:
    """Multinomial-logit draw: the first feasible option whose cumulative choice probability
    exceeds `u`; -1 when no option is feasible. `weight` is scratch space, one per option.
    """
    top = -np.inf
    for k in range(len(util)):
        if feasible[k] and util[k] > top:
            top = util[k]
    if top == -np.inf:
        return -1
    total = 0.0
    last = -1
    for k in range(len(util)):
        weight[k] = 0.0
        if feasible[k]:
            weight[k] = math.exp(util[k] - top)
            total += weight[k]
            last = k
    threshold = u * total
    acc = 0.0
    for k in range(len(util)):
        acc += weight[k]
        if feasible[k] and acc > threshold:
            return k
    return last  # u * total rounded up to total


@njit(cache=True)
def _choose_kernel(util: np.ndarray, feasible: np.ndarray, u: np.ndarray) -> np.ndarray:
    pick = np.empty(len(u), np.int64)
    weight = np.empty(util.shape[1])
    for i in range(len(u)):
        pick[i] = _pick(util[i], feasible[i], u[i], weight)
    return pick


@njit(cache=True)
def _routes_kernel(c, passport, td, luck, eng, visa_free, internal_ok, accepts_td, open_,
                   visa_ap, humanitarian_ap, work_ap, it_ap):
    n, H = len(c), len(open_)
    kind = np.full((n, H), -1, np.int8)
    for i in range(n):
        can_apply = passport[i] or td[i]
        for h in range(H):
            free = ((passport[i] and visa_free[h]) or internal_ok[h] or (td[i] and accepts_td[h])) and open_[h]
            kind[i, h] = _route(free, can_apply, open_[h], c[i] == IT, luck[i], visa_ap[c[i], h],
                                humanitarian_ap[c[i], h] * eng[i], work_ap[c[i], h], it_ap[h])
    return kind


@njit(cache=True)
def _utility_kernel(c, src, remote, cash, eng, employment, place, share, wage, cost, security,
                    k_income, b_savings, b_risk):
    n, H = employment.shape
    util = np.empty((n, H))
    for i in range(n):
        for h in range(H):
            util[i, h] = _utility(place[c[i], h], k_income, remote[i] * share[src[i], h], wage[c[i], h],
                                  employment[i, h], b_savings, cash[i], cost[h], b_risk * security[h] * eng[i])
    return util


@njit(cache=True)
def _decide_kernel(rows, s, p, luck_key, choice_key, forced, expelled, return_u, allow_stay, allow_return,
                   job_rate, horizon, place, share, legal_security, route_security, route_job,
                   k_income, b_savings, b_risk, b_legal, b_integration, inertia, forced_penalty, move_cost):
    """For each decider: routes into each host, the utility of each option, and the logit pick.

    Returns the option picked (host, H for Russia, -1 for none) and the route into it.
    """
    H = len(p.entry_ban)
    pick = np.empty(len(rows), np.int64)
    route = np.full(len(rows), -1, np.int8)
    util = np.empty(H + 1)
    feasible = np.empty(H + 1, np.bool_)
    weight = np.empty(H + 1)
    kinds = np.empty(H, np.int8)
    for k in range(len(rows)):
        i = rows[k]
        c, cur, cash, eng = s.category[i], s.location[i], s.cash[i], s.engagement[i]
        luck = draw(luck_key, i)
        passport, td = s.passport_valid[i], s.travel_doc[i]
        can_apply = passport or td
        for h in range(H):
            if h == cur:  # staying: the job one has (or may find) under one's status; no move
                status = s.status[i]
                employment = 0.0
                if _may_work(status, p.work_visa_free[h]):
                    employment = 1.0 if s.employed[i] else min(horizon * _job_chance(job_rate[c, h], s.language[i]), 1.0)
                risk = b_risk * p.security[h] * eng
                remote_pay = s.remote_income[i] * share[s.income_source[i], h]
                kinds[h] = -1
                feasible[h] = allow_stay and not expelled[i]
                util[h] = (_utility(place[c, h], k_income, remote_pay, p.wage[h, c], employment, b_savings, cash,
                                    p.cost[h], risk)
                           + inertia + b_integration * s.integration[i] + b_legal * legal_security[status]
                           - forced_penalty * forced[i])
                continue
            open_ = not p.entry_ban[h]
            free = ((passport and p.visa_free[h]) or p.internal_ok[h] or (td and p.accepts_td[h])) and open_
            kind = _route(free, can_apply, open_, c == IT, luck, p.visa_approval[h, c],
                          p.humanitarian_approval[h, c] * eng, p.work_visa_approval[h, c], p.it_approval[h])
            kinds[h] = kind
            feasible[h] = kind >= 0 and cash >= p.travel_cost[h]
            if not feasible[h]:
                util[h] = 0.0
                continue
            employment = 0.0  # a job with the visa, or the chance of one within the horizon where work is allowed
            if route_job[kind]:
                employment = 1.0
            elif kind == ROUTE_HUMANITARIAN or (kind == ROUTE_FREE and p.work_visa_free[h]):
                employment = min(horizon * _job_chance(job_rate[c, h], s.language[i]), 1.0)
            risk = b_risk * p.security[h] * eng
            remote_pay = s.remote_income[i] * share[s.income_source[i], h]
            util[h] = (_utility(place[c, h], k_income, remote_pay, p.wage[h, c], employment, b_savings, cash,
                                p.cost[h], risk)
                       - move_cost + b_legal * route_security[kind])
        util[H] = return_u[k]
        feasible[H] = allow_return
        pick[k] = _pick(util, feasible, draw(choice_key, i), weight)
        if 0 <= pick[k] < H:
            route[k] = kinds[pick[k]]
    return pick, route


def _place_terms(st: Step) -> np.ndarray:
    """The utility terms common to every emigrant of a category in a host (C x H)."""
    p, b = st.policy, st.behaviour
    journalist = (np.arange(C) == JOURNALIST)[:, None]
    return (
        p.attractiveness[None, :]
        + b.beta_income * (journalist * p.media_grant[None, :] - p.cost[None, :]) / 1000.0
        - b.beta_risk * p.harassment * st.hostility
        - b.beta_hostility * st.hostility
        + b.beta_diaspora * np.log1p(st.stock / 1000.0)
        + b.beta_peer_permit * st.peer_permit.T
    )


def _remote_shares(st: Step) -> np.ndarray:
    """Usable share of remote pay per income source and host (3 x H), with legal status."""
    return usable_remote_share(st, np.arange(3)[:, None], np.arange(st.n_hosts)[None, :])


def _job_rates(st: Step) -> np.ndarray:
    """Monthly job-finding probability per category and host (C x H) at language skill 1;
    `job_chance` scales it by the person's language factor 0.5 + 0.5 * language.
    """
    return st.policy.job_finding.T * job_boost(st.policy)


def entry_routes(s: State, st: Step, rows: np.ndarray, luck: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which hosts each emigrant can enter this month, and by which route (both n x H).

    Visa-free entry needs a valid passport (or the internal passport where it suffices, or a
    travel document where accepted); visas need a passport or travel document. An entry ban
    bars every route but the humanitarian visa, whose approval scales with engagement. A route
    is approved when the person's 'visa luck' uniform is below its approval probability; of
    the approved routes the person takes the most secure (IT-talent visa, work visa,
    humanitarian visa, then visa-free stay, then an ordinary visa). Unapproved: kind -1.
    """
    p = st.policy
    kind = _routes_kernel(
        s.category[rows], s.passport_valid[rows], s.travel_doc[rows], luck, s.engagement[rows],
        p.visa_free, p.internal_ok, p.accepts_td, ~p.entry_ban,
        p.visa_approval.T.copy(), p.humanitarian_approval.T.copy(), p.work_visa_approval.T.copy(), p.it_approval,
    )
    return kind >= 0, kind


def host_utility(s: State, st: Step, rows: np.ndarray, employment: np.ndarray) -> np.ndarray:
    """Systematic utility of living in each host (n x H), before move costs and status quo terms.

    utility = place[c, h] + beta_income * (usable remote pay + wage * employment) / 1000
    + beta_savings * ln(1 + cash / cost[h]) - beta_risk * security[h] * engagement, where
    place[c, h] = attractiveness + beta_income * (media grant - cost) / 1000
    - beta_risk * harassment * hostility - beta_hostility * hostility
    + beta_diaspora * ln(1 + stock / 1000) + beta_peer_permit * peer_permit.

    `employment` (n x H) is each emigrant's expected chance of holding a local job there: 1
    with a job, else the chance of finding one within JOB_HORIZON_MONTHS where the status
    allows work, else 0.
    """
    p, b = st.policy, st.behaviour
    return _utility_kernel(
        s.category[rows], s.income_source[rows], s.remote_income[rows], s.cash[rows], s.engagement[rows],
        np.ascontiguousarray(employment, np.float64), _place_terms(st), _remote_shares(st), p.wage.T.copy(),
        p.cost, p.security, b.beta_income / 1000.0, b.beta_savings, b.beta_risk,
    )


def return_utility(s: State, st: Step, rows: np.ndarray) -> np.ndarray:
    """Systematic utility of going back to (or staying in) Russia, per emigrant.

    utility = return_constant[c] + beta_income * (russian_income - cost of living) / 1000
    + beta_savings * ln(1 + cash / cost of living) - beta_risk * (repression_base +
    repression_engagement * engagement) - beta_draft * [draft-age man] * (1 during a
    mobilization, else draft_fear) + beta_family * family_ties + it_lure * [IT specialist]
    + beta_peer_return * the peers' return rate in the current host.
    """
    r, b = st.russia, st.behaviour
    return _return_utility_kernel(
        rows, st.t, st.n_hosts, s.columns(), st.policy.arrays(), st.peer_return,
        np.array(b.return_constant.values()), b.beta_income, b.beta_savings, b.beta_risk, b.beta_draft,
        b.beta_family, b.beta_peer_return, r.cost_of_living_usd, r.repression_base, r.repression_engagement,
        1.0 if r.mobilization else r.draft_fear, r.draft_age_min, r.draft_age_max, r.it_lure,
    )


@njit(cache=True)
def _return_utility_kernel(rows, t, H, s, p, peer_return, constant, b_income, b_savings, b_risk, b_draft,
                           b_family, b_peer, cost, repression_base, repression_engagement, draft_weight,
                           age_min, age_max, it_lure):
    out = np.empty(len(rows))
    for k in range(len(rows)):
        i = rows[k]
        c = s.category[i]
        income = _russian_income(p.ru_wage[c], s.income_source[i], s.remote_income[i])
        age = s.age0[i] + (t - s.depart[i]) / 12.0
        draft_age = s.male[i] and age >= age_min and age <= age_max
        loc = s.location[i]
        peers = peer_return[loc, c] if loc < H else 0.0
        out[k] = (
            constant[c]
            + b_income * (income - cost) / 1000.0
            + b_savings * math.log1p(max(s.cash[i], 0.0) / cost)
            - b_risk * (repression_base + repression_engagement * s.engagement[i])
            - b_draft * draft_age * draft_weight
            + b_family * s.family_ties[i]
            + it_lure * (c == IT)
            + b_peer * peers
        )
    return out


def choose(utility: np.ndarray, feasible: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Multinomial-logit draw: the option whose cumulative choice probability first exceeds `u`.

    Returns -1 for rows with no feasible option.
    """
    return _choose_kernel(np.ascontiguousarray(utility, np.float64), np.ascontiguousarray(feasible, np.bool_),
                          np.asarray(u))


def decide(
    s: State,
    st: Step,
    rows: np.ndarray,
    *,
    allow_stay: bool = True,
    allow_return: bool = True,
    first: bool = False,
) -> np.ndarray:
    """Each emigrant in `rows` chooses among the options they can legally reach and afford.

    Options: every host they can enter (entry route approved this month: one 'visa luck'
    uniform per person, compared with each host's route probability) and can pay the travel
    cost to; staying where they are (unless expelled; with a penalty when forced); returning
    to Russia. An arrival's utility is host_utility with the employment its route allows
    (a job with work and IT-talent visas; the chance of finding one within JOB_HORIZON_MONTHS
    where the status allows work), minus move_cost, plus beta_legal times the route's legal
    security; staying uses the job one has (or the chance of one under one's status) plus
    inertia, beta_integration * integration, beta_legal * the security of one's status and,
    when forced, minus forced_stay_penalty. Returns the rows that moved to a host.
    """
    if len(rows) == 0:
        return rows
    b, H = st.behaviour, st.n_hosts
    pick, route = _decide_kernel(
        rows, s.columns(), st.policy.arrays(), st.key("visa_luck"), st.key("choice_first" if first else "choice"),
        st.forced, st.expelled, return_utility(s, st, rows), allow_stay, allow_return, _job_rates(st),
        float(JOB_HORIZON_MONTHS), _place_terms(st), _remote_shares(st), LEGAL_SECURITY,
        ROUTE_SECURITY, ROUTE_JOB, b.beta_income / 1000.0, b.beta_savings, b.beta_risk, b.beta_legal,
        b.beta_integration, b.inertia, b.forced_stay_penalty, b.move_cost,
    )
    loc = s.location[rows]
    cur = np.where(loc < H, loc, -1)
    going = (pick >= 0) & (pick < H) & (pick != cur)
    move_to_host(s, st, rows[going], pick[going], route[going])
    move_to_russia(s, st, rows[pick == H], forced=False)
    return rows[going]


def move_to_host(s: State, st: Step, rows: np.ndarray, dest: np.ndarray, route: np.ndarray) -> None:
    """Move emigrants to host `dest` with the status their entry route gives."""
    if len(rows) == 0:
        return
    p, H = st.policy, st.n_hosts
    origin = s.location[rows]
    c = s.category[rows]
    from_host = origin < H
    st.count("departures", origin[from_host], c[from_host])
    st.count("onward_moves", origin[from_host], c[from_host])
    st.count("arrivals", dest, c)
    st.count("first_departures", dest[origin == H + 1], c[origin == H + 1])
    st.count("reemigrations", dest[origin == H], c[origin == H])
    s.moves[rows[from_host]] += 1
    s.left[rows] = True
    s.location[rows] = dest
    s.cash[rows] -= p.travel_cost[dest]
    s.employed[rows] = ROUTE_JOB[route]
    s.asylum_refused[rows] = False
    s.integration[rows] = np.where(from_host, s.integration[rows] * st.integration.carry_over, 0.0)
    s.months_resident[rows] = 0
    status = np.select(
        [route == ROUTE_FREE, route == ROUTE_VISA, route == ROUTE_HUMANITARIAN],
        [Status.VISA_FREE, Status.VISA, Status.HUMANITARIAN],
        Status.TEMPORARY,  # work and IT-talent visas
    )
    s.status[rows] = status
    s.stay_left[rows] = np.select(
        [route == ROUTE_FREE, route == ROUTE_VISA],
        # entry on an internal passport or travel document where no visa-free stay is set: 3 months
        [np.where(p.visa_free_months[dest] > 0, p.visa_free_months[dest], 3), p.visa_months[dest]],
        p.permit_months[dest],
    )


def move_to_russia(s: State, st: Step, rows: np.ndarray, *, forced: bool) -> None:
    """Emigrants abroad go back to Russia (by choice, or deported / extradited when `forced`)."""
    if len(rows) == 0:
        return
    origin, c = s.location[rows], s.category[rows]
    st.count("departures", origin, c)
    st.count("returns", origin, c)
    if forced:
        st.count("forced_returns", origin, c)
    s.location[rows] = st.RU
    s.status[rows] = Status.NONE
    s.stay_left[rows] = 0
    s.employed[rows] = False
    s.integration[rows] = 0.0
    s.travel_doc[rows] = False
    s.cash[rows] -= st.russia.return_cost_usd
    s.returns[rows] += 1


def decisions(s: State, st: Step) -> None:
    """Emigrants abroad who must decide (status or money ran out, expelled) or choose to reconsider
    (with probability behaviour.decision_rate, or pressure_decision_rate in a month of harassment).
    """
    b = st.behaviour
    decide(s, st, _deciders(st.n, st.n_hosts, s.location, st.forced, st.expelled, st.harassed, st.key("reconsider"),
                            b.decision_rate, b.pressure_decision_rate))


@njit(cache=True)
def _deciders(n, H, location, forced, expelled, harassed, key, decision_rate, pressure_decision_rate):
    chosen = np.empty(n, np.int64)
    k = 0
    for i in range(n):
        if location[i] < H and (forced[i] or expelled[i]
                                or draw(key, i) < (pressure_decision_rate if harassed[i] else decision_rate)):
            chosen[k] = i
            k += 1
    return chosen[:k]


# --------------------------------------------------------------------------------------------
# 8. Social influence
# --------------------------------------------------------------------------------------------


def peer_rates(
    st: Step, agents_hc: np.ndarray, smoothed: np.ndarray, memory: float, min_agents: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The peers' return rate and permit grant rate per host and category (H x C), as peers
    perceive them after this month: returns, permits and peers counted over recent months.

    Peers are the emigrants of the same category in the same host. `smoothed` (3 x H x C:
    returns, permits, agents) are last month's exponentially weighted counts; each month they
    move a share 1 - `memory` toward this month's counts. A community smaller than
    `min_agents` counts as that large (a handful of cases is not a trend). Returns the new
    smoothed counts and the two rates, which enter next month's choice (beta_peer_return,
    beta_peer_permit).
    """
    H = st.n_hosts
    now = np.stack([
        st.flows["returns"].reshape(H + 2, C)[:H],
        st.flows["permits_granted"].reshape(H + 2, C)[:H],
        agents_hc,
    ])
    smoothed = memory * smoothed + (1.0 - memory) * now
    denom = np.maximum(smoothed[2], max(min_agents, 1.0))
    return smoothed, smoothed[0] / denom, smoothed[1] / denom
