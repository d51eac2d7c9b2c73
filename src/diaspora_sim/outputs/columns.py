"""The names of the columns of the results tables (no model needed to know them).

A run's tidy time series has the columns ``date, host, category, metric, value``; an
experiment's tables add the identifying columns of a run and its parameters; a run's summary
row has the end-of-run figures (:mod:`.summary`) as columns. A parameter of an experiment must
not be named like any of them (:data:`RESERVED_COLUMNS`).
"""

from __future__ import annotations

from ..scenario.schema import CATEGORIES

SUMMARY_RATES = ("return_rate", "integration_rate")
"""The two headline rates (docs/metrics.md)."""
SUMMARY_FIELDS = (
    "return_rate", "integration_rate", "ever_left", "stock_abroad", "in_russia",
    "it_specialists_in_russia", "without_status", "without_documents",
)
"""End-of-run figures of :func:`.summary.summary` kept as columns of an experiment's summary table."""
SUMMARY_BY_CATEGORY = (*SUMMARY_RATES, "ever_left")
"""Figures of :func:`.summary.summary` given per category (`by_category`)."""
RUN_COLUMNS = ("run_id", "scenario", "point", "replicate", "seed")
"""Columns that identify a run in every results file (the parameter columns follow `point`)."""
TIDY_COLUMNS = ("date", "host", "category", "metric", "value")
"""Columns of the tidy time series."""
SUMMARY_COLUMNS = (*SUMMARY_FIELDS, *(f"{key}_{cat}" for cat in CATEGORIES for key in SUMMARY_BY_CATEGORY))
"""The figures of a summary row (after its identifying columns and `date`)."""
RESERVED_COLUMNS = frozenset((*RUN_COLUMNS, *TIDY_COLUMNS, *SUMMARY_COLUMNS))
"""Every column name of the results tables that is not a parameter's."""

__all__ = ["RESERVED_COLUMNS", "RUN_COLUMNS", "SUMMARY_BY_CATEGORY", "SUMMARY_COLUMNS", "SUMMARY_FIELDS",
           "SUMMARY_RATES", "TIDY_COLUMNS"]
