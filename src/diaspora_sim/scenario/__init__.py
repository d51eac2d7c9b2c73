"""The scenario layer: the schema of scenario files, loading with `extends` and `--set`, the timeline."""

from .loading import json_schema, load_scenario, to_yaml, validate, with_run
from .schema import CATEGORIES, Scenario, month_name, month_number

__all__ = ["CATEGORIES", "Scenario", "json_schema", "load_scenario", "month_name", "month_number", "to_yaml",
           "validate", "with_run"]
