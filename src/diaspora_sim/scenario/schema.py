"""The scenario language: a typed, validated schema for everything a scenario file declares.

Every field carries a description with its unit and meaning; `python -m diaspora_sim schema`
prints the JSON Schema built from these classes and `docs/parameters.md` is generated from it.
Unknown keys are errors everywhere (``extra="forbid"``), so a typo never passes silently.
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, create_model, field_validator, model_validator

CATEGORIES: tuple[str, ...] = (
    "it_specialist",
    "journalist_activist",
    "academic",
    "businessperson",
    "draft_evader",
)
"""Emigrant categories, in the fixed order used by every per-category array."""

MONTH_RE = re.compile(r"^(19[0-9][0-9]|2[01][0-9][0-9])-(0[1-9]|1[0-2])$")
"""A calendar month 'YYYY-MM' from 1900-01 to 2199-12, in ASCII digits."""
MAX_AGENTS = 5_000_000
"""Most agents one run may create (about 5 GiB of memory); a larger population needs a larger run.scale."""
SEED_MAX = 2**63 - 1
"""Seeds are stored as 64-bit integers in results files."""


def _month_text(value: Any) -> Any:
    """A YAML date (2023-03-01) or a 'YYYY-MM-DD' string read as its month, 'YYYY-MM'."""
    if isinstance(value, datetime.date):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return value[:7]
    return value


def _one_or_many(value: Any) -> Any:
    """A single name where a list of names is expected, as a list of one."""
    return [value] if isinstance(value, str) else value


Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
def _check_month(value: str) -> str:
    if not MONTH_RE.match(value):
        raise ValueError(f"expected a month 'YYYY-MM' from 1900-01 to 2199-12 in digits 0-9, found {value!r}")
    return value


Month = Annotated[
    str,
    BeforeValidator(_month_text),
    AfterValidator(_check_month),
    Field(json_schema_extra={"pattern": MONTH_RE.pattern},
          description="Calendar month, 'YYYY-MM' (1900-2199; a date is read as its month)."),
]
Names = Annotated[list[str], BeforeValidator(_one_or_many)]


def month_number(month: str) -> int:
    """Months since year 0 of a 'YYYY-MM' string: differences give month offsets."""
    year, mon = MONTH_RE.match(month).groups()  # type: ignore[union-attr]
    return int(year) * 12 + int(mon) - 1


def month_name(number: int) -> str:
    """Inverse of :func:`month_number`."""
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


class Strict(BaseModel):
    """Base of every schema class: unknown keys are errors, values are re-checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, validate_default=True, allow_inf_nan=False)


# --------------------------------------------------------------------------------------------
# Per-category values
# --------------------------------------------------------------------------------------------


def _by_category(name: str, value_type: Any, what: str) -> type[BaseModel]:
    """A mapping with one value per emigrant category.

    In a file it may be written as one number (the same for every category) or as a mapping
    with a ``default`` and the categories that differ from it.
    """
    fields: dict[str, Any] = {
        "default": (value_type | None, Field(None, description=f"{what} for categories not listed.")),
    }
    for cat in CATEGORIES:
        fields[cat] = (value_type | None, Field(None, description=f"{what} for {cat}."))

    def expand(cls: type, data: Any) -> Any:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"default": data}
        return data

    def fill(self: Any) -> Any:
        missing = [c for c in CATEGORIES if getattr(self, c) is None]
        if missing and self.default is None:
            raise ValueError(f"no value for {', '.join(missing)} and no 'default'")
        for cat in missing:
            object.__setattr__(self, cat, self.default)
        object.__setattr__(self, "default", None)
        return self

    model = create_model(
        name,
        __base__=Strict,
        __doc__=f"{what}, one value per category (a single number applies to all).",
        __validators__={
            "expand": model_validator(mode="before")(classmethod(expand)),
            "fill": model_validator(mode="after")(fill),
        },
        **fields,
    )
    model.values = lambda self: [getattr(self, c) for c in CATEGORIES]  # type: ignore[attr-defined]
    return model


ProbByCategory = _by_category("ProbByCategory", Probability, "Probability (0-1)")
UsdByCategory = _by_category("UsdByCategory", NonNegative, "Amount in USD")
UtilityByCategory = _by_category("UtilityByCategory", float, "Utility (logit units)")


class CategoryShares(Strict):
    """Shares of a total by category; they must sum to 1."""

    it_specialist: Probability = Field(description="Share of IT specialists.")
    journalist_activist: Probability = Field(description="Share of journalists, activists, NGO staff.")
    academic: Probability = Field(description="Share of academics and researchers.")
    businessperson: Probability = Field(description="Share of managers and entrepreneurs.")
    draft_evader: Probability = Field(
        description="Share of (mostly apolitical, young, male) draft evaders and other leavers."
    )

    @model_validator(mode="after")
    def _sums_to_one(self) -> CategoryShares:
        total = sum(self.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"category shares must sum to 1, they sum to {total:.6g}")
        return self

    def values(self) -> list[float]:
        """The shares in :data:`CATEGORIES` order."""
        return [getattr(self, c) for c in CATEGORIES]


# --------------------------------------------------------------------------------------------
# Distributions of personal attributes
# --------------------------------------------------------------------------------------------


class TruncatedNormal(Strict):
    """Normal distribution clipped to [min, max]."""

    mean: float = Field(description="Mean.")
    sd: NonNegative = Field(description="Standard deviation.")
    min: float = Field(description="Lower bound (values below are clipped).")
    max: float = Field(description="Upper bound (values above are clipped).")

    @model_validator(mode="after")
    def _ordered(self) -> TruncatedNormal:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class LogNormal(Strict):
    """Log-normal distribution given by its median and the sd of its logarithm."""

    median: NonNegative = Field(description="Median, in the unit of the quantity.")
    sigma: NonNegative = Field(description="Standard deviation of the natural logarithm.")


class Beta(Strict):
    """Beta distribution on [0, 1]; mean a / (a + b)."""

    a: float = Field(gt=0, description="First shape parameter.")
    b: float = Field(gt=0, description="Second shape parameter.")


class Uniform(Strict):
    """Uniform distribution on [low, high]."""

    low: float = Field(description="Lower bound.")
    high: float = Field(description="Upper bound.")

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) is above high ({self.high})")
        return self


class IncomeSources(Strict):
    """Where an emigrant's income comes from on departure; shares sum to 1."""

    remote_western: Probability = Field(
        description="Share working remotely for Western clients or employers (paid abroad; needs a "
        "non-Russian bank account)."
    )
    remote_russian: Probability = Field(
        description="Share working remotely for Russian clients (paid in roubles; reachable only where "
        "Russian cards and transfers work)."
    )
    none: Probability = Field(description="Share with no income on departure (live on savings).")

    @model_validator(mode="after")
    def _sums_to_one(self) -> IncomeSources:
        total = self.remote_western + self.remote_russian + self.none
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"income source shares must sum to 1, they sum to {total:.6g}")
        return self


class CategoryProfile(Strict):
    """How the personal attributes of new emigrants of one category are drawn."""

    age: TruncatedNormal = Field(description="Age on departure, years.")
    male_share: Probability = Field(description="Share of men (draft exposure).")
    foreign_passport_share: Probability = Field(
        description="Share holding a valid foreign-travel passport; the rest have only the internal "
        "passport, which admits them only to hosts with entry.internal_passport_ok."
    )
    passport_years_left: Uniform = Field(
        description="Years of validity left on the foreign passport at departure."
    )
    cash_usd: LogNormal = Field(description="Savings carried abroad or in non-Russian accounts, USD.")
    russian_savings_usd: LogNormal = Field(
        description="Savings left in Russian bank accounts, USD; usable only in Russia or where "
        "economy.russian_transfers is true."
    )
    remote_income_usd: LogNormal = Field(
        description="Monthly remote income for those with a remote income source, USD/month."
    )
    income_source: IncomeSources = Field(description="Income source shares on departure.")
    engagement: Beta = Field(
        description="Political engagement, 0 (none) to 1 (public opponent): drives persecution risk "
        "on return, targeting abroad and eligibility for humanitarian visas and asylum."
    )
    family_ties: Beta = Field(description="Strength of family ties in Russia, 0-1: the pull of home.")
    language: Beta = Field(description="Initial command of host or international languages, 0-1.")


class Wave(Strict):
    """An outflow wave: people leaving Russia for the first time over a span of months."""

    name: str = Field(description="Short name of the wave.")
    start: Month = Field(description="First month of departures.")
    end: Month = Field(description="Last month of departures (inclusive).")
    size: NonNegative = Field(description="Persons leaving over the whole wave.")
    monthly_weights: list[NonNegative] | None = Field(
        None,
        description="Relative size of each month of the wave (one weight per month from start to "
        "end); uniform when absent.",
    )
    category_mix: CategoryShares = Field(description="Category shares of the wave's leavers.")
    source: str = Field("", description="Where the wave's dates and size come from.")

    @model_validator(mode="after")
    def _consistent(self) -> Wave:
        n = month_number(self.end) - month_number(self.start) + 1
        if n < 1:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        if self.monthly_weights is not None:
            if len(self.monthly_weights) != n:
                raise ValueError(
                    f"monthly_weights has {len(self.monthly_weights)} values, the wave spans {n} months"
                )
            if sum(self.monthly_weights) <= 0:
                raise ValueError("monthly_weights must not all be zero")
        return self


class Population(Strict):
    """Who leaves, when, and with what."""

    waves: list[Wave] = Field(min_length=1, max_length=100, description="Outflow waves (1 to 100).")
    profiles: dict[str, CategoryProfile] = Field(
        description="Attribute distributions, one profile for each category."
    )

    @field_validator("profiles")
    @classmethod
    def _all_categories(cls, v: dict[str, CategoryProfile]) -> dict[str, CategoryProfile]:
        unknown = sorted(set(v) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"unknown categories {unknown}; expected {list(CATEGORIES)}")
        missing = [c for c in CATEGORIES if c not in v]
        if missing:
            raise ValueError(f"missing profiles for {missing}")
        return v


# --------------------------------------------------------------------------------------------
# Host countries
# --------------------------------------------------------------------------------------------


class Entry(Strict):
    """Who may enter, and how."""

    visa_free: bool = Field(description="Russians with a foreign passport enter without a visa.")
    internal_passport_ok: bool = Field(
        False, description="The internal Russian passport suffices for entry and stay (EAEU members)."
    )
    entry_ban: bool = Field(
        False, description="No new entries of Russian citizens on any visa (humanitarian excepted)."
    )
    accepts_travel_document: bool = Field(
        False, description="Holders of a Nansen-style travel document may enter as if visa-free."
    )
    visa_approval: ProbByCategory = Field(
        0.0, description="Probability a short-stay (tourist or business) visa application is approved; "
        "the visa allows no work."
    )
    visa_months: int = Field(3, ge=1, le=120, description="Length of stay a visa grants, months.")
    humanitarian_visa: bool = Field(
        False, description="Humanitarian visas are offered to politically exposed Russians."
    )
    humanitarian_approval: ProbByCategory = Field(
        0.0,
        description="Probability a humanitarian visa is approved for an applicant with engagement 1; "
        "scaled by engagement.",
    )
    work_visa: bool = Field(
        False, description="Work visas (a job offer from a local employer, e.g. an EU Blue Card) are offered; "
        "they grant a temporary permit and the job on arrival.",
    )
    work_visa_approval: ProbByCategory = Field(
        0.0,
        description="Probability in a month that an applicant holds a job offer and gets the work visa "
        "(the processing delay is folded into this monthly probability).",
    )
    it_talent_visa: bool = Field(False, description="An IT-talent / tech visa is offered.")
    it_talent_approval: Probability = Field(
        0.0, description="Probability an IT specialist's IT-talent visa is approved; it grants a temporary "
        "permit and a job on arrival."
    )
    travel_cost_usd: NonNegative = Field(
        500.0, description="Cost of travelling and settling in, USD, paid on arrival."
    )
    law_of_return: ProbByCategory = Field(
        0.0,
        description="Share of each category eligible for citizenship on arrival (Israel's Law of Return: a "
        "Jewish parent, grandparent or spouse). An eligible person with a passport enters as a citizen "
        "(permanent status) whatever the other entry rules; eligibility is drawn once per person.",
    )
    citizen_pull: float = Field(
        0.0,
        description="Extra utility of this host, logit units, for those eligible under its law of return who "
        "enter as citizens: relatives and a community of their own (Israel has about a million immigrants "
        "from the former Soviet Union).",
    )
    border_asylum: Probability = Field(
        0.0,
        description="Probability in a month that a person with a passport who tries can cross a land border "
        "without a visa to claim asylum (the US southern border, reached through Mexico): they arrive with "
        "the claim pending (stay.asylum decides it), counted as border_arrivals. 0: no such route.",
    )


class PermitPath(Strict):
    """One path to a temporary residence permit."""

    available: bool = Field(False, description="This path is open to Russians.")
    approval: ProbByCategory = Field(
        0.0, description="Monthly probability an eligible applicant is granted the permit."
    )


class Stay(Strict):
    """How long one may stay, and the paths to residence."""

    visa_free_months: int = Field(
        0, ge=0, le=120, description="Length of a visa-free stay, months (0: no visa-free stay)."
    )
    visa_run_resets: bool = Field(
        True, description="Leaving and re-entering (a 'visa run') starts a new visa-free stay."
    )
    visa_run_cost_usd: NonNegative = Field(150.0, description="Cost of one visa run, USD.")
    work_permit: PermitPath = Field(
        default_factory=PermitPath, description="Residence through local employment (needs a local job)."
    )
    company_permit: PermitPath = Field(
        default_factory=PermitPath,
        description="Residence through registering a company or as an entrepreneur (needs "
        "company_capital_usd in cash).",
    )
    company_capital_usd: NonNegative = Field(
        2000.0, description="Cash needed to register a company, USD."
    )
    property_permit: PermitPath = Field(
        default_factory=PermitPath,
        description="Residence through buying property (needs property_price_usd in cash).",
    )
    property_price_usd: NonNegative = Field(100000.0, description="Cash needed to buy qualifying property, USD.")
    family_permit: PermitPath = Field(
        default_factory=PermitPath, description="Residence through family ties or marriage (anyone eligible)."
    )
    asylum: PermitPath = Field(
        default_factory=PermitPath,
        description="Asylum: approval is the probability of a positive decision for an applicant with "
        "engagement 1, scaled by engagement; decided after asylum_processing_months.",
    )
    asylum_processing_months: int = Field(
        9, ge=1, le=120, description="Months from an asylum application to its decision."
    )
    asylum_min_engagement: Probability = Field(
        0.5, description="Engagement at or above which an emigrant applies for asylum when it is open."
    )
    permit_months: int = Field(12, ge=1, le=120, description="Validity of a temporary permit, months.")
    permits_for_irregular: bool = Field(
        False,
        description="People without status (their stay ran out) may still be granted a permit in the country, by "
        "the same paths (e.g. residence through work for citizens of the Eurasian union in Kazakhstan).",
    )
    renewal_probability: Probability = Field(
        0.9, description="Probability a temporary permit (or humanitarian visa) is renewed on expiry."
    )
    permanent_after_months: int = Field(
        60, ge=1, le=600, description="Months of temporary residence before permanent residence is possible."
    )
    permanent_approval: Probability = Field(
        0.5, description="Monthly probability an eligible temporary resident gets permanent residence."
    )
    revocation_rate: Probability = Field(
        0.0, description="Monthly probability a temporary permit or humanitarian visa is revoked."
    )
    citizen_early_departure: Probability = Field(
        0.0,
        description="Share of those who arrive as citizens (entry.law_of_return) who came for the passport: "
        "after two months they must leave the host (marked expelled), for another host or Russia; such a "
        "return counts as voluntary.",
    )


class Economy(Strict):
    """Living costs, work and money."""

    cost_of_living_usd: NonNegative = Field(description="Monthly cost of living for one person, USD.")
    local_wage_usd: UsdByCategory = Field(description="Monthly pay of a local job, USD.")
    job_finding: ProbByCategory = Field(
        description="Monthly probability that an emigrant allowed to work, with language skill 1, "
        "finds a local job (halved at language 0)."
    )
    job_loss: Probability = Field(0.02, description="Monthly probability of losing a local job.")
    work_allowed_visa_free: bool = Field(
        False, description="Work is allowed on a visa-free stay (otherwise only with a permit)."
    )
    bank_accounts: bool = Field(
        True, description="Russians with legal status can open local bank accounts (needed for Western pay)."
    )
    russian_transfers: bool = Field(
        False, description="Russian cards and transfers work: Russian savings and rouble income reach the emigrant "
        "(elsewhere savings stay in Russia and only russia.transfer_workaround_share of rouble income arrives)."
    )
    informal_wage_share: Probability = Field(
        0.0,
        description="Share of the local wage an emigrant without a local job earns in informal or lower-paid work "
        "in a month their cash runs low (0: no such work is tolerated).",
    )


class Pressure(Strict):
    """Hostility, harassment and the long arm of Russian security services."""

    security_cooperation: Probability = Field(
        0.0,
        description="Monthly probability that a fully engaged emigrant (engagement 1) is detained at "
        "Moscow's request; scaled by engagement.",
    )
    extradition_share: Probability = Field(
        0.0, description="Share of those detained who are handed to Russia (the rest must leave the host)."
    )
    deportation_rate: Probability = Field(
        0.02, description="Monthly probability that a person without legal status is deported to Russia."
    )
    overstay_penalty: float = Field(
        2.0,
        description="Disutility (utility units) of staying on without legal status (overstaying) when forced to "
        "decide: low where overstayers are tolerated, high where enforcement is strict.",
    )
    hostility_base: Probability = Field(0.1, description="Social hostility toward Russians with no enclave, 0-1.")
    enclave_threshold_pct: NonNegative = Field(
        1.0, description="Russian emigrants as % of the host population above which hostility grows."
    )
    hostility_slope: NonNegative = Field(
        0.1, description="Growth of hostility per percentage point of enclave share above the threshold."
    )
    harassment_rate: Probability = Field(
        0.02, description="Monthly probability of harassment (eviction, refusal, attack) at hostility 1."
    )
    population_millions: float = Field(gt=0, description="Host population, millions (for the enclave share).")


class Support(Strict):
    """Programmes that help exiles settle."""

    integration_courses: Probability = Field(
        0.0, description="Reach of integration and language courses, 0-1 (speeds language and integration)."
    )
    media_funding_usd: NonNegative = Field(
        0.0, description="Monthly grant to journalists and activists from exile-media funding, USD."
    )
    university_in_exile: bool = Field(
        False, description="A university-in-exile or scholar programme hires academics (job finding x3)."
    )
    relocation_programme: bool = Field(
        False,
        description="Relocation help for IT specialists and businesspeople (company registration, bank "
        "accounts): their company-permit approval and job finding double.",
    )
    travel_document: bool = Field(
        False,
        description="Issues a Nansen-style travel document to legal residents whose Russian passport "
        "has expired.",
    )
    absorption_basket_usd: NonNegative = Field(
        0.0,
        description="Monthly support to those who arrive as citizens (entry.law_of_return; Israel's absorption "
        "basket), for ABSORPTION_MONTHS (6) months, paid as one sum on arrival; it counts as income in "
        "the choice of the host. Citizens' flights are paid (no travel cost).",
    )


class Host(Strict):
    """A host country and its policies toward Russian emigrants."""

    name: str = Field(description="Country name.")
    groups: list[str] = Field(
        default_factory=list,
        description="Groups this host belongs to (e.g. eu, schengen, baltic, eaeu, near_abroad); "
        "timeline events can target a group.",
    )
    attractiveness: float = Field(
        0.0, description="Base utility of living here (familiarity, climate, flights), logit units."
    )
    entry: Entry = Field(description="Entry rules: visa-free or visa, documents accepted, visa routes.")
    stay: Stay = Field(description="Length of stay and the paths to residence permits.")
    economy: Economy = Field(description="Cost of living, wages, jobs and banking.")
    pressure: Pressure = Field(description="Hostility, harassment, detention and deportation.")
    support: Support = Field(default_factory=Support, description="Programmes that help exiles settle.")


class Russia(Strict):
    """The origin country: risks, pulls and documents."""

    cost_of_living_usd: NonNegative = Field(description="Monthly cost of living in Russia, USD.")
    wage_usd: UsdByCategory = Field(description="Monthly pay on return to Russia, USD.")
    repression_base: Probability = Field(
        0.0, description="Monthly probability of persecution (arrest, charges) for a returnee with engagement 0."
    )
    repression_engagement: Probability = Field(
        0.05, description="Additional monthly probability of persecution at engagement 1 (linear in engagement)."
    )
    mobilization: bool = Field(False, description="A mobilization wave is under way.")
    draft_risk: Probability = Field(
        0.0, description="Monthly probability a draft-age man in Russia is called up while mobilization is on."
    )
    draft_fear: Probability = Field(
        0.0,
        description="Perceived chance of a new call-up while no mobilization is on, as a share of "
        "beta_draft (the fear that kept draft-age men abroad after 2022).",
    )
    draft_age_min: int = Field(18, ge=0, le=100, description="Youngest draft age, years.")
    draft_age_max: int = Field(50, ge=0, le=100, description="Oldest draft age, years.")
    it_lure: NonNegative = Field(
        0.0, description="Extra utility of returning for IT specialists (tax breaks, mobilization deferral)."
    )
    passport_renewal: Probability = Field(
        0.8, description="Probability a consulate renews an expiring foreign passport (engagement 0)."
    )
    renewal_engagement_penalty: Probability = Field(
        0.5,
        description="Reduction of the renewal probability at engagement 1 (activists fear or are refused "
        "consular service).",
    )
    reemigration_rate: Probability = Field(
        0.01, description="Monthly probability that a returnee leaves Russia again."
    )
    mobilization_flight: Probability = Field(
        0.0, description="Extra monthly probability that a draft-age male returnee flees while mobilization is on."
    )
    return_cost_usd: NonNegative = Field(300.0, description="Cost of travelling back to Russia, USD.")
    remote_job_loss: Probability = Field(
        0.0,
        description="Monthly probability that an emigrant abroad working remotely for a Russian employer or client "
        "loses that job (their income source becomes none).",
    )
    transfer_workaround_share: Probability = Field(
        0.0,
        description="Share of rouble income that still reaches an emigrant in a host where Russian cards and "
        "transfers do not work (through intermediaries, crypto or third-country cards, after their fees).",
    )

    @model_validator(mode="after")
    def _draft_ages(self) -> Russia:
        if self.draft_age_min > self.draft_age_max:
            raise ValueError(f"draft_age_min ({self.draft_age_min}) is above draft_age_max ({self.draft_age_max})")
        return self


class Integration(Strict):
    """How integration and language grow (see docs/model.md, 'Integration')."""

    base_rate: Probability = Field(
        0.03, description="Monthly share of the remaining gap to full integration closed, all else neutral."
    )
    work_bonus: NonNegative = Field(1.0, description="Relative speed-up with a local job.")
    secure_bonus: NonNegative = Field(0.5, description="Relative speed-up with secure status.")
    courses_bonus: NonNegative = Field(1.0, description="Relative speed-up at integration_courses 1.")
    enclave_penalty: Probability = Field(
        0.5, description="Maximum slowdown from an insular Russian-speaking enclave (at enclave saturation)."
    )
    enclave_half_pct: float = Field(
        1.0, gt=0, description="Enclave share (% of host population) at which half the enclave penalty applies."
    )
    hostility_penalty: Probability = Field(0.5, description="Slowdown at hostility 1.")
    language_rate: Probability = Field(0.02, description="Monthly share of the remaining language gap closed.")
    carry_over: Probability = Field(
        0.3, description="Share of integration kept on moving to another host (language is kept whole)."
    )
    threshold: Probability = Field(
        0.6, description="Integration score at or above which a person with secure status counts as integrated."
    )


class Behaviour(Strict):
    """The stay / move / return choice (multinomial logit; see docs/model.md, 'Decision')."""

    decision_rate: Probability = Field(
        0.1, description="Monthly probability that an emigrant not forced to decide reconsiders."
    )
    pressure_decision_rate: Probability = Field(
        0.5, description="Probability of reconsidering in a month of harassment."
    )
    beta_income: float = Field(1.0, description="Utility per 1,000 USD of expected monthly net income.")
    beta_savings: float = Field(
        0.5, description="Utility of a savings buffer: per log(1 + months of costs covered by cash)."
    )
    beta_legal: float = Field(1.0, description="Utility of a secure legal status (0 none - 1 permanent).")
    beta_risk: float = Field(100.0, description="Disutility per unit of monthly risk of persecution or detention.")
    beta_hostility: float = Field(1.0, description="Disutility of social hostility at 1.")
    beta_diaspora: float = Field(0.2, description="Utility per log(1 + thousands of compatriots) in a host.")
    beta_integration: float = Field(2.0, description="Utility of staying per unit of integration.")
    beta_family: float = Field(1.0, description="Utility of returning per unit of family ties in Russia.")
    beta_peer_return: float = Field(
        20.0, description="Utility of returning per unit of the peers' recent return rate (same host and category; "
        "see peer_memory and peer_min_persons)."
    )
    beta_peer_permit: float = Field(
        20.0, description="Utility of a host per unit of the peers' recent permit grant rate there (same category; "
        "see peer_memory and peer_min_persons)."
    )
    peer_memory: float = Field(
        0.75, ge=0.0, lt=1.0,
        description="Weight of the past in what peers see: each month the counts of peers' returns, permits "
        "and peers move 1 - peer_memory of the way to this month's (0: only last month counts).",
    )
    peer_min_persons: NonNegative = Field(
        3000.0,
        description="Peers' rates in a community (host and category) smaller than this many persons are "
        "computed as if it were this large: a handful of cases is not a trend.",
    )
    beta_draft: float = Field(3.0, description="Disutility of Russia for a draft-age man while mobilization is on.")
    move_cost: float = Field(1.0, description="Utility cost of any move between hosts.")
    return_constant: UtilityByCategory = Field(
        0.0, description="Alternative-specific constant of returning to Russia."
    )
    inertia: float = Field(1.0, description="Status quo bonus of staying where one is.")
    forced_stay_penalty: float = Field(
        3.0,
        description="Disutility of staying on when forced to decide because money ran out (status kept): the "
        "person stays in poverty. Staying without status costs the host's pressure.overstay_penalty instead.",
    )
    irregular_decide_monthly: bool = Field(
        True,
        description="People without legal status must decide every month they stay on (true), or only in the "
        "month they lose their status and then reconsider at decision_rate like everyone else (false).",
    )
    family_support_usd: NonNegative = Field(
        0.0,
        description="Monthly help, USD, from family in Russia to an emigrant whose cash runs low, at family ties "
        "1 (scaled by family_ties).",
    )
    min_cash_months: NonNegative = Field(
        1.0, description="Cash below this many months of living costs forces a decision (can't stay on)."
    )


class Event(Strict):
    """A dated change of policy: from `date` on, the fields in `set` take new values."""

    date: Month = Field(description="Month from which the change holds.")
    name: str = Field(description="What happened.")
    source: str = Field("", description="Where this is documented.")
    hosts: Names | None = Field(
        None, description="Hosts the change applies to (a code or a list); keys in `set` are then relative to each host."
    )
    groups: Names | None = Field(
        None, description="Host groups the change applies to, a name or a list (every host in any of them)."
    )
    set: dict[str, Any] = Field(
        description="Dotted field paths and their new values, e.g. {'entry.visa_free': false} "
        "(relative to each host when hosts or groups is given, else from the scenario root)."
    )


class Run(Strict):
    """The run's time span, resolution and seed."""

    start: Month = Field("2022-02", description="First simulated month.")
    months: int = Field(60, ge=1, le=600, description="Number of monthly steps.")
    scale: float = Field(
        100.0, ge=1.0, description="Persons per agent (1 = one agent per person). Outputs are in persons."
    )
    seed: int = Field(1, ge=0, le=SEED_MAX, description="Seed of all random streams (0 to 2**63 - 1).")
    cohort_month: Month = Field(
        "2023-07",
        description="Month whose emigrants abroad (at its end) form the cohort followed for 12 months by the "
        "metrics cohort_returned_12m and cohort_moved_on_12m (docs/metrics.md).",
    )


class Scenario(Strict):
    """A complete scenario: run, population, hosts, Russia, behaviour and timeline."""

    title: str = Field("", description="Short title shown in outputs.")
    description: str = Field("", description="The scenario's policy story.")
    run: Run = Field(default_factory=Run, description="Time span, scale and seed.")
    population: Population = Field(description="Outflow waves and attribute distributions.")
    hosts: dict[str, Host] = Field(
        min_length=1, max_length=250, description="Host countries keyed by a short code (ISO 3166); 1 to 250."
    )
    russia: Russia = Field(description="The origin country: risks, pulls and documents.")
    behaviour: Behaviour = Field(default_factory=Behaviour, description="Parameters of the stay / move / return choice.")
    integration: Integration = Field(default_factory=Integration, description="Parameters of integration and language growth.")
    timeline: list[Event] = Field(default_factory=list, max_length=1000, description="Dated policy changes (at most 1,000).")

    @field_validator("hosts")
    @classmethod
    def _codes(cls, v: dict[str, Host]) -> dict[str, Host]:
        for code in v:
            if code in ("ALL", "RU") or not re.fullmatch(r"[A-Z][A-Z0-9_]*", code):
                raise ValueError(
                    f"host code {code!r} must be upper-case letters/digits and not 'ALL' or 'RU'"
                )
        return v

    @property
    def host_codes(self) -> list[str]:
        """Host codes in file order (the order of every per-host array)."""
        return list(self.hosts)

    def end_month(self) -> str:
        """The last simulated month."""
        return month_name(month_number(self.run.start) + self.run.months - 1)
