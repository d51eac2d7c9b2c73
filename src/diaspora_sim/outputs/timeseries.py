"""The tidy time series of a run: one row per month, location, category and metric."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from ..model.metrics import METRICS
from ..model.model import DiasporaModel
from ..scenario.schema import CATEGORIES, month_name

TIDY_COLUMNS = ("date", "host", "category", "metric", "value")
"""The columns of the tidy time series, in order."""


def timeseries_table(
    model: DiasporaModel,
    *,
    metrics: Sequence[str] | None = None,
    hosts: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
) -> pa.Table:
    """The model's metrics in tidy form: date, host, category, metric, value (NaN cells left out).

    `metrics`, `hosts` and `categories` keep only those rows (None: all); the rows kept are
    those of the full table, in the same order.
    """
    rec = model.recorder
    _, n_loc, n_cat = rec.data["stock"].shape
    months = model.month  # only the months simulated
    host_names = np.array([*model.host_codes, "RU", "ALL"])
    cats = np.array([*CATEGORIES, "ALL"])
    dates = np.array(
        [np.datetime64(month_name(model.start + t) + "-01", "D") for t in range(months)]
    )
    t_idx, h_idx, c_idx = np.meshgrid(np.arange(months), np.arange(n_loc), np.arange(n_cat), indexing="ij")
    t_idx, h_idx, c_idx = t_idx.ravel(), h_idx.ravel(), c_idx.ravel()
    cell = np.ones(t_idx.shape, bool)
    if hosts is not None:
        cell &= np.isin(host_names, list(hosts))[h_idx]
    if categories is not None:
        cell &= np.isin(cats, list(categories))[c_idx]
    columns: dict[str, list[np.ndarray]] = {k: [] for k in ("date", "host", "category", "metric", "value")}
    for name in METRICS if metrics is None else [m for m in METRICS if m in set(metrics)]:
        values = rec.data[name][:months].ravel()
        keep = ~np.isnan(values) & cell
        columns["date"].append(dates[t_idx[keep]])
        columns["host"].append(host_names[h_idx[keep]])
        columns["category"].append(cats[c_idx[keep]])
        columns["metric"].append(np.full(int(keep.sum()), name))
        columns["value"].append(values[keep])
    return pa.table(
        {
            "date": pa.array(np.concatenate(columns["date"]), pa.date32()),
            "host": pa.array(np.concatenate(columns["host"])).dictionary_encode(),
            "category": pa.array(np.concatenate(columns["category"])).dictionary_encode(),
            "metric": pa.array(np.concatenate(columns["metric"])).dictionary_encode(),
            "value": pa.array(np.concatenate(columns["value"]), pa.float64()),
        }
    )


__all__ = ["TIDY_COLUMNS", "timeseries_table"]
