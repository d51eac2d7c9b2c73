"""The policy in force, as NumPy arrays indexed by host (and category) for the rule kernels."""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, fields

import numpy as np

from ..scenario.schema import Scenario


def _h(sc: Scenario, getter, dtype=np.float64) -> np.ndarray:
    return np.array([getter(h) for h in sc.hosts.values()], dtype=dtype)


def _hc(sc: Scenario, getter) -> np.ndarray:
    return np.array([getter(h).values() for h in sc.hosts.values()], dtype=np.float64)


@dataclass
class Policy:
    """Per-host arrays (shape H) and per-host-and-category arrays (shape H x C) of one epoch."""

    attractiveness: np.ndarray
    # entry
    visa_free: np.ndarray
    internal_ok: np.ndarray
    entry_ban: np.ndarray
    accepts_td: np.ndarray
    visa_approval: np.ndarray
    visa_months: np.ndarray
    humanitarian_approval: np.ndarray
    work_visa_approval: np.ndarray
    it_approval: np.ndarray
    travel_cost: np.ndarray
    law_of_return: np.ndarray
    citizen_pull: np.ndarray
    border_asylum: np.ndarray
    # stay
    visa_free_months: np.ndarray
    visa_run_resets: np.ndarray
    visa_run_cost: np.ndarray
    work_permit: np.ndarray
    company_permit: np.ndarray
    company_capital: np.ndarray
    property_permit: np.ndarray
    property_price: np.ndarray
    family_permit: np.ndarray
    asylum_approval: np.ndarray
    asylum_open: np.ndarray
    asylum_months: np.ndarray
    asylum_min_engagement: np.ndarray
    permit_months: np.ndarray
    renewal: np.ndarray
    permanent_after: np.ndarray
    permanent_approval: np.ndarray
    revocation: np.ndarray
    permits_for_irregular: np.ndarray
    early_departure: np.ndarray
    # economy
    cost: np.ndarray
    wage: np.ndarray
    job_finding: np.ndarray
    job_loss: np.ndarray
    work_visa_free: np.ndarray
    bank_accounts: np.ndarray
    russian_transfers: np.ndarray
    informal_share: np.ndarray
    # pressure
    security: np.ndarray
    extradition: np.ndarray
    deportation: np.ndarray
    overstay_penalty: np.ndarray
    hostility_base: np.ndarray
    enclave_threshold_pct: np.ndarray
    hostility_slope: np.ndarray
    harassment: np.ndarray
    population: np.ndarray
    # support
    courses: np.ndarray
    media_grant: np.ndarray
    university: np.ndarray
    relocation: np.ndarray
    travel_document: np.ndarray
    absorption: np.ndarray
    # Russia (per category)
    ru_wage: np.ndarray

    @classmethod
    def from_scenario(cls, sc: Scenario) -> Policy:
        """The arrays of a validated scenario (hosts in file order, categories in CATEGORIES order)."""

        def path(p):
            return np.where(_h(sc, lambda h: getattr(h.stay, p).available, bool)[:, None],
                            _hc(sc, lambda h: getattr(h.stay, p).approval), 0.0)

        return cls(
            attractiveness=_h(sc, lambda h: h.attractiveness),
            visa_free=_h(sc, lambda h: h.entry.visa_free, bool),
            internal_ok=_h(sc, lambda h: h.entry.internal_passport_ok, bool),
            entry_ban=_h(sc, lambda h: h.entry.entry_ban, bool),
            accepts_td=_h(sc, lambda h: h.entry.accepts_travel_document, bool),
            visa_approval=_hc(sc, lambda h: h.entry.visa_approval),
            visa_months=_h(sc, lambda h: h.entry.visa_months, np.int16),
            humanitarian_approval=np.where(
                _h(sc, lambda h: h.entry.humanitarian_visa, bool)[:, None],
                _hc(sc, lambda h: h.entry.humanitarian_approval), 0.0),
            work_visa_approval=np.where(
                _h(sc, lambda h: h.entry.work_visa, bool)[:, None],
                _hc(sc, lambda h: h.entry.work_visa_approval), 0.0),
            it_approval=_h(sc, lambda h: h.entry.it_talent_approval * h.entry.it_talent_visa),
            travel_cost=_h(sc, lambda h: h.entry.travel_cost_usd),
            law_of_return=_hc(sc, lambda h: h.entry.law_of_return),
            citizen_pull=_h(sc, lambda h: h.entry.citizen_pull),
            border_asylum=_h(sc, lambda h: h.entry.border_asylum),
            visa_free_months=_h(sc, lambda h: h.stay.visa_free_months, np.int16),
            visa_run_resets=_h(sc, lambda h: h.stay.visa_run_resets, bool),
            visa_run_cost=_h(sc, lambda h: h.stay.visa_run_cost_usd),
            work_permit=path("work_permit"),
            company_permit=path("company_permit"),
            company_capital=_h(sc, lambda h: h.stay.company_capital_usd),
            property_permit=path("property_permit"),
            property_price=_h(sc, lambda h: h.stay.property_price_usd),
            family_permit=path("family_permit"),
            asylum_approval=path("asylum"),
            asylum_open=_h(sc, lambda h: h.stay.asylum.available, bool),
            asylum_months=_h(sc, lambda h: h.stay.asylum_processing_months, np.int16),
            asylum_min_engagement=_h(sc, lambda h: h.stay.asylum_min_engagement),
            permit_months=_h(sc, lambda h: h.stay.permit_months, np.int16),
            renewal=_h(sc, lambda h: h.stay.renewal_probability),
            permanent_after=_h(sc, lambda h: h.stay.permanent_after_months, np.int16),
            permanent_approval=_h(sc, lambda h: h.stay.permanent_approval),
            revocation=_h(sc, lambda h: h.stay.revocation_rate),
            permits_for_irregular=_h(sc, lambda h: h.stay.permits_for_irregular, bool),
            early_departure=_h(sc, lambda h: h.stay.citizen_early_departure),
            cost=_h(sc, lambda h: h.economy.cost_of_living_usd),
            wage=_hc(sc, lambda h: h.economy.local_wage_usd),
            job_finding=_hc(sc, lambda h: h.economy.job_finding),
            job_loss=_h(sc, lambda h: h.economy.job_loss),
            work_visa_free=_h(sc, lambda h: h.economy.work_allowed_visa_free, bool),
            bank_accounts=_h(sc, lambda h: h.economy.bank_accounts, bool),
            russian_transfers=_h(sc, lambda h: h.economy.russian_transfers, bool),
            informal_share=_h(sc, lambda h: h.economy.informal_wage_share),
            security=_h(sc, lambda h: h.pressure.security_cooperation),
            extradition=_h(sc, lambda h: h.pressure.extradition_share),
            deportation=_h(sc, lambda h: h.pressure.deportation_rate),
            overstay_penalty=_h(sc, lambda h: h.pressure.overstay_penalty),
            hostility_base=_h(sc, lambda h: h.pressure.hostility_base),
            enclave_threshold_pct=_h(sc, lambda h: h.pressure.enclave_threshold_pct),
            hostility_slope=_h(sc, lambda h: h.pressure.hostility_slope),
            harassment=_h(sc, lambda h: h.pressure.harassment_rate),
            population=_h(sc, lambda h: h.pressure.population_millions * 1e6),
            courses=_h(sc, lambda h: h.support.integration_courses),
            media_grant=_h(sc, lambda h: h.support.media_funding_usd),
            university=_h(sc, lambda h: h.support.university_in_exile, bool),
            relocation=_h(sc, lambda h: h.support.relocation_programme, bool),
            travel_document=_h(sc, lambda h: h.support.travel_document, bool),
            absorption=_h(sc, lambda h: h.support.absorption_basket_usd),
            ru_wage=np.array(sc.russia.wage_usd.values(), dtype=np.float64),
        )

    def arrays(self) -> tuple:
        """The arrays as a named tuple (the same arrays), the form compiled kernels take."""
        return PolicyArrays(*(getattr(self, f.name) for f in fields(self)))

    def enclave_pct(self, stock_persons: np.ndarray) -> np.ndarray:
        """Russian emigrants as a percentage of each host's population."""
        return 100.0 * stock_persons / self.population

    def hostility(self, stock_persons: np.ndarray) -> np.ndarray:
        """Social hostility per host, 0-1: base level, rising past the enclave threshold."""
        excess = np.maximum(self.enclave_pct(stock_persons) - self.enclave_threshold_pct, 0.0)
        return np.clip(self.hostility_base + self.hostility_slope * excess, 0.0, 1.0)


PolicyArrays = namedtuple("PolicyArrays", [f.name for f in fields(Policy)])
