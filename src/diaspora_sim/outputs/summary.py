"""The end-of-run summary of a run (`summary.json`) and the names of its figures."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..model.model import DiasporaModel
from ..scenario.schema import CATEGORIES, month_name
from .columns import SUMMARY_BY_CATEGORY, SUMMARY_FIELDS, SUMMARY_RATES


def summary(model: DiasporaModel) -> dict[str, Any]:
    """End-of-run headline figures (definitions in docs/metrics.md)."""
    rec, H = model.recorder, model.n_hosts
    t = model.month - 1
    C = len(CATEGORIES)

    def at(metric: str, host: int, cat: int) -> float | None:
        v = float(rec.data[metric][t, host, cat])
        return None if np.isnan(v) else round(v, 10)

    return {
        "title": model.config.title,
        "date": month_name(model.start + t),
        "seed": model.seed,
        "scale": model.config.run.scale,
        "return_rate": at("return_rate", H + 1, C),
        "integration_rate": at("integration_rate", H + 1, C),
        "ever_left": at("ever_left", H + 1, C),
        "stock_abroad": at("stock", H + 1, C),
        "in_russia": at("stock", H, C),
        "it_specialists_in_russia": at("it_specialists_in_russia", H + 1, C),
        "without_status": at("without_status", H + 1, C),
        "without_documents": at("without_documents", H + 1, C),
        "by_category": {
            cat: {name: at(name, H + 1, c) for name in SUMMARY_BY_CATEGORY}
            for c, cat in enumerate(CATEGORIES)
        },
        "stock_by_host": {code: at("stock", h, C) for h, code in enumerate(model.host_codes)},
    }


__all__ = ["SUMMARY_BY_CATEGORY", "SUMMARY_FIELDS", "SUMMARY_RATES", "summary"]
