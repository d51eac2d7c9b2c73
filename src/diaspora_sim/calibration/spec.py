"""The calibration parameter file: its schema, loading, and the command line's changes to it.

A parameter file (``calibration/*.yaml``, schema :class:`CalibrationFile`) declares the
parameters to fit, each by its dotted scenario path(s) as for ``--set`` and with a uniform prior
``[low, high]``, the settings of the approximate Bayesian computation (:class:`ABCSettings`) and
the targets of the distance. :func:`load_params` reads and schema-validates it; the paths are
checked against a scenario by :func:`.setup.prepare`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from ..core.errors import InputError, Problem, pydantic_problems
from ..core.safe_yaml import file_locator, read_yaml
from ..experiments.spec import path_or_paths
from ..scenario.schema import Strict

CALIBRATION = "calibration parameters"


class Prior(Strict):
    """A prior distribution (uniform; `[low, high]` is accepted as shorthand)."""

    distribution: Literal["uniform"] = Field("uniform", description="Only `uniform` (flat between low and high).")
    low: float = Field(description="Lower end of the prior range.")
    high: float = Field(description="Upper end of the prior range (above low).")

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, data: Any) -> Any:
        if isinstance(data, list | tuple):
            if len(data) != 2:
                raise ValueError(f"a prior range is [low, high], found {list(data)}")
            return {"low": data[0], "high": data[1]}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> Prior:
        if not self.low < self.high:
            raise ValueError(f"the prior range must have low < high, found [{self.low}, {self.high}]")
        return self


class CalibratedParameter(Strict):
    """A parameter to fit: one value written to one or more scenario paths."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Name in the posterior tables (lower case, digits, _).")
    paths: list[str] = Field(
        min_length=1,
        description="Dotted scenario paths that all receive the value, as for `--set` (`path:` for one). "
        "`hosts.@GROUP.rest` means every host of the group; `X.default` sets the value of the categories the "
        "scenario does not list under X. Timeline events cannot be calibrated.",
    )
    prior: Prior = Field(description="Prior distribution: `[low, high]` (uniform) or {distribution, low, high}.")
    description: str = Field("", description="What the parameter means and why its prior range.")
    moves: list[str] = Field(
        default_factory=list, description="Target ids the parameter was seen to move (documentation; checked to exist)."
    )

    @model_validator(mode="before")
    @classmethod
    def _path_alias(cls, data: Any) -> Any:
        return path_or_paths(data)


class ABCSettings(Strict):
    """Settings of the ABC-SMC sampler and of the runs it makes."""

    particles: int = Field(100, ge=4, le=100_000, description="Particles of each generation (the posterior sample size).")
    generations: int = Field(6, ge=1, le=100, description="Most generations (the first samples the prior).")
    quantile: float = Field(
        0.5, gt=0.0, lt=1.0, description="Tolerance of a generation: this quantile of the previous generation's distances."
    )
    max_simulations: int = Field(
        4000, ge=1, description="Most parameter vectors simulated in all (each with `replicates` runs); the last "
        "complete generation is the posterior when the budget runs out."
    )
    min_acceptance: float = Field(
        0.02, ge=0.0, lt=1.0, description="Stop after a generation whose acceptance rate fell below this."
    )
    replicates: int = Field(2, ge=1, le=50, description="Runs per parameter vector (seeds base_seed, base_seed + 1, ...).")
    base_seed: int = Field(1, ge=0, le=2**63 - 51, description="Seed of the first run of every parameter vector.")
    scale: float | None = Field(300.0, ge=1.0, description="Persons per agent in the runs (null: the scenario's).")
    months: int | None = Field(
        None, ge=1, le=600, description="Months simulated (null: up to the last month an in-sample target reads)."
    )
    distance: Literal["log_ratio", "relative"] = Field(
        "log_ratio", description="Discrepancy per target: |ln(model / observed)| or |model - observed| / observed."
    )
    kernel_scale: float = Field(2.0, gt=0.0, description="Perturbation covariance = this times the weighted covariance.")
    seed: int = Field(1, ge=0, le=2**63 - 1,
                      description="Seed of the sampler's random numbers (prior draws, resampling, perturbation).")


class TargetSelection(Strict):
    """Which targets the distance uses."""

    file: str | None = Field(None, description="Targets file, relative to this file (default: data/targets.yaml).")
    exclude: list[str] = Field(
        default_factory=list, description="In-sample target ids left out of the distance (holdouts are always left out)."
    )


class CalibrationFile(Strict):
    """A calibration parameter file."""

    title: str = Field("", description="Short title.")
    description: str = Field("", description="What is calibrated and why these parameters.")
    parameters: list[CalibratedParameter] = Field(min_length=1, description="The parameters to fit.")
    abc: ABCSettings = Field(default_factory=ABCSettings, description="Sampler settings and run settings.")
    targets: TargetSelection = Field(default_factory=TargetSelection, description="Targets of the distance.")

    @field_validator("parameters")
    @classmethod
    def _unique(cls, v: list[CalibratedParameter]) -> list[CalibratedParameter]:
        names = [p.name for p in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"parameter names must be unique; repeated: {', '.join(dup)}")
        return v


def load_params(path: str | Path) -> tuple[CalibrationFile, yaml.Node | None]:
    """Read and schema-validate a parameter file; the file's contents and its YAML node tree (for lines)."""
    path = Path(path)
    data, node = read_yaml(path, CALIBRATION, empty_ok=False)
    try:
        return CalibrationFile.model_validate(data), node
    except ValidationError as exc:
        raise InputError(pydantic_problems(exc, CalibrationFile, file_locator(path, node)), CALIBRATION) from None


def with_overrides(cfg: CalibrationFile, overrides: dict[str, Any] | None) -> CalibrationFile:
    """The file with `abc` settings replaced (the command line's --particles, --scale, ...), checked."""
    if not overrides:
        return cfg
    try:
        abc = ABCSettings.model_validate({**cfg.abc.model_dump(), **overrides})
    except ValidationError as exc:
        raise InputError([Problem(f"abc.{'.'.join(map(str, e['loc']))}", f"{e['msg']} (found {e.get('input')!r})",
                                  "command line") for e in exc.errors(include_url=False)]) from None
    return cfg.model_copy(update={"abc": abc})


def with_targets(cfg: CalibrationFile, exclude: list[str] | None, include: list[str] | None) -> CalibrationFile:
    """The file with `exclude` target ids added to `targets.exclude` (--exclude-target) and `include`
    removed from it (--include-target, which must name targets the file excludes). The ids the
    file excludes come first, those added after.
    """
    unknown = [t for t in include or [] if t not in cfg.targets.exclude]
    if unknown:
        raise InputError([Problem("--include-target", f"{t!r} is not excluded by the parameter file (targets.exclude: "
                                  f"{', '.join(cfg.targets.exclude) or 'none'})", "command line") for t in unknown])
    extra = [t for t in exclude or [] if t not in cfg.targets.exclude]
    kept = [t for t in cfg.targets.exclude if t not in (include or [])]
    if not (extra or include):
        return cfg
    return cfg.model_copy(update={"targets": cfg.targets.model_copy(update={"exclude": [*kept, *extra]})})


__all__ = ["ABCSettings", "CALIBRATION", "CalibratedParameter", "CalibrationFile", "Prior", "TargetSelection",
           "load_params", "with_overrides", "with_targets"]
