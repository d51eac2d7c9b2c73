"""Scenario discovery with PRIM (Friedman and Fisher 1999), as the EMA workbench implements it.

Cases are runs (or, for an effect ``A-B``, pairs of runs at the same point and seed); a case is
"of interest" when its output meets the condition (``> 0.02``). PRIM peels the box of the
parameters' sampled values: at each step it removes, from the low or the high end of one
parameter, the ``peel_alpha`` share of the cases in the box, choosing the peel with the best
gain in density per case removed (the EMA workbench's default objective, LENIENT1; ties go to the
box with fewer restricted parameters), until the box would hold less than ``mass_min`` of the
cases. The peeling trajectory records every box's coverage (the share of all cases of interest
in it), density (the share of its cases that are of interest), mass and the number of restricted
parameters. The chosen box is the one of largest coverage with a density of at least
``threshold`` (else the densest). The significance of each of its limits is the EMA workbench's
quasi-p-value: a one-sided binomial test of the box's cases of interest against the density
of the box without that limit (``quasi_p_low``, ``quasi_p_high``). Pasting is not done. tests/analysis/test_discovery.py checks
the trajectory against the EMA workbench's on the same data when it is installed.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as st

from ..core.errors import InputError, Problem

CONDITIONS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def parse_condition(text: str) -> tuple[str, float]:
    """``"> 0.02"`` -> (">", 0.02); InputError for anything else."""
    text = text.strip()
    for op in (">=", "<=", ">", "<"):
        if text.startswith(op):
            try:
                return op, float(text[len(op):])
            except ValueError:
                break
    raise InputError([Problem("--where", f"expected a comparison such as '> 0.02' or '<= -0.01', found {text!r}")],
                     "argument")


def quantile(values: np.ndarray, q: float) -> float:
    """The EMA workbench's (and sdtoolkit's) quantile: ties are skipped, the value lies between two data."""
    data = np.sort(values)
    i = (len(data) - 1) * q
    lo, hi = math.floor(i), math.ceil(i)
    if q > 0.5:
        while data[lo] == data[hi] and lo > 0:
            lo -= 1
    else:
        while data[lo] == data[hi] and hi < len(data) - 1:
            hi += 1
    return float((data[lo] + data[hi]) / 2)


@dataclass
class PrimResult:
    """The peeling trajectory, every box's limits (low, high per step) and the chosen step."""

    trajectory: pd.DataFrame
    limits: list[pd.DataFrame]
    chosen: int
    names: list[str]

    def box(self, x: pd.DataFrame, y: np.ndarray, step: int | None = None) -> pd.DataFrame:
        """Limits of a box (default: the chosen one) with the quasi-p-value of each restricted limit."""
        step = self.chosen if step is None else step
        lims = self.limits[step]
        init = self.limits[0]
        inside = _in_box(x, lims)
        rows = []
        for name in self.names:
            row = {"parameter": name, "low": lims.at["low", name], "high": lims.at["high", name],
                   "sampled_low": init.at["low", name], "sampled_high": init.at["high", name]}
            for side in ("low", "high"):
                qp = math.nan
                if lims.at[side, name] != init.at[side, name]:
                    loose = lims.copy()
                    loose.at[side, name] = init.at[side, name]
                    p = float(y[_in_box(x, loose)].mean())
                    qp = float(st.binomtest(int(y[inside].sum()), int(inside.sum()), p, alternative="greater").pvalue)
                row[f"quasi_p_{side}"] = qp
            row["restricted"] = bool(np.isfinite([row["quasi_p_low"], row["quasi_p_high"]]).any())
            rows.append(row)
        return pd.DataFrame(rows)


def _in_box(x: pd.DataFrame, lims: pd.DataFrame) -> np.ndarray:
    arr = x.to_numpy(float)
    return np.all((arr >= lims.loc["low"].to_numpy(float)) & (arr <= lims.loc["high"].to_numpy(float)), axis=1)


def prim(x: pd.DataFrame, y: np.ndarray, *, peel_alpha: float = 0.05, mass_min: float = 0.05,
         threshold: float = 0.8) -> PrimResult:
    """Peel the box of `x` (numeric columns) towards the cases where `y` (booleans) is true."""
    y = np.asarray(y, dtype=float)
    arr = x.to_numpy(float)
    n, total = len(y), y.sum()
    if n == 0 or total == 0:
        raise InputError([Problem("--where", "no case meets the condition; PRIM needs cases of interest")], "argument")
    lims = pd.DataFrame([arr.min(axis=0), arr.max(axis=0)], index=["low", "high"], columns=list(x.columns))
    init = lims.copy()
    idx = np.arange(n)
    limits, steps = [lims.copy()], [_stats(y, idx, n, total, lims, init)]
    while True:
        best = None
        for j, name in enumerate(x.columns):
            xj = arr[idx, j]
            for side, q in (("high", 1 - peel_alpha), ("low", peel_alpha)):  # the EMA workbench's order
                cut = quantile(xj, q)
                keep = idx[xj >= cut] if side == "low" else idx[xj <= cut]
                obj = _lenient1(y[idx], y[keep])
                cand = lims.copy()
                cand.at[side, name] = cut
                score = (obj, len(x.columns) - _restricted(cand, init))
                if best is None or score > best[0]:
                    best = (score, keep, cand)
        (obj, _), keep, cand = best
        if not (len(keep) / n >= mass_min and len(keep) < len(idx) and obj > 0):
            break
        idx, lims = keep, cand
        limits.append(lims.copy())
        steps.append(_stats(y, idx, n, total, lims, init))
    traj = pd.DataFrame(steps).rename_axis("step").reset_index()
    dense = traj[traj["density"] >= threshold]
    chosen = int(dense.sort_values(["coverage", "step"], ascending=[False, True])["step"].iloc[0]) if len(dense) \
        else int(traj["density"].idxmax())
    return PrimResult(traj, limits, chosen, list(x.columns))


def _lenient1(y_old: np.ndarray, y_new: np.ndarray) -> float:
    mean_old = y_old.mean()
    mean_new = y_new.mean() if len(y_new) else 0.0
    if mean_old == mean_new or len(y_old) == len(y_new):
        return 0.0
    return float((mean_new - mean_old) / abs(len(y_old) - len(y_new)))


def _restricted(lims: pd.DataFrame, init: pd.DataFrame) -> int:
    return int(((lims.loc["low"] > init.loc["low"]) | (lims.loc["high"] < init.loc["high"])).sum())


def _stats(y: np.ndarray, idx: np.ndarray, n: int, total: float, lims: pd.DataFrame, init: pd.DataFrame) -> dict:
    hits = y[idx].sum()
    return {"coverage": hits / total, "density": hits / len(idx), "mass": len(idx) / n, "cases": len(idx),
            "cases_of_interest": int(hits), "restricted": _restricted(lims, init)}


def cart(x: pd.DataFrame, y: np.ndarray, *, max_depth: int = 3, min_leaf: float = 0.05) -> tuple[str, pd.DataFrame]:
    """A classification tree (scikit-learn, optional) of the cases of interest: its text and its leaves
    (box limits, cases, density, coverage), densest first. InputError when scikit-learn is missing.
    """
    try:
        from sklearn.tree import DecisionTreeClassifier, export_text  # noqa: PLC0415 - optional dependency
    except ImportError:
        raise InputError([Problem("--cart", "CART needs scikit-learn: pip install scikit-learn")], "argument") from None
    y = np.asarray(y, dtype=bool)
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(1, int(min_leaf * len(y))),
                                  class_weight="balanced", random_state=0)  # rare cases of interest still split
    tree.fit(x.to_numpy(float), y)
    t, leaves = tree.tree_, []
    stack = [(0, {c: [float(x[c].min()), float(x[c].max())] for c in x.columns})]
    while stack:
        node, box = stack.pop()
        if t.children_left[node] < 0:
            inside = _in_box(x, pd.DataFrame({c: box[c] for c in x.columns}, index=["low", "high"]))
            hits = int(y[inside].sum())
            leaves.append({**{f"{c}_{side}": box[c][k] for c in x.columns for k, side in enumerate(("low", "high"))},
                           "cases": int(inside.sum()), "density": hits / max(1, int(inside.sum())),
                           "coverage": hits / max(1, int(y.sum()))})
            continue
        name, cut = x.columns[t.feature[node]], float(t.threshold[node])
        left = {c: list(v) for c, v in box.items()}
        right = {c: list(v) for c, v in box.items()}
        left[name][1], right[name][0] = min(left[name][1], cut), max(right[name][0], np.nextafter(cut, np.inf))
        stack += [(t.children_right[node], right), (t.children_left[node], left)]
    table = pd.DataFrame(leaves).sort_values("density", ascending=False, ignore_index=True)
    return export_text(tree, feature_names=list(x.columns)), table


__all__ = ["CONDITIONS", "PrimResult", "cart", "parse_condition", "prim", "quantile"]
