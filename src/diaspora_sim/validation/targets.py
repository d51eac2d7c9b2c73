"""Observed patterns to calibrate and validate against, and the model's value for each.

The targets are kept in ``data/targets.yaml`` (see docs/ODD.md, section 1, for the patterns
and docs/metrics.md for the outputs they are compared with). Each target states what was
observed (a value and/or a range, its unit, source and reliability) and how the model's
monthly outputs map to it: a metric of the tidy time series (``outputs.timeseries_table``) at
a location and category, aggregated over months (the value at a month, a sum of a flow over a
period, the change of a stock over a period, a maximum, minimum or mean), optionally divided
by a second such quantity. A fact that no model output measures has ``mapping: null`` and
says why.

Months are written ``YYYY-MM`` and refer to the model's monthly rows: the row of a month holds
the state at the *end* of that month and the flows *during* it. The model's value of each
target is computed by :mod:`.values`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from ..core.errors import InputError, pydantic_problems
from ..core.safe_yaml import file_locator, read_yaml
from ..model.metrics import METRICS, RATES
from ..scenario.schema import CATEGORIES, Month, Scenario, Strict, month_name, month_number

DEFAULT_PATH = Path(__file__).resolve().parents[3] / "data" / "targets.yaml"
"""``data/targets.yaml`` of a source checkout (the file is not installed with the package)."""

TARGETS = "targets file"

LOCATIONS = ("ALL", "RU")
"""Location codes every run has besides its hosts: ``ALL`` (sum over hosts) and ``RU`` (returnees)."""

ALL_ONLY = ("ever_left", "return_rate", "integration_rate", "it_specialists_in_russia", "cohort_returned_12m",
            "cohort_moved_on_12m")
"""Metrics that exist only at location ``ALL`` (docs/metrics.md, section 5)."""

Aggregation = Literal["value_at", "sum", "change", "max", "min", "mean"]


class Quantity(Strict):
    """One number computed from a model's monthly outputs."""

    metric: str = Field(description="Output metric (a name in metrics.METRICS; definitions in docs/metrics.md).")
    host: str | list[str] = Field(
        description="Location: a host code of the scenario, 'ALL' (sum over hosts) or 'RU' (returnees in "
        "Russia); or a list of host codes, whose values are summed."
    )
    category: str = Field("ALL", description="Emigrant category, or 'ALL' (sum over categories).")
    aggregation: Aggregation = Field(
        description="How months are combined: 'value_at' (the value at `date`), 'sum' (sum over the "
        "months start..end, for flows), 'change' (value at `end` minus value at `start`, for stocks), "
        "'max', 'min' or 'mean' over start..end."
    )
    date: Month | None = Field(None, description="Month of a 'value_at' aggregation, 'YYYY-MM' (end of that month).")
    start: Month | None = Field(None, description="First month of the period, 'YYYY-MM' (all aggregations but 'value_at').")
    end: Month | None = Field(None, description="Last month of the period, 'YYYY-MM', inclusive.")

    @model_validator(mode="after")
    def _consistent(self) -> Quantity:
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}")
        if self.category not in (*CATEGORIES, "ALL"):
            raise ValueError(f"unknown category {self.category!r}; expected one of {[*CATEGORIES, 'ALL']}")
        if isinstance(self.host, list):
            if not self.host or len(set(self.host)) != len(self.host):
                raise ValueError("a host list must be non-empty without repeats")
            if set(self.host) & set(LOCATIONS):
                raise ValueError("a host list may hold host codes only (not 'ALL' or 'RU')")
            if self.metric in RATES:
                raise ValueError(f"{self.metric!r} is a rate: it cannot be summed over hosts")
        if self.aggregation == "value_at":
            if self.date is None or self.start is not None or self.end is not None:
                raise ValueError("'value_at' needs `date` and no `start`/`end`")
        else:
            if self.date is not None or self.start is None or self.end is None:
                raise ValueError(f"{self.aggregation!r} needs `start` and `end` and no `date`")
            if month_number(self.end) < month_number(self.start):
                raise ValueError(f"end ({self.end}) is before start ({self.start})")
        if self.aggregation in ("sum", "change") and self.metric in RATES:
            raise ValueError(f"{self.metric!r} is a rate: {self.aggregation!r} is meaningless for it")
        return self

    def months(self) -> list[str]:
        """The months the quantity reads, 'YYYY-MM', in order."""
        if self.aggregation == "value_at":
            return [self.date]  # type: ignore[list-item]
        first, last = month_number(self.start), month_number(self.end)  # type: ignore[arg-type]
        return [month_name(m) for m in range(first, last + 1)]

    def hosts(self) -> list[str]:
        """The location codes read (one, or the hosts of a list)."""
        return list(self.host) if isinstance(self.host, list) else [self.host]


class TargetMapping(Quantity):
    """How the model's outputs map to an observed fact: a quantity, or the ratio of two."""

    denominator: Quantity | None = Field(
        None, description="If given, the model value is the quantity above divided by this one (a share)."
    )
    note: str = Field("", description="Caveats of the mapping: what differs between the observed and the model quantity.")


class Observed(Strict):
    """What was observed: a point value and/or a range or bound."""

    value: float | None = Field(None, description="Point estimate as published (persons or share).")
    low: float | None = Field(None, description="Lower end of the published range, or a published lower bound.")
    high: float | None = Field(None, description="Upper end of the published range, or a published upper bound.")
    low_exclusive: bool = Field(False, description="The model value must be strictly above `low` ('more than').")
    high_exclusive: bool = Field(False, description="The model value must be strictly below `high` ('less than').")
    as_published: str = Field(description="The fact in the words of the source, with its date.")

    @model_validator(mode="after")
    def _ordered(self) -> Observed:
        if self.value is None and self.low is None and self.high is None:
            if not self.as_published.strip():
                raise ValueError("give a value, a range or at least the published wording")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low ({self.low}) is above high ({self.high})")
        if self.value is not None:
            if self.low is not None and self.value < self.low:
                raise ValueError(f"value ({self.value}) is below low ({self.low})")
            if self.high is not None and self.value > self.high:
                raise ValueError(f"value ({self.value}) is above high ({self.high})")
        return self

    def contains(self, x: float) -> bool | None:
        """Whether `x` lies in the range or bounds (None when only a point value was published)."""
        if self.low is None and self.high is None:
            return None
        if self.low is not None and (x <= self.low if self.low_exclusive else x < self.low):
            return False
        if self.high is not None and (x >= self.high if self.high_exclusive else x > self.high):
            return False
        return True


class Reliability(Strict):
    """How far the observed number can be trusted as a target for this model."""

    level: Literal["high", "medium", "low"] = Field(description="high, medium or low.")
    reason: str = Field(min_length=1, description="Why: the kind of source, the definition, and its fit to the model quantity.")


class Target(Strict):
    """One observed pattern and the model quantity it is compared with."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Unique identifier (lower case, digits, underscores).")
    description: str = Field(min_length=1, description="What is measured, in words.")
    observed: Observed = Field(description="The observed value and/or range.")
    unit: Literal["persons", "share", "years", "persons per day"] = Field(
        description="Unit of the observed value (and of the model value: persons or share for a mapped target)."
    )
    source: str = Field(
        min_length=1, description="Citation (as in MODEL.md or the seed file), with the primary source where known."
    )
    reliability: Reliability = Field(description="Reliability of the fact as a target, with the reason.")
    holdout: bool = Field(False, description="Kept out of calibration, to test the calibrated model.")
    period: Literal["in_sample", "out_of_time"] = Field(
        "in_sample",
        description="in_sample: observed up to 2023-09 (the span of the original targets); out_of_time: observed "
        "later, to test a model calibrated on earlier facts. validate reports the ARD of each apart.",
    )
    contested: bool = Field(
        False,
        description="A claim the facts mark contested (grade C): never fitted, never in an ARD; validate shows the "
        "model beside it.",
    )
    mapping: TargetMapping | None = Field(description="How the model's outputs map to the fact; null when no output measures it.")
    unmapped_reason: str | None = Field(None, description="Why the fact cannot be mapped (required when mapping is null).")

    @model_validator(mode="after")
    def _mapped_or_explained(self) -> Target:
        if self.mapping is None:
            if not (self.unmapped_reason or "").strip():
                raise ValueError("mapping is null: give unmapped_reason")
            if self.holdout:
                raise ValueError("an unmapped target cannot be a holdout")
            return self
        if self.contested and self.holdout:
            raise ValueError("a contested claim is never fitted: it cannot be a holdout")
        if self.unmapped_reason is not None:
            raise ValueError("unmapped_reason is only for targets with mapping: null")
        share = self.mapping.denominator is not None or self.mapping.metric in RATES
        if share != (self.unit == "share"):
            raise ValueError(f"unit is {self.unit!r} but the mapping gives {'a share' if share else 'persons'}")
        return self


class TargetsFile(Strict):
    """The contents of data/targets.yaml."""

    title: str = Field(description="Short title.")
    description: str = Field(description="What the file holds and its conventions.")
    baseline: str = Field(
        description="Scenario file (relative to the repository) whose hosts and run the mappings were checked against."
    )
    targets: list[Target] = Field(min_length=1, description="The targets.")

    @model_validator(mode="after")
    def _unique(self) -> TargetsFile:
        seen: set[str] = set()
        for t in self.targets:
            if t.id in seen:
                raise ValueError(f"duplicate target id {t.id!r}")
            seen.add(t.id)
        return self

    def mapped(self) -> list[Target]:
        """The targets with a mapping."""
        return [t for t in self.targets if t.mapping is not None]

    def fitted(self) -> list[Target]:
        """The mapped targets that may enter a calibration distance (contested claims never do)."""
        return [t for t in self.mapped() if not t.contested]

    def by_id(self, target_id: str) -> Target:
        """The target with this id."""
        for t in self.targets:
            if t.id == target_id:
                return t
        raise KeyError(target_id)


def load_targets(path: str | Path = DEFAULT_PATH) -> TargetsFile:
    """Read and validate a targets file (safe YAML: no tags that build Python objects)."""
    data, node = read_yaml(Path(path), TARGETS, empty_ok=False)
    try:
        return TargetsFile.model_validate(data)
    except ValidationError as exc:
        raise InputError(pydantic_problems(exc, TargetsFile, file_locator(path, node)), TARGETS) from None


def check_targets(targets: TargetsFile, scenario: Scenario) -> list[str]:
    """Problems of the mappings against a scenario: unknown hosts, months outside its run, and
    metrics read at locations or categories where they do not exist. Empty when all is well.
    """
    problems = []
    codes = set(scenario.host_codes)
    first, last = month_number(scenario.run.start), month_number(scenario.end_month())
    for t in targets.mapped():
        for where, q in zip(("mapping", "mapping.denominator"), quantities(t), strict=False):
            tag = f"{t.id}: {where}"
            for h in q.hosts():
                if h not in codes and h not in LOCATIONS:
                    problems.append(f"{tag}: host {h!r} is not in the scenario")
            for m in q.months():
                if not first <= month_number(m) <= last:
                    problems.append(
                        f"{tag}: month {m} is outside the run ({scenario.run.start}..{scenario.end_month()})"
                    )
            if q.metric in ALL_ONLY and q.hosts() != ["ALL"]:
                problems.append(f"{tag}: {q.metric!r} exists only at host 'ALL'")
            if q.metric == "it_specialists_in_russia" and q.category != "ALL":
                problems.append(f"{tag}: 'it_specialists_in_russia' exists only for category 'ALL'")
            if q.metric == "integrated_share" and "RU" in q.hosts():
                problems.append(f"{tag}: 'integrated_share' does not exist at 'RU'")
    return problems


def target_set(t: Target) -> str:
    """The set a target is reported in: 'contested', 'holdout', 'out-of-time' or 'in-sample'."""
    if t.contested:
        return "contested"
    if t.holdout:
        return "holdout"
    return "out-of-time" if t.period == "out_of_time" else "in-sample"


def quantities(t: Target) -> list[Quantity]:
    """The quantities a target's mapping reads: the mapping, and its denominator if any."""
    m = t.mapping
    return [] if m is None else [m] + ([m.denominator] if m.denominator is not None else [])


def metrics_of(targets: list[Target]) -> set[str]:
    """The metrics the targets' mappings read."""
    return {q.metric for t in targets for q in quantities(t)}


def last_month(targets: list[Target]) -> str:
    """The last month any of the targets reads."""
    return month_name(max(month_number(m) for t in targets for q in quantities(t) for m in q.months()))


def default_scenario(targets_file: str | Path = DEFAULT_PATH) -> Path:
    """The scenario a targets file names as its baseline (relative to the repository)."""
    return Path(targets_file).resolve().parents[1] / load_targets(targets_file).baseline


__all__ = [
    "DEFAULT_PATH",
    "Observed",
    "Quantity",
    "Reliability",
    "Target",
    "TargetMapping",
    "TargetsFile",
    "check_targets",
    "default_scenario",
    "last_month",
    "load_targets",
    "metrics_of",
    "quantities",
]
